import Foundation
import NIOCore
import NIOPosix
import RTP
import SDP
import STUN
import SecureTransport
import Session
import Testing
@testable import Transport

/// A blocking UDP socket on loopback for the test publisher.
final class TestSocket {
    let fd: Int32
    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { Glibc.close(fd) }

    var localPort: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }

    func send(_ bytes: [UInt8], port: Int) {
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian), sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer.prefix(n)) : nil
    }
}

final class Collected: @unchecked Sendable {   // every access holds `lock`
    private let lock = NSLock()
    private var items: [PeerSession.Output] = []
    func add(_ o: PeerSession.Output) { lock.lock(); items.append(o); lock.unlock() }
    var frames: [String] {
        lock.lock(); defer { lock.unlock() }
        return items.compactMap { if case let .frame(mid, _, _, _, _) = $0 { mid } else { nil } }
    }
}

/// A publisher's side of a session on `transport`: offer answered, session added, ICE check answered, DTLS
/// done over a real socket. Returns the socket and the SRTP context to send media with.
func connectPublisher(to transport: UDPTransport, sessionID: String) async throws -> (TestSocket, SRTPContext) {
    let server = try DTLSCertificate(), publisher = try DTLSCertificate()
    let offer = """
    v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
    a=ice-ufrag:pubr\r\na=ice-pwd:publisherpassword0123456\r\na=fingerprint:sha-256 \(publisher.fingerprint)\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
    m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n
    """
    let negotiation = try SDPAnswerer.answer(offer: offer, options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                    fingerprint: server.fingerprint, candidates: [("127.0.0.1", transport.localPort)], sessionID: 1))
    try await transport.add(sessionID: sessionID, ufrag: "srvr") {
        try PeerSession(negotiation: negotiation, certificate: server, localUfrag: "srvr", localPassword: "serverpassword0123456789", now: transport.now())
    }
    let socket = try TestSocket()
    let port = transport.localPort
    // Checks are sent again until one is answered, as a real agent does (a loaded machine may take longer than the
    // socket's 300 ms wait), for up to 3 s.
    var answered = false
    for _ in 0..<10 where !answered {
        socket.send(STUNMessageBuilder.iceCheck(remoteUfrag: "srvr", localUfrag: "pubr", remotePassword: "serverpassword0123456789"), port: port)
        answered = socket.receive().flatMap { try? STUNMessage(parsing: $0) }?.messageClass == .success
    }
    guard answered else { throw SDPError.refused("the ICE check was not answered") }
    let dtls = try DTLSSession(role: .client, certificate: publisher, expectedFingerprint: server.fingerprint)
    for d in dtls.start() { socket.send(d, port: port) }
    for _ in 0..<20 {
        guard case .handshaking = dtls.state else { break }
        if let d = socket.receive() {
            // A late answer to a repeated check is not DTLS (RFC 7983: DTLS is 20-63).
            if (20...63).contains(d.first ?? 0) { for reply in dtls.receive(d) { socket.send(reply, port: port) } }
        } else {
            for retry in dtls.handleTimeout() { socket.send(retry, port: port) }
        }
    }
    guard case let .connected(keys) = dtls.state else { throw SDPError.refused("DTLS: \(dtls.state)") }
    return (socket, try SRTPContext(profile: keys.profile, key: keys.clientKey, inbound: false))
}

/// A closure as the transport's ingest.
final class IngestClosure: MediaIngest {
    let body: @Sendable (String, PeerSession.Output) -> Void
    init(_ body: @escaping @Sendable (String, PeerSession.Output) -> Void) { self.body = body }
    func ingest(sessionID: String, _ output: PeerSession.Output) { body(sessionID, output) }
}

@Suite(.timeLimit(.minutes(2))) struct UDPTransportTests {
    @Test func publisherOverLoopbackReachesItsSession() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let collected = Collected()
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: group, ingest: IngestClosure { _, output in collected.add(output) })
        let (socket, srtp) = try await connectPublisher(to: transport, sessionID: "p1")
        let stranger = try TestSocket()
        let port = transport.localPort

        for bytes in [[0x80, 96, 0, 0], [0x16, 0xFE, 0xFD], [0x00, 0x01, 0x00, 0x00]] as [[UInt8]] { stranger.send(bytes, port: port) }
        for k in 0..<5 {
            var video = RTPPacket.build(payloadType: 96, sequenceNumber: UInt16(k), timestamp: UInt32(k * 3000), ssrc: 9, marker: true,
                                        payload: [0x10, k == 0 ? 0 : 1, 0xAA])
            var audio = RTPPacket.build(payloadType: 111, sequenceNumber: UInt16(k), timestamp: UInt32(k * 960), ssrc: 8, payload: [0xFC, 0, 0])
            #expect(srtp.protect(&video) && srtp.protect(&audio))
            socket.send(video, port: port)
            socket.send(audio, port: port)
        }
        var frames: [String] = []
        for _ in 0..<100 where frames.count < 10 {
            try await Task.sleep(nanoseconds: 20_000_000)
            frames = collected.frames
        }
        #expect(frames.filter { $0 == "1" }.count == 5 && frames.filter { $0 == "0" }.count == 5, "frames: \(frames)")
        await transport.close()
        try await group.shutdownGracefully()
    }

    /// Closing the transport stops its session timer: nothing polls sessions or reaches the ingest afterwards.
    @Test func theTimerStopsWithTheTransport() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: group, ingest: IngestClosure { _, _ in })
        try await Task.sleep(nanoseconds: 100_000_000)
        let running = await transport.ticks
        #expect(running > 0, "the timer runs while the transport is open")
        await transport.close()
        let atClose = await transport.ticks
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(await transport.ticks == atClose, "no tick after close")
        try await group.shutdownGracefully()
    }

    /// A STUN check with the session's ufrag but a wrong password is answered with an error and binds nothing: the
    /// address is not routed to the session (before, any reply bound it).
    @Test func aFailedCheckBindsNoAddress() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: group, ingest: IngestClosure { _, _ in })
        let (good, _) = try await connectPublisher(to: transport, sessionID: "p1")
        let stranger = try TestSocket()
        stranger.send(STUNMessageBuilder.iceCheck(remoteUfrag: "srvr", localUfrag: "pubr", remotePassword: "not-the-password-at-all"), port: transport.localPort)
        let reply = try #require(stranger.receive(), "the bad check is answered")
        #expect((try? STUNMessage(parsing: reply))?.messageClass == .error)
        let strangerAddress = TransportAddress(ip: [127, 0, 0, 1], port: stranger.localPort)
        #expect(await transport.boundSession(of: strangerAddress) == nil, "a failed check binds nothing")
        #expect(await transport.boundSession(of: TransportAddress(ip: [127, 0, 0, 1], port: good.localPort)) == "p1", "a good one does")
        await transport.close()
        try await group.shutdownGracefully()
    }
}
