import Glibc
@testable import SecureTransport
import Testing

/// Runs a handshake by passing datagrams between the two sides until neither has more to say.
func handshake(_ server: DTLSSession, _ client: DTLSSession, drop: (Int) -> Bool = { _ in false }) {
    var toServer = client.start(), toClient: [[UInt8]] = []
    var n = 0
    for _ in 0..<50 {
        for d in toServer { n += 1; if !drop(n) { toClient += server.receive(d) } }
        toServer = []
        for d in toClient { n += 1; if !drop(n) { toServer += client.receive(d) } }
        toClient = []
        if toServer.isEmpty {
            guard case .handshaking = client.state else { break }
            // Wait for the retransmission timer as the transport would (OpenSSL's clock is real time).
            if let wait = client.timeoutMicroseconds { usleep(UInt32(min(wait + 20_000, 3_000_000))) }
            toServer = client.handleTimeout()
        }
    }
}


func rtp(_ seq: UInt16) -> [UInt8] {
    [0x80, 96, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0, 1, 0, 0, 0, 9] + Array(repeating: UInt8(seq & 0xFF), count: 100)
}

@Suite(.timeLimit(.minutes(2))) struct DTLSSRTPTests {
    let serverCertificate = try! DTLSCertificate()
    let clientCertificate = try! DTLSCertificate()

    @Test func certificateFingerprintLooksLikeSDPs() {
        #expect(serverCertificate.fingerprint.split(separator: ":").count == 32)
        #expect(serverCertificate.fingerprint != clientCertificate.fingerprint)
    }

    @Test func handshakeExportsTheSameKeysOnBothSides() throws {
        let server = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: clientCertificate.fingerprint)
        let client = try DTLSSession(role: .client, certificate: clientCertificate, expectedFingerprint: serverCertificate.fingerprint)
        handshake(server, client)
        guard case let .connected(s) = server.state, case let .connected(c) = client.state else {
            Issue.record("server \(server.state), client \(client.state)"); return
        }
        #expect(s == c)
        #expect(s.profile == .aeadAes128Gcm, "GCM is preferred")
        #expect(s.clientKey.count == 28 && s.clientKey != s.serverKey)
    }

    @Test func wrongFingerprintFailsTheSession() throws {
        let impostor = try DTLSCertificate()
        let server = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: clientCertificate.fingerprint)
        let client = try DTLSSession(role: .client, certificate: impostor, expectedFingerprint: serverCertificate.fingerprint)
        handshake(server, client)
        guard case let .failed(reason) = server.state else { Issue.record("server \(server.state)"); return }
        #expect(reason.contains("fingerprint"))
    }

    @Test func lostFlightsAreRetransmitted() throws {
        let server = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: nil)
        let client = try DTLSSession(role: .client, certificate: clientCertificate, expectedFingerprint: nil)
        handshake(server, client, drop: { $0 == 2 })   // the server's first flight is lost
        guard case .connected = server.state, case .connected = client.state else {
            Issue.record("server \(server.state), client \(client.state)"); return
        }
    }

    @Test func garbageNeverCrashesTheServer() throws {
        let server = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: nil)
        for datagram in [[22], [22, 254, 253] + Array(repeating: 0xFF, count: 60), Array(repeating: 0x16, count: 3000), [UInt8](0...255)] as [[UInt8]] {
            _ = server.receive(datagram)
        }
        #expect(server.state == .handshaking, "garbage is ignored, not fatal: \(server.state)")
        // And a real client still gets through afterwards.
        let client = try DTLSSession(role: .client, certificate: clientCertificate, expectedFingerprint: nil)
        handshake(server, client)
        guard case .connected = server.state, case .connected = client.state else {
            Issue.record("after garbage: server \(server.state), client \(client.state)"); return
        }
    }

    /// A peer's SDP fingerprint may use any of RFC 8122's current hashes (older stacks write sha-1); an unknown one
    /// is refused up front with a reason.
    @Test(arguments: ["sha-1", "sha-224", "sha-256", "sha-384", "SHA-512"])
    func everyFingerprintHashIsChecked(algorithm: String) throws {
        let expected = try #require(DTLSCertificate.fingerprint(clientCertificate.certificate, algorithm: algorithm))
        let server = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: expected, fingerprintAlgorithm: algorithm)
        let client = try DTLSSession(role: .client, certificate: clientCertificate, expectedFingerprint: serverCertificate.fingerprint)
        handshake(server, client)
        guard case .connected = server.state else { Issue.record("\(algorithm): \(server.state)"); return }
        let impostor = try DTLSSession(role: .client, certificate: try DTLSCertificate(), expectedFingerprint: serverCertificate.fingerprint)
        let strict = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: expected, fingerprintAlgorithm: algorithm)
        handshake(strict, impostor)
        guard case .failed = strict.state else { Issue.record("\(algorithm): an impostor got \(strict.state)"); return }
    }

    @Test func anUnknownFingerprintHashIsRefused() {
        #expect {
            _ = try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: "AA", fingerprintAlgorithm: "md5")
        } throws: { error in
            if case .unsupported = error as? SecureTransportError { true } else { false }
        }
    }

    /// Sessions are made from their certificate's one OpenSSL context, not a context each.
    @Test func sessionsShareTheirCertificatesContext() throws {
        let sessions = try (0..<3).map { _ in try DTLSSession(role: .server, certificate: serverCertificate, expectedFingerprint: nil) }
        #expect(Set(sessions.map(\.contextIdentity)).count == 1)
        let other = try DTLSSession(role: .client, certificate: clientCertificate, expectedFingerprint: nil)
        #expect(other.contextIdentity != sessions[0].contextIdentity)
    }

    @Test(arguments: [SRTPKeyMaterial.Profile.aes128CmSha1_80, .aeadAes128Gcm])
    func srtpRoundTripReplayAndTamper(profile: SRTPKeyMaterial.Profile) throws {
        let key = (0..<(profile == .aeadAes128Gcm ? 28 : 30)).map { UInt8($0) }
        let sender = try SRTPContext(profile: profile, key: key, inbound: false)
        let receiver = try SRTPContext(profile: profile, key: key, inbound: true)
        var packet = rtp(1)
        #expect(sender.protect(&packet))
        #expect(packet != rtp(1) && packet.count > rtp(1).count)
        let protected = packet
        #expect(receiver.unprotect(&packet) && packet == rtp(1))
        var replay = protected
        #expect(!receiver.unprotect(&replay), "replays are dropped")
        var next = rtp(2)
        #expect(sender.protect(&next))
        next[20] ^= 1
        #expect(!receiver.unprotect(&next), "tampered packets are dropped")
        var short: [UInt8] = [0x80, 96, 0]
        #expect(!receiver.unprotect(&short))
        var rtcp: [UInt8] = [0x81, 201, 0, 7, 0, 0, 0, 1] + Array(repeating: 7, count: 24)
        let original = rtcp
        #expect(sender.protect(&rtcp, rtcp: true) && receiver.unprotect(&rtcp, rtcp: true) && rtcp == original)
    }
}
