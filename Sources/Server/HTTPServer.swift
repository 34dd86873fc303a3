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
        }
    }

    /// The pages themselves carry no secret (they ask for the token and send it with every API call).
    static func isPublic(_ request: Request) -> Bool {
        request.method == .get && (request.uri.path == "/" || request.uri.path == "/healthz")
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
    var fields: [(String, JSONValue)] = [("type", .string("about:blank")), ("title", .string(title)),
                                         ("status", .number(Double(status.code))), ("detail", .string(detail))]
    if let field { fields.append(("field", .string(field))) }
    return Response(status: status, headers: [.contentType: "application/problem+json"],
                    body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(fields).serialized + "\n")))
}

func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.serialized + "\n")))
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

/// The body of a JSON request: 415 unless it says `application/json`, 413 past `limit`, 400 unless it parses.
func jsonBody(_ request: Request, limit: Int) async throws -> (bytes: [UInt8], value: JSONValue) {
    let bytes = Array(try await body(request, type: "application/json", limit: limit).readableBytesView)
    do { return (bytes, try JSONParser.parse(bytes)) } catch {
        throw RoomError(.invalid, "not valid JSON: \(error.description)")
    }
}

/// A JSON object's fields taken one by one; what is left is an unknown field (400 naming it).
struct RequestFields {
    private var entries: [(String, JSONValue)]
    init(_ value: JSONValue) throws {
        guard case let .object(entries) = value else { throw RoomError(.invalid, "the body must be a JSON object") }
        self.entries = entries
    }
    mutating func take(_ key: String) -> JSONValue? {
        guard let i = entries.firstIndex(where: { $0.0 == key }) else { return nil }
        return entries.remove(at: i).1
    }
    mutating func string(_ key: String, max: Int, allowEmpty: Bool = false) throws -> String? {
        guard let value = take(key) else { return nil }
        guard case let .string(s) = value, s.count <= max, allowEmpty || !s.isEmpty else {
            throw RoomError(.invalid, "must be a string of \(allowEmpty ? 0 : 1)-\(max) characters", field: key)
        }
        return s
    }
    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = take(key) else { return nil }
        guard case let .bool(b) = value else { throw RoomError(.invalid, "must be true or false", field: key) }
        return b
    }
    mutating func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = take(key) else { return nil }
        guard case let .number(n) = value, range.contains(n) else {
            throw RoomError(.invalid, "must be a number from \(range.lowerBound) to \(range.upperBound)", field: key)
        }
        return n
    }
    func finish() throws {
        if let (key, _) = entries.first { throw RoomError(.invalid, "unknown field", field: key) }
    }
}

/// The HTTP side: WHIP (RFC 9725) and the join page.
public enum HTTPServer {
    public static let maxOfferBytes = 64 * 1024
    /// A layout sent through the API (the largest preset is under 2 KiB; files given to the CLI may be larger).
    public static let maxLayoutBytes = 64 * 1024

