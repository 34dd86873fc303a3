import Codecs
import MediaCore
import RTP
import SDP
import STUN
import SecureTransport
#if canImport(Glibc)
import Glibc
#endif

/// A WebRTC publisher of our own: WHIP over HTTP/1.1, ICE-controlling, DTLS client, SRTP, sending VP8 + Opus
/// in real time with sender reports, answering NACKs (retransmission) and PLIs (keyframes). The media is a
/// live-encoded test pattern or a pre-encoded file. Used by `mcu-record publish`, the demo, tests and load tests.
public final class WHIPPublisher {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    let certificate: DTLSCertificate
    let ufrag = WHIPPublisher.random(8), pwd = WHIPPublisher.random(24)
    public private(set) var location: String?

    public init() throws { certificate = try DTLSCertificate() }

    var offer: String {
        """
        v=0\r\no=- \(UInt32.random(in: 1...UInt32.max)) 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
        a=ice-ufrag:\(ufrag)\r\na=ice-pwd:\(pwd)\r\na=fingerprint:sha-256 \(certificate.fingerprint)\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
        a=setup:active\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n\
        a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=setup:active\r\n
        """
    }

    /// What to publish.
    public enum Source: Sendable {
        /// A VP8 + Opus WebM, sent as it is (looped when a duration is given).
        case file(String)
        /// The live test signal: `size` at `fps`, background `colour`, a flash and a `tone` Hz beep every second.
        case pattern(size: PixelSize, fps: Int, colour: RGBAColor, tone: Double)
    }

    /// Sender behaviour that servers must survive: picture size changes, SSRC switches and pauses in sending (a
    /// muted or replaced track: no media, RTCP and consent go on), every so many seconds.
    public struct Churn: Sendable {
        public var resizeEvery: Double?
        public var switchSSRCEvery: Double?
        public var pauseEvery: Double?
        public var pauseFor: Double
        public init(resizeEvery: Double? = nil, switchSSRCEvery: Double? = nil, pauseEvery: Double? = nil, pauseFor: Double = 5) {
            self.resizeEvery = resizeEvery; self.switchSSRCEvery = switchSSRCEvery; self.pauseEvery = pauseEvery; self.pauseFor = pauseFor
        }
    }

    /// What happened on the wire, for the caller's summary.
    public struct Statistics: Sendable {
        public var videoFrames = 0, audioFrames = 0, packets = 0, retransmitted = 0, keyframeRequests = 0
    }

    public private(set) var statistics = Statistics()

    /// Publishes `source` to `whip` (http://host:port/rooms/NAME/whip) for `duration` seconds (nil: a file
    /// once; the pattern until `shouldStop`), then ends the session with a WHIP DELETE.
    public func run(whip: String, name: String, token: String?, source: Source, duration: Double?, churn: Churn = Churn(),
                    shouldStop: () -> Bool = { false }) throws {
        let feed: MediaFeed
        do {
            switch source {
            case let .file(path): feed = try FileFeed(path: path, loop: duration != nil)
            case let .pattern(size, fps, colour, tone):
                feed = try PatternFeed(size: size, fps: fps, colour: colour, tone: tone, resizeEvery: churn.resizeEvery)
            }
        } catch { throw Failure(description: "\(error)") }
        guard whip.hasPrefix("http://") || whip.hasPrefix("https://") else { throw Failure(description: "a WHIP URL is http:// or https://, not \(whip)") }
        let query = name.isEmpty ? "" : (whip.contains("?") ? "&" : "?") + "name=" + name.utf8.map { c -> String in
            let ch = Character(Unicode.Scalar(c))
            return ch.isASCII && (ch.isLetter || ch.isNumber) ? String(ch) : "%" + (c < 16 ? "0" : "") + String(c, radix: 16, uppercase: true)
        }.joined()
        let http = WHIPClient(token: token)
        defer { http.shutdown() }
        let response: WHIPClient.Response
        do { response = try http.offer(offer, to: whip + query, name: name.allSatisfy(\.isASCII) ? name : "") } catch { throw Failure(description: "cannot reach \(whip): \(error)") }
        guard response.status == 201 else { throw Failure(description: "WHIP answered \(response.status): \(response.body)") }
        location = response.location
        let answer = try SessionDescription(parsing: response.body)
        guard let media = answer.media.first, let remoteUfrag = media.iceUfrag, let remotePwd = media.icePwd,
              let candidate = response.body.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("a=candidate:") }) else {
            throw Failure(description: "the answer has no ICE credentials or candidate")
        }
        let fields = candidate.split(separator: " ")
        guard fields.count >= 6, let mediaPort = Int(fields[5]) else { throw Failure(description: "malformed candidate") }
        let socket = try UDPSocket(host: String(fields[4]), port: mediaPort)
        defer { leave(http) }

        let check = STUNMessageBuilder.iceCheck(remoteUfrag: remoteUfrag, localUfrag: ufrag, remotePassword: remotePwd)
        var answered = false
        for _ in 0..<10 where !answered {
            socket.send(check)
            if let reply = socket.receive(), (try? STUNMessage(parsing: reply))?.messageClass == .success { answered = true }
        }
        guard answered else { throw Failure(description: "no answer to the ICE connectivity check") }
        let remote = media.fingerprint ?? answer.fingerprint
        let dtls = try DTLSSession(role: .client, certificate: certificate, expectedFingerprint: remote?.value,
                                   fingerprintAlgorithm: remote?.algorithm ?? "sha-256")
        for d in dtls.start() { socket.send(d) }
        for _ in 0..<40 {
            guard case .handshaking = dtls.state else { break }
            if let d = socket.receive() { for reply in dtls.receive(d) { socket.send(reply) } } else { for r in dtls.handleTimeout() { socket.send(r) } }
        }
        guard case let .connected(keys) = dtls.state else { throw Failure(description: "DTLS did not complete: \(dtls.state)") }
        let sender = RTPSender(socket: socket, keepAlive: check,
                               outbound: try SRTPContext(profile: keys.profile, key: keys.clientKey, inbound: false),
                               inbound: try SRTPContext(profile: keys.profile, key: keys.serverKey, inbound: true),
                               churn: churn)
        sender.sendsVideo = answer.media.contains { $0.kind == "video" && $0.port != 0 }
        do { try sender.stream(feed, duration: duration, shouldStop: shouldStop) } catch { throw Failure(description: "\(error)") }
        statistics = sender.statistics
    }

    private func leave(_ http: WHIPClient) {
        guard let location else { return }
        _ = try? http.end(location)
    }

    static func random(_ n: Int) -> String {
        let a = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<n).map { _ in a[Int.random(in: 0..<a.count)] })
    }
}

/// A connected UDP socket with a short receive timeout.
final class UDPSocket {
    let fd: Int32
    init(host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw WHIPPublisher.Failure(description: "bad candidate address \(host)") }
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw WHIPPublisher.Failure(description: "cannot reach \(host):\(port)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }
    func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } }
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer.prefix(n)) : nil
    }
    /// A datagram if one is waiting, without blocking.
    func receiveNow() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return n > 0 ? Array(buffer.prefix(n)) : nil
    }
}
