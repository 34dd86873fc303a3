import Foundation
import Logging
import Metrics
import Rooms
import SDP
import Synchronization
import Transport

/// Why a WHEP source could not connect; `retryAfter` when the server said when to come back.
public struct PullError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The server refused us for good (4xx other than 408/409/425/429): retrying cannot help.
    public var permanent = false
    public var retryAfter: Int?
    init(_ description: String, permanent: Bool = false, retryAfter: Int? = nil) {
        self.description = description; self.permanent = permanent; self.retryAfter = retryAfter
    }
}

/// One participant pulled from a WHEP server: it connects (our offer, or the server's when it prefers to offer), and
/// when its session drops it reconnects with backoff (1 s doubling to 8 s, or the server's `Retry-After`) while
/// its tile shows a "reconnecting" slate. It is the same participant throughout.
public final class WHEPSource: Sendable {
    public enum Offerer: String, Sendable { case client, server, auto }
    public struct Status: Sendable {
        /// connecting, connected, reconnecting, stopped.
        public var state = "connecting"
        /// Who offered on the last connection: "client" (us) or "server".
        public var offerer: String?
        public var resource: String?
        public var connections = 0
        public var lastError: String?
        public var reconnecting: Double?
    }

    public let id: String
    public let room: String
    public let name: String
    public let url: String
    let offerer: Offerer
    let client: WHEPClient
    let directory: RoomDirectory
    let stunServer: String?
    /// The first `stun:` server the endpoint's `Link` headers named (when none is configured), and whether we asked.
    let linked = Mutex<(stun: String?, asked: Bool)>((nil, false))
    /// Whether this source connects from a socket of its own (its server's address is taken on the shared port).
    let ownSocket = Mutex(false)
    private let status = Mutex(Status())
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let drops: AsyncStream<String>
    private let dropped: AsyncStream<String>.Continuation
    let logger = Logger(label: "mcu-record.pull")

    public var current: Status { status.withLock { $0 } }

