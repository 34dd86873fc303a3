/// A full ICE agent (RFC 8445) for the sessions we open ourselves (WHEP, Janus): it checks the remote candidates
/// from our side, nominates (controlling) or follows the peer's nomination (controlled), answers the peer's checks,
/// resolves role conflicts, and keeps consent (RFC 7675) on the selected pair. One local base — the shared UDP
/// port — so a pair is its remote candidate. Sans-IO: bytes, addresses and time (µs) in; datagrams to send out.
public struct ICEAgent: Sendable {
    public struct Candidate: Sendable, Equatable {
        public var address: TransportAddress
        public var priority: UInt32
        public init(address: TransportAddress, priority: UInt32) { self.address = address; self.priority = priority }
    }

    struct Pair: Sendable {
        enum State: Sendable { case waiting, inProgress, succeeded, failed }
        var remote: Candidate
        var state = State.waiting
        /// The check in flight: its transaction, when it was last sent, how often, and whether it nominates.
        var transaction: [UInt8] = []
        var sentAt: Int64 = 0
        var sends = 0
        var nominating = false
        /// The controlled side: the peer's check on this pair carried USE-CANDIDATE.
        var nominatedByPeer = false
    }

    /// Pacing of new checks (RFC 8445 §14.2's Ta), the first retransmission timeout (doubling, at most 1.6 s) and
    /// sends per check (RFC 8489 §6.2.1's Rc).
    public static let pacing: Int64 = 50_000
    static let firstTimeout: Int64 = 100_000
    static let maxSends = 7
    /// Consent (RFC 7675): a check on the selected pair every 2 s (RFC 7675 allows any interval up to 5 s). 8 s
    /// without an answer ends the session, well before consent's 30 s: a recorder pulling a source wants to know
    /// its peer is gone soon enough to reconnect.
    public static let consentInterval: Int64 = 2_000_000
    public static let consentTimeout: Int64 = 8_000_000
    /// How long we try to reach the peer before giving up.
    public static let connectTimeout: Int64 = 10_000_000
    /// The PRIORITY our checks carry: a peer-reflexive candidate's (type preference 110, RFC 8445 §5.1.2).
    static let checkPriority: UInt32 = 110 << 24 | 65535 << 8 | 255

    private let responder: ICELiteResponder
    public let remoteUfrag: String
    let remotePassword: String
    public private(set) var controlling: Bool
    let tieBreaker: UInt64
    private var pairs: [Pair] = []
    private var validated: Set<TransportAddress> = []
    /// The pair media and DTLS use, once nominated.
    public private(set) var selected: TransportAddress?
    /// Why the agent gave up (nothing answered in time, consent lost); it sends nothing more.
    public private(set) var failure: String?
    private let started: Int64
    private var lastCheck: Int64 = -1_000_000_000
    private var lastConsentSent: Int64 = 0
    private var lastConsentAnswer: Int64 = 0
    private var consentTransactions: [[UInt8]] = []
    private var random: any RandomNumberGenerator & Sendable

    public init(localUfrag: String, localPassword: String, remoteUfrag: String, remotePassword: String, controlling: Bool,
                remoteCandidates: [Candidate], now: Int64, random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        responder = ICELiteResponder(localUfrag: localUfrag, localPassword: localPassword, remoteUfrag: remoteUfrag)
        self.remoteUfrag = remoteUfrag
        self.remotePassword = remotePassword
        self.controlling = controlling
        self.random = random
        tieBreaker = UInt64.random(in: 0...UInt64.max, using: &self.random)
        started = now
        for candidate in remoteCandidates { add(candidate) }
    }

    /// A remote candidate to check (from the SDP, or peer-reflexive: where a check came from).
    public mutating func add(_ candidate: Candidate) {
        guard pairs.count < 32, !pairs.contains(where: { $0.remote.address == candidate.address }) else { return }
        pairs.append(Pair(remote: candidate))
        pairs.sort { $0.remote.priority > $1.remote.priority }
    }

    public var remoteCandidates: [TransportAddress] { pairs.map(\.remote.address) }

