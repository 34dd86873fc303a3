import Foundation
import NIOPosix
import SDP
import STUN
import SecureTransport
import Session
import Testing
@testable import Transport

/// Sessions we open (WHEP, Janus) on the shared port: our checks go out, the answers find their session, and the
/// STUN binding that learns our server-reflexive address.
@Suite(.serialized, .timeLimit(.minutes(1))) struct OutgoingSessionTests {
    static func negotiation(remotePort: UInt16) throws -> Negotiation {
        let options = AnswerOptions(iceUfrag: "ours", icePwd: "our-password-0123456789ab", fingerprint: try DTLSCertificate().fingerprint,
                                    candidates: [("127.0.0.1", 9)], sessionID: 1, iceLite: false)
        let offer = SDPOfferer.offer(kinds: ["video"], options: options)
        let answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=ice-ufrag:lite\r\na=ice-pwd:lite-password-0123456789ab\r\n"
            + "a=fingerprint:sha-256 \(try DTLSCertificate().fingerprint)\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
            + "a=setup:active\r\na=rtpmap:96 VP8/90000\r\na=candidate:1 1 udp 2130706431 127.0.0.1 \(remotePort) typ host\r\n"
        return try SDPOfferer.negotiate(offer: offer, answer: answer)
    }

    /// An ICE-lite server at a test socket: our session checks it from the shared port, its answer is routed back
    /// by address (a STUN response names no ufrag), and the session nominates it.
    @Test func ourChecksReachTheRemoteCandidateAndItsAnswersComeBack() async throws {
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, ingest: IngestClosure { _, _ in })
        defer { Task { await transport.close() } }
        let server = try TestSocket()
        let negotiation = try Self.negotiation(remotePort: server.localPort)
        let certificate = try DTLSCertificate()
        try await transport.addOutgoing(sessionID: "pull", ufrag: "ours") {
            try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: "ours", localPassword: "our-password-0123456789ab",
                            now: transport.now(), fullICE: true)
        }
        // The remote candidate routes to the session from the start; a second session to that address could not be
        // told apart from it on this port: refused.
        #expect(await transport.boundSession(of: TransportAddress(ipv4: "127.0.0.1", port: server.localPort)!) == "pull")
        await #expect(throws: UDPTransport.OutgoingConflict.self) {
            try await transport.addOutgoing(sessionID: "twin", ufrag: "twin") {
                try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: "twin", localPassword: "our-password-0123456789ab",
                                now: transport.now(), fullICE: true)
            }
        }
        let lite = ICELiteResponder(localUfrag: "lite", localPassword: "lite-password-0123456789ab", remoteUfrag: "ours")
        var nominated = false
        let deadline = Date().addingTimeInterval(5)
        while !nominated, Date() < deadline {
            guard let check = server.receive() else { continue }    // nothing within 300 ms: wait on (slow builds)
            guard case let .success(response, nominate, _) = lite.handle(check, from: TransportAddress(ipv4: "127.0.0.1", port: UInt16(transport.localPort))!) else {
                Issue.record("not a valid check"); return
            }
            nominated = nominate
            server.send(response, port: transport.localPort)
        }
        #expect(nominated, "the session nominated the pair after its check was answered")
    }

    /// An SFU with one port for everyone: a second session to it gets a socket of its own (reserved before its
    /// offer), and both sessions' checks are answered and nominate — each socket's datagrams reach its session.
    @Test func aSecondSessionToTheSameAddressRunsOnASocketOfItsOwn() async throws {
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, ingest: IngestClosure { _, _ in })
        defer { Task { await transport.close() } }
        let server = try TestSocket()
        let negotiation = try Self.negotiation(remotePort: server.localPort)
        let certificate = try DTLSCertificate()
        let remote = TransportAddress(ipv4: "127.0.0.1", port: server.localPort)!
        #expect(await !transport.talksTo([remote]))
        try await transport.addOutgoing(sessionID: "first", ufrag: "ours") {
            try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: "ours", localPassword: "our-password-0123456789ab",
                            now: transport.now(), fullICE: true)
        }
        let own = try await transport.reserveSocket(sessionID: "second", host: "127.0.0.1")
        #expect(own != transport.localPort && own > 0)
        try await transport.addOutgoing(sessionID: "second", ufrag: "ours") {
            try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: "ours", localPassword: "our-password-0123456789ab",
                            now: transport.now(), fullICE: true)
        }
        #expect(await transport.talksTo([remote]))
        let lite = ICELiteResponder(localUfrag: "lite", localPassword: "lite-password-0123456789ab", remoteUfrag: "ours")
        var nominatedFrom: Set<Int> = []
        let deadline = Date().addingTimeInterval(5)
        while nominatedFrom.count < 2, Date() < deadline {
            var buffer = [UInt8](repeating: 0, count: 2048)
            var from = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(server.fd, &buffer, buffer.count, 0, $0, &length) } }
            guard n > 0 else { continue }
            let port = Int(UInt16(bigEndian: from.sin_port))
            guard case let .success(response, nominate, _) = lite.handle(Array(buffer.prefix(n)), from: TransportAddress(ipv4: "127.0.0.1", port: UInt16(port))!) else { continue }
            if nominate { nominatedFrom.insert(port) }
            server.send(response, port: port)
        }
        #expect(nominatedFrom == [transport.localPort, own], "both sessions nominated, each from its own port: \(nominatedFrom)")
    }

    /// Our address as a STUN server sees it, from the shared port; nil when the server never answers.
    @Test func theReflexiveAddressComesFromTheSTUNServersAnswer() async throws {
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, ingest: IngestClosure { _, _ in })
        defer { Task { await transport.close() } }
        let stun = try TestSocket()
        let server = TransportAddress(ipv4: "127.0.0.1", port: stun.localPort)!
        let asking = Task { await transport.reflexiveAddress(stunServer: server) }
        // The server drops the first request and answers the next with where it came from (as a NAT would have
        // rewritten it); on a thread of its own, since its socket blocks.
        let (fd, reply) = (stun.fd, transport.localPort)
        let requests = await withCheckedContinuation { (done: CheckedContinuation<Int, Never>) in
            Thread.detachNewThread { done.resume(returning: Self.answerSecondRequest(fd: fd, replyPort: reply)) }
        }
        #expect(requests == 2)
        #expect(await asking.value == TransportAddress(ipv4: "203.0.113.77", port: 41000))
        let silent = try TestSocket()
        #expect(await transport.reflexiveAddress(stunServer: TransportAddress(ipv4: "127.0.0.1", port: silent.localPort)!, timeoutMilliseconds: 300) == nil)
    }

    /// Reads binding requests on `fd` (for at most 3 s); answers the second. Returns how many came.
    static func answerSecondRequest(fd: Int32, replyPort: Int) -> Int {
        var count = 0
        for _ in 0..<10 {
            var buffer = [UInt8](repeating: 0, count: 2048)
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0, let message = try? STUNMessage(parsing: Array(buffer.prefix(n))), message.messageClass == .request else { continue }
            count += 1
            guard count == 2 else { continue }
            var builder = STUNMessageBuilder(class: .success, transactionID: message.transactionID)
            builder.addXorMappedAddress(TransportAddress(ipv4: "203.0.113.77", port: 41000)!)
            let bytes = builder.encoded
            var to = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(replyPort).bigEndian),
                                 sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            _ = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            return count
        }
        return count
    }
}