    init(id: String, room: String, name: String, url: String, token: String?, offerer: Offerer, stunServer: String?, directory: RoomDirectory) {
        self.id = id; self.room = room; self.name = name; self.url = url; self.offerer = offerer
        self.stunServer = stunServer
        client = WHEPClient(token: token)
        self.directory = directory
        (drops, dropped) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The first connection, answered to the caller (an unreachable server or a refusal is its error); then the
    /// supervision that reconnects runs on its own.
    func start() async throws {
        do { try await connect() } catch {
            await directory.removePulled(id: id, reason: "the source could not connect")
            throw error
        }
        let running = Task { [self] in await supervise() }
        task.withLock { $0 = running }
    }

    /// Stops reconnecting, ends the session (DELETE on its resource) and takes the participant out of the room.
    func stop() async {
        task.withLock { $0 }?.cancel()
        dropped.finish()
        let resource = status.withLock { s in s.state = "stopped"; return s.resource }
        await directory.removePulled(id: id, reason: "the source was removed")
        if let resource { _ = try? await client.delete(resource) }
    }

    private func supervise() async {
        var backoff = 1.0
        for await reason in drops {
            guard !Task.isCancelled else { return }
            let old = status.withLock { s -> String? in s.state = "reconnecting"; s.lastError = reason; defer { s.resource = nil }; return s.resource }
            await directory.showStatus(id: id, "reconnecting")
            Counter(label: "mcu_source_drops_total", dimensions: [("type", "whep")]).increment()
            logger.warning("WHEP source dropped; reconnecting", metadata: ["room": "\(room)", "source": "\(name)", "reason": "\(reason)"])
            if let old { _ = try? await client.delete(old) }
            while !Task.isCancelled {
                do {
                    try await connect()
                    backoff = 1
                    break
                } catch {
                    let wait = (error as? PullError)?.retryAfter.map(Double.init) ?? backoff
                    status.withLock { $0.lastError = "\(error)"; $0.reconnecting = wait }
                    logger.notice("WHEP reconnect failed; next try in \(wait) s", metadata: ["room": "\(room)", "source": "\(name)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(wait))
                    backoff = min(backoff * 2, 8)
                }
            }
        }
    }

    /// One connection: HTTP negotiation, then the session on the shared port — or, when another session there
    /// already talks to the same server address (an SFU with one port for everyone), on a socket of its own, for
    /// this connection and every later one.
    private func connect() async throws {
        let own = ownSocket.withLock { $0 }
        do {
            try await negotiate(ownSocket: own)
        } catch is UDPTransport.OutgoingConflict where !own {
            ownSocket.withLock { $0 = true }
            logger.notice("the WHEP server's address is in use on the shared port; connecting from a port of its own",
                          metadata: ["room": "\(room)", "source": "\(name)"])
            try await negotiate(ownSocket: true)
        }
    }

    private func negotiate(ownSocket: Bool) async throws {
        let port = ownSocket ? try await directory.reservePort(id: id) : nil
        do { try await negotiate(port: port) } catch {
            if port != nil { await directory.releasePort(id: id) }
            throw error
        }
    }

    private func negotiate(port: Int?) async throws {
        let reflexive = await reflexiveAddress()
        let credentials = try directory.outgoingCredentials(reflexive: reflexive, port: port)
        if offerer != .server {
            let offer = directory.offer(kinds: ["audio", "video"], credentials: credentials)
            let response = try await post(offer)
            if response.status == 201 || response.status == 200 {
                guard let resource = response.location else { throw PullError("the WHEP server answered without a Location") }
                let negotiation = try directory.negotiate(offer: offer, answer: response.body)
                try await established(negotiation, credentials: credentials, controlling: true, resource: resource, offerer: "client")
                return
            }
            // 406: the server wants to offer itself (some send the offer with the 406 already).
            guard response.status == 406 else { throw refusal(response) }
            if let resource = response.location, response.body.contains("m=") {
                return try await answer(response.body, resource: resource, credentials: credentials)
            }
        }
        let response = try await post(nil)
        guard response.status == 201 || response.status == 200 else { throw refusal(response) }
        guard let resource = response.location, response.body.contains("m=") else {
            throw PullError("the WHEP server sent no offer and no Location for the empty POST (status \(response.status))")
        }
        try await answer(response.body, resource: resource, credentials: credentials)
    }

    private func answer(_ offer: String, resource: String, credentials: OutgoingCredentials) async throws {
        let negotiation: Negotiation
        do { negotiation = try directory.answer(offer: offer, credentials: credentials) } catch {
            _ = try? await client.delete(resource)
            throw error
        }
        let patched = try await request { try await self.client.patch(resource, answer: negotiation.answer) }
        guard (200..<300).contains(patched.status) else {
            _ = try? await client.delete(resource)
            throw PullError("the WHEP server refused our answer: \(WHEPSource.describe(patched))", permanent: (400..<500).contains(patched.status))
        }
        try await established(negotiation, credentials: credentials, controlling: false, resource: resource, offerer: "server")
    }

    private func established(_ negotiation: Negotiation, credentials: OutgoingCredentials, controlling: Bool, resource: String, offerer: String) async throws {
        do {
            try await directory.connect(room: room, name: name, id: id, negotiation: negotiation, credentials: credentials, controlling: controlling,
                                        onDrop: { [dropped] reason in dropped.yield(reason) })
        } catch {
            _ = try? await client.delete(resource)
            throw error
        }
        let count = status.withLock { s in
            s.state = "connected"; s.offerer = offerer; s.resource = resource; s.connections += 1; s.reconnecting = nil
            return s.connections
        }
        if count > 1 { Counter(label: "mcu_source_reconnections_total", dimensions: [("type", "whep")]).increment() }
        await directory.showStatus(id: id, nil)
        logger.info("WHEP source connected", metadata: ["room": "\(room)", "source": "\(name)", "offerer": "\(offerer)", "resource": "\(resource)"])
    }

    private func post(_ offer: String?) async throws -> WHEPClient.Response {
        let response = try await request { try await self.client.post(self.url, offer: offer) }
        learn(response.iceServers)
        return response
    }

    /// Honours `Link: <stun:…>; rel="ice-server"`: its STUN server gives our server-reflexive candidate next time
    /// (TURN relays are not used).
    func learn(_ servers: [String]) {
        guard let stun = servers.first(where: { $0.hasPrefix("stun:") }) else { return }
        linked.withLock { $0.stun = stun }
    }

    /// An HTTP exchange whose transport errors (refused, unresolvable, timed out) say which URL failed.
    private func request(_ exchange: @Sendable () async throws -> WHEPClient.Response) async throws -> WHEPClient.Response {
        do { return try await exchange() } catch let error as PullError { throw error } catch {
            throw PullError("cannot reach the WHEP server at \(url): \(error)")
        }
    }

    private func refusal(_ response: WHEPClient.Response) -> PullError {
        let retry = [408, 409, 425, 429, 500, 502, 503, 504].contains(response.status)
        return PullError("the WHEP server refused: \(WHEPSource.describe(response))", permanent: !retry && (400..<500).contains(response.status),
                         retryAfter: response.retryAfter)
    }

    static func describe(_ response: WHEPClient.Response) -> String {
        let text = response.body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
        return "HTTP \(response.status)" + (text.isEmpty ? "" : " (\(text))")
    }
}