    /// Whether `address` proved itself: its check to us was valid, or ours to it was answered.
    public func hasValidated(_ address: TransportAddress) -> Bool { validated.contains(address) }

    /// A STUN datagram from `address`: the peer's check (answered; a triggered check back) or the answer to ours.
    public mutating func receive(_ bytes: [UInt8], from address: TransportAddress, now: Int64) -> [(bytes: [UInt8], to: TransportAddress)] {
        guard failure == nil, let message = try? STUNMessage(parsing: bytes), message.method == 0x0001 else { return [] }
        switch message.messageClass {
        case .request: return request(bytes, from: address, now: now)
        case .success, .error: response(message, from: address, now: now); return []
        case .indication: return []
        }
    }

    private mutating func request(_ bytes: [UInt8], from address: TransportAddress, now: Int64) -> [(bytes: [UInt8], to: TransportAddress)] {
        let message: STUNMessage, priority: UInt32
        switch responder.authenticate(bytes) {
        case let .refused(outcome):
            if case let .reject(response, _, _) = outcome { return [(response, address)] }
            return []
        case let .request(request, value): (message, priority) = (request, value)
        }
        // Role conflict (RFC 8445 §7.3.1.1): the larger tie-breaker controls.
        if controlling, let theirs = message.tieBreaker(.iceControlling) {
            if tieBreaker >= theirs { return reject(message, address) }
            controlling = false
        } else if !controlling, let theirs = message.tieBreaker(.iceControlled) {
            if tieBreaker < theirs { return reject(message, address) }
            controlling = true
        }
        validated.insert(address)
        add(Candidate(address: address, priority: priority))
        var out = [(ICELiteResponder.success(to: message, from: address, password: responder.localPassword), address)]
        guard let index = pairs.firstIndex(where: { $0.remote.address == address }) else { return out }
        if !controlling && message.attribute(.useCandidate) != nil {
            pairs[index].nominatedByPeer = true
            if pairs[index].state == .succeeded { select(address, now: now) }
        }
        // A triggered check (§7.3.1.4): the peer reached us, so the way back is worth checking now.
        if pairs[index].state == .waiting || pairs[index].state == .failed {
            out.append(send(index, nominate: false, now: now))
        }
        return out
    }

    private func reject(_ message: STUNMessage, _ address: TransportAddress) -> [(bytes: [UInt8], to: TransportAddress)] {
        guard case let .reject(response, _, _) = ICELiteResponder.error(to: message, 487, "Role Conflict", password: responder.localPassword) else { return [] }
        return [(response, address)]
    }

    private mutating func response(_ message: STUNMessage, from address: TransportAddress, now: Int64) {
        if let consent = consentTransactions.firstIndex(of: message.transactionID) {
            guard address == selected, message.messageClass == .success, message.hasValidIntegrity(key: Array(remotePassword.utf8)) else { return }
            consentTransactions.removeSubrange(...consent)
            lastConsentAnswer = now
            return
        }
        guard let index = pairs.firstIndex(where: { $0.state == .inProgress && $0.transaction == message.transactionID }),
              pairs[index].remote.address == address,    // symmetric: the answer comes from where the check went
              message.hasValidIntegrity(key: Array(remotePassword.utf8)) else { return }
        if message.messageClass == .error {
            if message.errorCode == 487 {
                // The peer holds the role we claimed: take the other and check again.
                controlling.toggle()
                pairs[index].state = .waiting
                pairs[index].nominating = false
            } else {
                pairs[index].state = .failed
            }
            return
        }
        pairs[index].state = .succeeded
        validated.insert(address)
        if pairs[index].nominating || (!controlling && pairs[index].nominatedByPeer) { select(address, now: now) }
    }

    /// The pair media goes on from now; consent is counted from the moment it was chosen.
    private mutating func select(_ address: TransportAddress, now: Int64) {
        selected = address
        lastConsentAnswer = now
        lastConsentSent = now
    }