    /// `metrics`: the Prometheus text of the metrics registry.
    public static func router(service: RoomDirectory, metrics: @escaping @Sendable () -> [UInt8] = { [] }) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(token: service.configuration.token))
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: metrics())))
        }
        router.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: ControlPage.html)))
        }
        router.post("/rooms/{room}/whip") { request, context -> Response in
            let room = try context.parameters.require("room")
            let offer = try await body(request, type: "application/sdp", limit: maxOfferBytes, what: "a WHIP offer")
            let name = request.uri.queryParameters["name"].map(String.init) ?? request.headers.first { $0.name.canonicalName == "x-participant-name" }?.value
            let (answer, sessionID) = try await service.publish(room: room, name: name, offer: String(buffer: offer))
            return Response(status: .created, headers: [.contentType: "application/sdp", .location: "/rooms/\(room)/whip/\(sessionID)"],
                            body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        router.delete("/rooms/{room}/whip/{session}") { _, context -> Response in
            try await service.end(room: try context.parameters.require("room"), sessionID: try context.parameters.require("session"))
            return Response(status: .ok)
        }
        router.patch("/rooms/{room}/whip/{session}") { _, _ in
            plain(.methodNotAllowed, "trickle ICE is not needed: the server is ICE-lite and the answer carries its candidates")
        }
        router.get("/rooms/{room}") { request, context -> Response in
            let room = try context.parameters.require("room")
            guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "bad room name") }
            // A browser asks for HTML and gets the join page; API clients get the room as JSON.
            let accept = request.headers[.accept] ?? ""
            if accept.contains("text/html") && !accept.contains("application/json") {
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: JoinPage.html(room: room))))
            }
            return json(try await service.describe(room: room))
        }
        router.get("/rooms") { _, _ -> Response in
            var list: [JSONValue] = []
            for name in service.roomNames { if let room = try? await service.describe(room: name) { list.append(room) } }
            return json(.object([("rooms", .array(list))]))
        }
        router.get("/rooms/{room}/layout") { _, context -> Response in
            json(try service.layout(room: try context.parameters.require("room")).source)
        }
        router.put("/rooms/{room}/layout") { request, context -> Response in
            let room = try context.parameters.require("room")
            _ = try service.layout(room: room)                       // 404 before reading the body
            let body = try await jsonBody(request, limit: maxLayoutBytes)
            let layout: LayoutDocument
            do { layout = try LayoutParser.parseRequest(bytes: body.bytes) } catch let error as MediaError {
                throw RoomError(.invalid, error.message, field: error.location)
            }
            let effect = try await service.applyLayout(room: room, layout)
            var headers: HTTPFields = [:]
            if let effect {
                headers[.layoutFrame] = String(effect.frame)
                headers[.layoutTime] = decimal(Double(effect.time) / 1e6, 3)
            }
            return json(layout.source, headers: headers)
        }
        router.get("/rooms/{room}/watermark") { _, context -> Response in
            json(try service.watermarks(room: try context.parameters.require("room")))
        }
        router.put("/rooms/{room}/watermark") { request, context -> Response in
            let room = try context.parameters.require("room")
            _ = try service.watermarks(room: room)                   // 404 before reading the body
            let body = try await jsonBody(request, limit: 64 * 1024)
            return json(try await service.setWatermarks(room: room, bytes: body.bytes))
        }
        router.post("/rooms/{room}/recording") { request, context -> Response in
            let room = try context.parameters.require("room")
            // Optional body: {"folder": "NAME"}, a folder under the recordings folder.
            var folder: String?
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > 0 {
                var fields = try RequestFields(try await jsonBody(request, limit: 4096).value)
                folder = try fields.string("folder", max: 64)
                try fields.finish()
            }
            let file = try await service.startRecording(room: room, folder: folder)
            return json(.object([("room", .string(room)), ("file", .string(file)), ("active", .bool(true))]), status: .created)
        }
        router.delete("/rooms/{room}/recording") { _, context -> Response in
            let summary = try await service.stopRecording(room: try context.parameters.require("room"))
            return json(RoomDirectory.describe(summary))
        }
        router.patch("/rooms/{room}/participants/{id}") { request, context -> Response in
            let room = try context.parameters.require("room"), id = try context.parameters.require("id")
            var fields = try RequestFields(try await jsonBody(request, limit: 16 * 1024).value)
            let name = try fields.string("name", max: 64)
            let pin = try fields.bool("pin"), hide = try fields.bool("hide"), mute = try fields.bool("mute")
            let gain = try fields.number("gain", in: 0...4)
            try fields.finish()
            let settings = try await service.update(room: room, participant: id) { s in
                if let name { s.name = name }
                if let pin { s.pinned = pin }
                if let hide { s.hidden = hide }
                if let mute { s.muted = mute }
                if let gain { s.gain = Float(gain) }
            }
            return json(.object([("id", .string(id)), ("name", .string(settings.name)), ("pin", .bool(settings.pinned)), ("hide", .bool(settings.hidden)),
                                 ("gain", .number(Double(settings.gain))), ("mute", .bool(settings.muted))]))
        }
        router.post("/rooms/{room}/chat") { request, context -> Response in
            let room = try context.parameters.require("room")
            var fields = try RequestFields(try await jsonBody(request, limit: 16 * 1024).value)
            let from = try fields.string("from", max: 64, allowEmpty: true) ?? ""
            guard let text = try fields.string("text", max: 2000) else { throw RoomError(.invalid, "is required", field: "text") }
            try fields.finish()
            guard let effect = try await service.chat(room: room, from: from, text: text) else {
                throw RoomError(.conflict, "room \(room) is not recording: chat shows in the recording")
            }
            return json(.object([("from", .string(from)), ("text", .string(text)), ("time", .number(Double(effect.time / 1000) / 1000))]), status: .created)
        }
        router.get("/rooms/{room}/snapshot.jpg") { _, context -> Response in
            let jpeg = try await service.snapshot(room: try context.parameters.require("room"))
            return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        return router
    }
}

extension HTTPField.Name {
    /// The output frame (index and seconds into the recording) that first showed a new layout.
    static let layoutFrame = HTTPField.Name("Layout-Frame")!
    static let layoutTime = HTTPField.Name("Layout-Time")!
}
