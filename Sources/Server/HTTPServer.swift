import Hummingbird
import MediaCore
import NIOCore

/// Bearer token on every request when one is configured (compared in constant time), and CORS so a page on
/// another origin can publish.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.method == .options {
            response = Response(status: .noContent)
        } else if let token, !AccessMiddleware.authorized(request.headers[.authorization], token: token) {
            response = plain(.unauthorized, "missing or wrong bearer token")
            response.headers[.wwwAuthenticate] = "Bearer"
        } else {
            do { response = try await next(request, context) } catch let error as ServiceError {
                response = plain(HTTPResponse.Status(code: error.status), error.reason)
            }
        }
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.accessControlAllowMethods] = "GET, POST, PATCH, DELETE, OPTIONS"
        response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
        response.headers[.accessControlExposeHeaders] = "Location"
        return response
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

/// The HTTP side: WHIP (RFC 9725) and the join page.
public enum HTTPServer {
    public static let maxOfferBytes = 64 * 1024

    public static func router(service: RoomService) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(token: service.configuration.token))
        router.get("/healthz") { _, _ in "ok\n" }
        router.post("/rooms/{room}/whip") { request, context -> Response in
            let room = try context.parameters.require("room")
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/sdp") == true else {
                return plain(.unsupportedMediaType, "a WHIP offer is application/sdp")
            }
            var request = request
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: maxOfferBytes) } catch {
                return plain(.contentTooLarge, "offers are limited to \(maxOfferBytes) bytes")
            }
            let name = request.uri.queryParameters["name"].map(String.init) ?? request.headers.first { $0.name.canonicalName == "x-participant-name" }?.value
            let (answer, sessionID) = try await service.publish(room: room, name: name, offer: String(buffer: body))
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
        router.get("/rooms/{room}") { _, context -> Response in
            let room = try context.parameters.require("room")
            guard RoomService.isValidRoomName(room) else { return plain(.badRequest, "bad room name") }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: JoinPage.html(room: room))))
        }
        return router
    }
}