    /// Timers: the next check, retransmissions, nomination, consent.
    public mutating func poll(now: Int64) -> [(bytes: [UInt8], to: TransportAddress)] {
        guard failure == nil else { return [] }
        var out: [(bytes: [UInt8], to: TransportAddress)] = []
        for index in pairs.indices where pairs[index].state == .inProgress {
            let timeout = min(ICEAgent.firstTimeout << (pairs[index].sends - 1), 1_600_000)
            guard now - pairs[index].sentAt >= timeout else { continue }
            if pairs[index].sends >= ICEAgent.maxSends {
                pairs[index].state = .failed
            } else {
                out.append(send(index, nominate: pairs[index].nominating, retransmit: true, now: now))
            }
        }
        if let selected {
            if now - lastConsentAnswer > ICEAgent.consentTimeout {
                failure = "no answer to ICE consent checks for \(ICEAgent.consentTimeout / 1_000_000) s (the peer is gone)"
                return []
            }
            if now - lastConsentSent >= ICEAgent.consentInterval {
                // Randomized by ±20 % (RFC 7675 §5.1) by moving the next send, not this one.
                lastConsentSent = now + Int64.random(in: -400_000...400_000, using: &random)
                let id = transactionID()
                consentTransactions.append(id)
                if consentTransactions.count > 8 { consentTransactions.removeFirst() }
                out.append((check(transaction: id, nominate: false), selected))
            }
            return out
        }
        if now - started > ICEAgent.connectTimeout {
            let tried = pairs.map { "\($0.remote.address)" }.joined(separator: ", ")
            failure = pairs.isEmpty ? "no ICE candidate to check (the remote description lists none we can reach)"
                                    : "no ICE connectivity within 10 s (checked \(tried))"
            return []
        }
        // Regular nomination: the best pair that works, once; another if that nomination fails.
        if controlling, !pairs.contains(where: { $0.nominating && $0.state != .failed }),
           let best = pairs.firstIndex(where: { $0.state == .succeeded }) {
            out.append(send(best, nominate: true, now: now))
        } else if now - lastCheck >= ICEAgent.pacing, let next = pairs.firstIndex(where: { $0.state == .waiting }) {
            out.append(send(next, nominate: false, now: now))
        }
        return out
    }

    private mutating func send(_ index: Int, nominate: Bool, retransmit: Bool = false, now: Int64) -> (bytes: [UInt8], to: TransportAddress) {
        if !retransmit {
            pairs[index].transaction = transactionID()
            pairs[index].sends = 0
        }
        pairs[index].state = .inProgress
        pairs[index].nominating = nominate
        pairs[index].sends += 1
        pairs[index].sentAt = now
        lastCheck = now
        return (check(transaction: pairs[index].transaction, nominate: nominate), pairs[index].remote.address)
    }

    private mutating func transactionID() -> [UInt8] { (0..<12).map { _ in UInt8.random(in: 0...255, using: &random) } }

    private func check(transaction: [UInt8], nominate: Bool) -> [UInt8] {
        var b = STUNMessageBuilder(class: .request, transactionID: transaction)
        b.add(.username, Array("\(remoteUfrag):\(responder.localUfrag)".utf8))
        let p = ICEAgent.checkPriority
        b.add(.priority, [UInt8(p >> 24), UInt8((p >> 16) & 0xFF), UInt8((p >> 8) & 0xFF), UInt8(p & 0xFF)])
        b.add(controlling ? .iceControlling : .iceControlled, (0..<8).map { UInt8((tieBreaker >> (56 - 8 * UInt64($0))) & 0xFF) })
        if nominate && controlling { b.add(.useCandidate, []) }
        b.addMessageIntegrity(key: Array(remotePassword.utf8))
        b.addFingerprint()
        return b.encoded
    }
}

extension STUNMessage {
    /// The tie-breaker of ICE-CONTROLLING or ICE-CONTROLLED, when present.
    public func tieBreaker(_ type: AttributeType) -> UInt64? {
        guard let v = attribute(type)?.value, v.count == 8 else { return nil }
        return v.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
