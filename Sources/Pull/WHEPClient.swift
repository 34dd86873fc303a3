import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP side of WHEP (draft-ietf-wish-whep) on async-http-client: the offer POSTed (or an empty POST asking the
/// server to offer, our answer PATCHed to the resource), DELETE at the end, bearer tokens, redirects (a 307/308
/// keeps the POST and its body), `Link` ICE servers. Async: never blocks the cooperative pool.
struct WHEPClient: Sendable {
    struct Response: Sendable {
        var status: Int
        /// The session resource, resolved against the URL that answered.
        var location: String?
        var body: String
        var contentType: String?
        /// `Link: <stun:…>; rel="ice-server"` targets.
        var iceServers: [String]
        /// Seconds from `Retry-After` (409, 429, 503).
        var retryAfter: Int?
    }

    let token: String?
    static let timeout: TimeAmount = .seconds(15)

    /// POSTs our offer; nil asks the server for its offer (empty body, `Accept: application/sdp`).
    func post(_ url: String, offer: String?) async throws -> Response {
        try await send(url, method: .POST, body: offer)
    }

    /// Our answer to the server's offer, on the session resource.
    func patch(_ location: String, answer: String) async throws -> Response {
        try await send(location, method: .PATCH, body: answer)
    }

    /// The endpoint's `Link` ICE servers before any session (the draft's pre-flight); nil when it will not say.
    func preflight(_ url: String) async -> [String]? {
        guard let response = try? await send(url, method: .OPTIONS, body: nil), (200..<300).contains(response.status) else { return nil }
        return response.iceServers
    }

    /// Ends the session resource; failures only logged by the caller (the server may be gone).
    func delete(_ location: String) async throws -> Response { try await send(location, method: .DELETE, body: nil) }

    private func send(_ url: String, method: HTTPMethod, body: String?) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/sdp")
            request.body = .bytes(ByteBuffer(string: body))
        } else if method == .POST {
            request.headers.add(name: "Accept", value: "application/sdp")
            request.headers.add(name: "Content-Length", value: "0")
        }
        let response = try await WHEPClient.http.execute(request, timeout: WHEPClient.timeout)
        let bytes = try await response.body.collect(upTo: 256 * 1024)
        var location = response.headers.first(name: "Location")
        if let given = location, let base = response.url ?? URL(string: url), let resolved = URL(string: given, relativeTo: base) {
            location = resolved.absoluteString
        }
        return Response(status: Int(response.status.code), location: location, body: String(buffer: bytes),
                        contentType: response.headers.first(name: "Content-Type"),
                        iceServers: WHEPClient.iceServers(response.headers[canonicalForm: "Link"].map(String.init)),
                        retryAfter: response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
    }

    /// The `rel="ice-server"` targets of `Link` header values (RFC 8288; several per value, comma-separated).
    static func iceServers(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.compactMap { link in
            let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">"),
                  parts.dropFirst().contains(where: { $0.replacingOccurrences(of: "\"", with: "").lowercased() == "rel=ice-server" }) else { return nil }
            return String(target.dropFirst().dropLast())
        }
    }

    /// One client for every WHEP source: redirects followed (at most 5), short timeouts.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 5, allowCycles: false))
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(15))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
