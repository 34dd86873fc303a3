import Testing
@testable import STUN

/// A seeded generator: the same checks every run.
struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite(.timeLimit(.minutes(1))) struct ICEAgentTests {
    let us = TransportAddress(ipv4: "10.0.0.1", port: 5000)!
    let them = TransportAddress(ipv4: "10.0.0.2", port: 6000)!
    let elsewhere = TransportAddress(ipv4: "10.0.0.9", port: 6000)!

    func pair(weControl: Bool, theyControl: Bool, seed: UInt64 = 1, now: Int64 = 0) -> (ICEAgent, ICEAgent) {
        let a = ICEAgent(localUfrag: "ours", localPassword: "our-password-0123456789", remoteUfrag: "them", remotePassword: "their-password-0123456789",
                         controlling: weControl, remoteCandidates: [.init(address: them, priority: 2_130_706_431), .init(address: elsewhere, priority: 100)],
                         now: now, random: SeededRandom(state: seed))
        let b = ICEAgent(localUfrag: "them", localPassword: "their-password-0123456789", remoteUfrag: "ours", remotePassword: "our-password-0123456789",
                         controlling: theyControl, remoteCandidates: [.init(address: us, priority: 2_130_706_431)], now: now,
                         random: SeededRandom(state: seed + 100))
        return (a, b)
    }

    /// Runs both agents for `until` µs in 10 ms steps; datagrams arrive at once unless `drop` says so.
    func run(_ a: inout ICEAgent, _ b: inout ICEAgent, until: Int64, from start: Int64 = 0,
             drop: (Int64, TransportAddress) -> Bool = { _, _ in false }) -> (toThem: Int, toElsewhere: Int) {
        var counts = (toThem: 0, toElsewhere: 0)
        var t = start
        while t <= until {
            var queue = a.poll(now: t).map { ($0.bytes, $0.to, true) } + b.poll(now: t).map { ($0.bytes, $0.to, false) }
            while !queue.isEmpty {
                let (bytes, to, fromA) = queue.removeFirst()
                if fromA { if to == them { counts.toThem += 1 } else { counts.toElsewhere += 1 } }
                guard !drop(t, to) else { continue }
                if fromA && to == them {
                    queue += b.receive(bytes, from: us, now: t).map { ($0.bytes, $0.to, false) }
                } else if !fromA && to == us {
                    queue += a.receive(bytes, from: them, now: t).map { ($0.bytes, $0.to, true) }
                }
            }
            t += 10_000
        }
        return counts
    }

    @Test func controllingAgentNominatesThePairThatAnswers() {
        var (a, b) = pair(weControl: true, theyControl: false)
        _ = run(&a, &b, until: 1_000_000)
        #expect(a.selected == them)
        #expect(b.selected == us)
        #expect(a.failure == nil && b.failure == nil)
        #expect(a.hasValidated(them) && !a.hasValidated(elsewhere))
    }

    /// Long after the session clock started (a transport up for minutes): nominated, and consent holds.
    @Test func controlledAgentFollowsThePeersNomination() {
        let start: Int64 = 300_000_000
        var (a, b) = pair(weControl: false, theyControl: true, now: start)
        _ = run(&a, &b, until: start + 1_000_000, from: start)
        #expect(a.selected == them)
        #expect(b.selected == us)
        #expect(!a.controlling && b.controlling)
        _ = run(&a, &b, until: start + 20_000_000, from: start + 1_010_000)
        #expect(a.failure == nil && b.failure == nil, "\(a.failure ?? "") \(b.failure ?? "")")
    }

    @Test func bothControllingResolveTheConflictByTieBreaker() {
        var (a, b) = pair(weControl: true, theyControl: true, seed: 7)
        _ = run(&a, &b, until: 2_000_000)
        #expect(a.controlling != b.controlling)
        #expect(a.selected == them && b.selected == us)
    }

    @Test func bothControlledResolveTheConflictByTieBreaker() {
        var (a, b) = pair(weControl: false, theyControl: false, seed: 3)
        _ = run(&a, &b, until: 2_000_000)
        #expect(a.controlling != b.controlling)
        #expect(a.selected == them && b.selected == us)
    }

    @Test func anICELiteServerIsReachedAndNominated() {
        var (a, _) = pair(weControl: true, theyControl: false)
        let lite = ICELiteResponder(localUfrag: "them", localPassword: "their-password-0123456789", remoteUfrag: "ours")
        var nominated = false
        var t: Int64 = 0
        while t < 1_000_000 {
            for (bytes, to) in a.poll(now: t) where to == them {
                if case let .success(response, nominate, _) = lite.handle(bytes, from: us) {
                    nominated = nominated || nominate
                    #expect(a.receive(response, from: them, now: t).isEmpty)
                }
            }
            t += 10_000
        }
        #expect(a.selected == them && nominated)
    }

    @Test func lostChecksAreRetransmittedThenThePairWorks() {
        var (a, b) = pair(weControl: true, theyControl: false)
        // Everything to them is lost for the first 700 ms.
        let counts = run(&a, &b, until: 3_000_000, drop: { t, to in t < 700_000 && to == self.them })
        #expect(a.selected == them)
        #expect(counts.toThem >= 4)
    }

    @Test func nothingAnsweringFailsAfterTheTimeoutNamingTheCandidates() {
        var (a, b) = pair(weControl: true, theyControl: false)
        let counts = run(&a, &b, until: 11_000_000, drop: { _, _ in true })
        #expect(a.selected == nil)
        #expect(a.failure?.contains("10.0.0.2:6000") == true)
        // Each candidate got its check and its retransmissions, then nothing more.
        #expect(counts.toThem == ICEAgent.maxSends && counts.toElsewhere == ICEAgent.maxSends)
        #expect(a.poll(now: 12_000_000).isEmpty)
    }

    @Test func consentIsKeptByAnswersAndLostWithoutThem() {
        var (a, b) = pair(weControl: true, theyControl: false)
        _ = run(&a, &b, until: 1_000_000)
        #expect(a.selected == them)
        // 40 s of answered consent checks: still fine.
        _ = run(&a, &b, until: 41_000_000, from: 1_010_000)
        #expect(a.failure == nil)
        // Then the peer vanishes: the agent gives up within 8 s (+ one interval), having kept asking.
        let counts = run(&a, &b, until: 51_000_000, from: 41_010_000, drop: { _, _ in true })
        #expect(a.failure?.contains("consent") == true)
        #expect(counts.toThem >= 3)
    }

    @Test func aCheckFromAnUnknownAddressIsAnsweredAndCheckedBack() {
        var (a, b) = pair(weControl: true, theyControl: false)
        // The peer's checks come from a NAT's address nobody signalled: a peer-reflexive candidate.
        let nat = TransportAddress(ipv4: "203.0.113.5", port: 40000)!
        var checks = b.poll(now: 0)
        #expect(checks.count == 1)
        let out = a.receive(checks.removeFirst().bytes, from: nat, now: 0)
        #expect(out.count == 2 && out.allSatisfy { $0.to == nat })
        #expect(a.hasValidated(nat))
        #expect(a.remoteCandidates.contains(nat))
    }

    @Test func checksWithTheWrongPasswordAreRefusedAndValidateNothing() {
        var (a, _) = pair(weControl: true, theyControl: false)
        var impostor = ICEAgent(localUfrag: "them", localPassword: "x", remoteUfrag: "ours", remotePassword: "not-our-password-at-all",
                                controlling: false, remoteCandidates: [.init(address: us, priority: 1)], now: 0)
        let check = impostor.poll(now: 0)[0]
        let out = a.receive(check.bytes, from: them, now: 0)
        #expect(out.count == 1)
        #expect((try? STUNMessage(parsing: out[0].bytes))?.errorCode == 401)
        #expect(!a.hasValidated(them))
    }
}
