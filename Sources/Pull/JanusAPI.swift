import AsyncHTTPClient
import Foundation
import Layout
import NIOCore
import NIOHTTP1

/// An error Janus answered (`"janus": "error"` or a plugin's `error_code`), or why it could not be asked.
struct JanusError: Error, CustomStringConvertible, Sendable {
    var code: Int?
    var reason: String
    /// Janus itself is unreachable or lost our session: reconnecting may help.
    var transient = false
    var description: String { code.map { "Janus error \($0): \(reason)" } ?? reason }

    /// The session no longer exists on the server (restarted, timed out).
    var sessionLost: Bool { code == 458 }
}

/// Janus's HTTP API (janus.transport.http): JSON requests with a transaction each, a session's asynchronous
/// events by long poll, `apisecret`/`token` when the server wants them.
struct JanusAPI: Sendable {
    let base: String
    let apiSecret: String?
    let token: String?

    /// POSTs `fields` (+ transaction and credentials) to `path` under the base URL: Janus's reply.
    func request(_ path: String, _ fields: [(String, JSONValue)]) async throws(JanusError) -> JSONValue {
        var body = fields + [("transaction", .string(JanusAPI.transaction()))]
        if let apiSecret { body.append(("apisecret", .string(apiSecret))) }
        if let token { body.append(("token", .string(token))) }
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: JSONValue.object(body).serialized))
        let reply = try await exchange(request, timeout: .seconds(10))
        if reply["janus"] == .string("error") { throw JanusAPI.error(reply) }
        return reply
    }

    func createSession() async throws(JanusError) -> UInt64 {
        try JanusAPI.id(try await request("", [("janus", .string("create"))])["data"]?["id"], "create")
    }

    func attach(session: UInt64) async throws(JanusError) -> UInt64 {
        try JanusAPI.id(try await request("/\(session)", [("janus", .string("attach")), ("plugin", .string("janus.plugin.videoroom"))])["data"]?["id"], "attach")
    }

    /// A plugin message; its reply (an ack, or the plugin's synchronous answer).
    @discardableResult
    func message(session: UInt64, handle: UInt64, _ body: [(String, JSONValue)], jsep: JSONValue? = nil) async throws(JanusError) -> JSONValue {
        var fields: [(String, JSONValue)] = [("janus", .string("message")), ("body", .object(body))]
        if let jsep { fields.append(("jsep", jsep)) }
        let reply = try await request("/\(session)/\(handle)", fields)
        if let data = reply["plugindata"]?["data"], case let .number(code)? = data["error_code"] {
            throw JanusError(code: Int(code), reason: data["error"].flatMap { if case let .string(s) = $0 { s } else { nil } } ?? "plugin error")
        }
        return reply
    }

    func keepalive(session: UInt64) async throws(JanusError) { _ = try await request("/\(session)", [("janus", .string("keepalive"))]) }
    func detach(session: UInt64, handle: UInt64) async { _ = try? await request("/\(session)/\(handle)", [("janus", .string("detach"))]) }
    func destroy(session: UInt64) async { _ = try? await request("/\(session)", [("janus", .string("destroy"))]) }

    /// The session's next events (Janus holds the request up to 30 s when there are none).
    func poll(session: UInt64) async throws(JanusError) -> [JSONValue] {
        var query = "maxev=10"
        if let apiSecret { query += "&apisecret=\(apiSecret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        if let token { query += "&token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        let reply = try await exchange(HTTPClientRequest(url: "\(base)/\(session)?\(query)"), timeout: .seconds(40))
        let events: [JSONValue] = if case let .array(list) = reply { list } else { [reply] }
        if let failure = events.first(where: { $0["janus"] == .string("error") }) { throw JanusAPI.error(failure) }
        return events
    }

    private func exchange(_ request: HTTPClientRequest, timeout: TimeAmount) async throws(JanusError) -> JSONValue {
        do {
            let response = try await WHEPClient.http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw JanusError(reason: "Janus answered HTTP \(response.status.code) at \(request.url)", transient: response.status.code >= 500)
            }
            do { return try JSONParser.parse(Array(buffer: bytes)) } catch { throw JanusError(reason: "Janus sent malformed JSON: \(error)") }
        } catch let error as JanusError {
            throw error
        } catch {
            throw JanusError(reason: "cannot reach Janus at \(base): \(error)", transient: true)
        }
    }

    static func error(_ reply: JSONValue) -> JanusError {
        let error = reply["error"]
        let code: Int? = if case let .number(n)? = error?["code"] { Int(n) } else { nil }
        let reason: String = if case let .string(s)? = error?["reason"] { s } else { "unknown error" }
        return JanusError(code: code, reason: reason, transient: code == 458)
    }

    static func id(_ value: JSONValue?, _ what: String) throws(JanusError) -> UInt64 {
        guard case let .number(n)? = value, n >= 0, n < 9_007_199_254_740_992, n == n.rounded() else {
            throw JanusError(reason: "Janus answered \(what) without an id")
        }
        return UInt64(n)
    }

    static func transaction() -> String {
        String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }
}
