import Foundation
import Logging
import SDP
import Session
import Transport

/// Our half of a WebRTC session we open to a remote server (WHEP, Janus), until its answer (or offer) arrives.
public struct OutgoingCredentials: Sendable {
    let ufrag: String
    let password: String
    /// Candidates we announce: every announced address on the shared port, and a server-reflexive one if known.
    let options: AnswerOptions
}

/// A participant the recorder pulls in rather than one that publishes to it. It stays in the room while its
/// session drops and comes back (its tile shows a slate meanwhile); `onDrop` hears when a session ends.
struct PulledParticipant: Sendable {
    var tracks: [NegotiatedTrack]
    var onDrop: @Sendable (String) -> Void
}

extension RoomDirectory {
    /// Fresh ICE credentials and the options to offer or answer with. `reflexive`: our address as a STUN server
    /// saw it, announced as a second candidate; `port`: a socket reserved for the session (else the shared port).
    public func outgoingCredentials(reflexive: (ip: String, port: Int)? = nil, port: Int? = nil) throws -> OutgoingCredentials {
        guard let transport = state.withLock({ $0.transport }) else { throw RoomError(.unavailable, "media transport not ready") }
        let ufrag = RoomDirectory.random(8), pwd = RoomDirectory.random(24)
        var options = AnswerOptions(iceUfrag: ufrag, icePwd: pwd, fingerprint: certificate.fingerprint,
                                    candidates: configuration.announceIPs.map { ($0, port ?? transport.localPort) },
                                    sessionID: UInt64.random(in: 1...UInt64(Int64.max)), iceLite: false)
        options.reflexive = reflexive
        return OutgoingCredentials(ufrag: ufrag, password: pwd, options: options)
    }

    /// A receive-only offer of `kinds` with these credentials.
    public func offer(kinds: [String], credentials: OutgoingCredentials) -> String {
        SDPOfferer.offer(kinds: kinds, options: credentials.options)
    }

    /// Our answer to a remote offer (a server that offers, Janus): the negotiation to `connect` with.
    public func answer(offer: String, credentials: OutgoingCredentials) throws -> Negotiation {
        do { return try SDPAnswerer.answer(offer: offer, options: credentials.options) } catch { throw RoomError(.invalid, "the remote offer: \(error.reason)") }
    }

    /// What the remote answer to our offer agreed.
    public func negotiate(offer: String, answer: String) throws -> Negotiation {
        do { return try SDPOfferer.negotiate(offer: offer, answer: answer) } catch { throw RoomError(.invalid, "the remote answer: \(error.reason)") }
    }

    /// A socket of its own for session `id` (its port for the offer): for a server that another session on the
    /// shared port already talks to. `releasePort` gives it back when no session took it.
    public func reservePort(id: String) async throws -> Int {
        guard let transport = state.withLock({ $0.transport }) else { throw RoomError(.unavailable, "media transport not ready") }
        return try await transport.reserveSocket(sessionID: id, host: configuration.udpHost)
    }

    public func releasePort(id: String) async { await state.withLock { $0.transport }?.releaseSocket(sessionID: id) }

    /// Starts the session of pulled participant `id` in `room`: the first time it joins the room; after a drop it
    /// comes back as the same participant (its tile and track files go on), unless its tracks changed.
    /// `controlling`: we offered (our ICE agent controls).
    public func connect(room: String, name: String, id: String, negotiation: Negotiation, credentials: OutgoingCredentials, controlling: Bool,
                        onDrop: @escaping @Sendable (String) -> Void) async throws {
        guard let transport = state.withLock({ $0.transport }) else { throw RoomError(.unavailable, "media transport not ready") }
        guard negotiation.tracks.count <= configuration.maxTracksPerParticipant else {
            throw RoomError(.invalid, "at most \(configuration.maxTracksPerParticipant) media tracks per source, not \(negotiation.tracks.count)")
        }
        // Two sessions to one remote address cannot share the port (their datagrams could not be told apart): the
        // caller offers again from a socket of its own. Found before the participant joins, so it joins once.
        let ownSocket = credentials.options.candidates.first.map { $0.port != transport.localPort } ?? false
        if !ownSocket, await transport.talksTo(PeerSession.candidates(negotiation.remoteCandidates).map(\.address)) {
            throw UDPTransport.OutgoingConflict()
        }
        let certificate = self.certificate
        let attach = { @Sendable () async throws in
            try await transport.addOutgoing(sessionID: id, ufrag: credentials.ufrag) {
                try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: credentials.ufrag, localPassword: credentials.password,
                                now: transport.now(), fullICE: controlling)
            }
        }
        // A session of this participant still running (its server restarted before it noticed) ends first,
        // without reporting a drop.
        state.withLock { $0.pulled[id]?.onDrop = { _ in } }
        await transport.remove(sessionID: id, reason: "replaced by a new session")
        let previous = state.withLock { state -> PulledParticipant? in
            let before = state.pulled[id]
            state.pulled[id] = PulledParticipant(tracks: negotiation.tracks, onDrop: onDrop)
            return before
        }
        let present = state.withLock { $0.routes[id] != nil }
        if present, let previous, previous.tracks.map(\.mid) == negotiation.tracks.map(\.mid),
           previous.tracks.map(\.codec) == negotiation.tracks.map(\.codec) {
            do { try await attach() } catch let error as UDPTransport.OutgoingConflict { throw error } catch {
                throw RoomError(.invalid, "cannot set up the session: \(error)")
            }
            logger.info("reconnected", metadata: ["room": "\(room)", "participant": "\(name)"])
            return
        }
        if present { leave(sessionID: id, reason: "its source reconnected with other tracks") }
        try await admit(room: room, name: name, sessionID: id, tracks: negotiation.tracks, declined: negotiation.declined, screens: [],
                        transport: transport, attach: attach)
    }

    /// A pulled participant leaves for good (its source was removed, its publisher left).
    public func removePulled(id: String, reason: String) async {
        state.withLock { _ = $0.pulled.removeValue(forKey: id) }
        await state.withLock { $0.transport }?.remove(sessionID: id, reason: reason)
        // Its session may have ended already (then nothing above said so).
        if let route = state.withLock({ $0.routes[id] }) {
            logger.info("left", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "reason": "\(reason)"])
        }
        leave(sessionID: id, reason: reason)
    }

    /// Whether the participant of a pulled source is in a room now.
    public func isPresent(id: String) -> Bool { state.withLock { $0.routes[id] != nil } }

    /// A pulled participant's session ended: it stays (a slate shows), its source reconnects.
    func dropped(_ id: String, reason: String) -> Bool {
        guard let pulled = state.withLock({ $0.pulled[id] }) else { return false }
        pulled.onDrop(reason)
        return true
    }
}

extension RoomDirectory {
    /// A new participant or source id.
    public static func newID() -> String { random(32) }

    /// The shared media transport, once attached.
    public var mediaTransport: UDPTransport? { state.withLock { $0.transport } }

    /// What a participant's tile says instead of its picture (nil: its picture again).
    public func showStatus(id: String, _ status: String?) async {
        guard let live = state.withLock({ s in s.routes[id].flatMap { s.rooms[$0.room]?.live } }) else { return }
        _ = await live.update(id) { $0.status = status }
    }
}
