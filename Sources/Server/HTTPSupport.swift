import FoundationEssentials
import HTTPTypes
import Hummingbird
import Layout
import MediaCore
import Rooms
import NIOCore

/// Bearer token on every request when one is configured (compared in constant time), and CORS so a page on
/// another origin can publish.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.method == .options {
            response = Response(status: .noContent)
        } else if let token, !AccessMiddleware.isPublic(request), !AccessMiddleware.authorized(request.headers[.authorization], token: token) {
            response = problem(.unauthorized, "missing or wrong bearer token")
            response.headers[.wwwAuthenticate] = "Bearer"
        } else {
            do { response = try await next(request, context) } catch let error as RoomError {
                response = problem(HTTPResponse.Status(code: AccessMiddleware.status(of: error.kind)), error.reason, field: error.field)
            } catch let error as HTTPError {
                response = problem(error.status, error.body ?? error.status.reasonPhrase)
            }
        }
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.accessControlAllowMethods] = "GET, POST, PATCH, DELETE, OPTIONS"
        response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
        response.headers[.accessControlExposeHeaders] = "Location"
        return response
    }

    static func status(of kind: RoomError.Kind) -> Int {
        switch kind {
        case .invalid: 400
        case .notFound: 404
        case .conflict: 409
        case .unavailable: 503
        case .failed: 500
        case .badGateway: 502
        case .forbidden: 403
        }
    }

    /// The pages themselves carry no secret (they ask for the token, or take it from their URL's `?token=`, and send
    /// it with every API call): the control page, and a room's join page (a browser asking for HTML).
    static func isPublic(_ request: Request) -> Bool {
        guard request.method == .get else { return false }
        let path = request.uri.path
        if path == "/" || path == "/healthz" { return true }
        // A signed link carries its own proof (the route checks it: 403 when it does not hold).
        if path.hasPrefix("/recordings/"), path.contains("/files/"), request.uri.queryParameters["signature"] != nil { return true }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[1] == "rooms" && JoinPage.isWanted(by: request)
    }

    static func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst(7).utf8), expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for i in 0..<max(given.count, expected.count) {
            difference |= (i < given.count ? given[i] : 0) ^ (i < expected.count ? expected[i] : 0)
        }
        return difference == 0
    }
}

func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// An RFC 9457 problem document; `field` names the JSON field a 400 is about.
func problem(_ status: HTTPResponse.Status, _ detail: String, field: String? = nil) -> Response {
    let titles = [400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
                  415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable"]
    let title = status.reasonPhrase.isEmpty ? titles[status.code] ?? "Error \(status.code)" : status.reasonPhrase
    let body = ProblemBody(title: title, status: status.code, detail: detail, field: field)
    return encoded(body, status: status, type: "application/problem+json")
}

/// `body` as JSON.
func json(_ body: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    encoded(body, status: status, headers: headers, type: "application/json")
}

private func encoded(_ body: some Encodable, status: HTTPResponse.Status, headers: HTTPFields = [:], type: String) -> Response {
    var headers = headers
    headers[.contentType] = type
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    // Encoding these plain value types cannot fail; were it to, the client still gets a well-formed answer.
    let bytes = (try? encoder.encode(body)) ?? Data(#"{"title":"Internal Server Error","status":500}"#.utf8)
    var buffer = ByteBuffer(bytes: bytes)
    buffer.writeString("\n")
    return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
}

/// A request's body: 415 unless its content type starts with `type`, 413 past `limit`.
func body(_ request: Request, type: String, limit: Int, what: String = "the body") async throws -> ByteBuffer {
    guard request.headers[.contentType]?.lowercased().hasPrefix(type) == true else {
        throw HTTPError(.unsupportedMediaType, message: "\(what) must be \(type)")
    }
    var request = request
    do { return try await request.collectBody(upTo: limit) } catch {
        throw HTTPError(.contentTooLarge, message: "\(what) is limited to \(limit) bytes")
    }
}

/// The bytes of a JSON request: 415 unless it says `application/json`, 413 past `limit`, 400 unless the strict
/// parser reads them (syntax errors with their position, duplicate keys); the callers decode them into types.
func jsonBody(_ request: Request, limit: Int) async throws -> [UInt8] {
    let bytes = Array(try await body(request, type: "application/json", limit: limit).readableBytesView)
    do { _ = try JSONParser.parse(bytes); return bytes } catch {
        throw RoomError(.invalid, "not valid JSON: \(error.description)")
    }
}

