import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP side of WHIP (RFC 9725) on async-http-client: http and https, IPv4 and IPv6, redirects (a 307 keeps the
/// POST and its offer), chunked answers. Blocking calls: the publisher runs on a thread of its own, never on an
/// event loop or Swift's cooperative pool.
struct WHIPClient {
    struct Response { var status: Int; var location: String?; var body: String }

    private let client: HTTPClient
    let token: String?

    init(token: String?) {
        self.token = token
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 5, allowCycles: false))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// POSTs the offer; the `Location` of the session comes back resolved against the URL that answered. The
    /// participant's name goes as a header too: a redirect's `Location` need not keep the query.
    func offer(_ sdp: String, to url: String, name: String) throws -> Response {
        try send(url, method: .POST, contentType: "application/sdp", body: sdp, extra: name.isEmpty ? [] : [("X-Participant-Name", name)])
    }

    /// Ends the session (WHIP DELETE on its `Location`).
    func end(_ location: String) throws -> Response { try send(location, method: .DELETE, contentType: nil, body: nil) }

    func shutdown() { try? client.syncShutdown() }

    private func send(_ url: String, method: HTTPMethod, contentType: String?, body: String?, extra: [(String, String)] = []) throws -> Response {
        var request = try HTTPClient.Request(url: url, method: method)
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .string(body) }
        let response = try client.execute(request: request, deadline: .now() + .seconds(30)).wait()
        let text = response.body.map { String(buffer: $0) } ?? ""
        var location = response.headers.first(name: "Location")
        if let given = location, let base = response.url ?? URL(string: url), let resolved = URL(string: given, relativeTo: base) {
            location = resolved.absoluteString
        }
        return Response(status: Int(response.status.code), location: location, body: text)
    }
}
