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
    private var host = "", port = 0

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
        guard whip.hasPrefix("http://") else { throw Failure(description: "only http:// WHIP URLs are supported") }
        let rest = whip.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }, path = String(rest.dropFirst(authority.count))
        let hostPort = authority.split(separator: ":")
        guard let first = hostPort.first else { throw Failure(description: "no host in \(whip)") }
        host = String(first); port = hostPort.count > 1 ? Int(hostPort[1]) ?? 80 : 80
        let query = name.isEmpty ? "" : "?name=" + name.utf8.map { c -> String in
            let ch = Character(Unicode.Scalar(c))
            return ch.isLetter || ch.isNumber ? String(ch) : "%" + String(c, radix: 16, uppercase: true)
        }.joined()
        let response = try HTTP.request(host: host, port: port, method: "POST", path: path + query, token: token,
                                        contentType: "application/sdp", body: offer)
        guard response.status == 201 else { throw Failure(description: "WHIP answered \(response.status): \(response.body)") }
        location = response.headers["location"]
        let answer = try SessionDescription(parsing: response.body)
        guard let media = answer.media.first, let remoteUfrag = media.iceUfrag, let remotePwd = media.icePwd,
              let candidate = response.body.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("a=candidate:") }) else {
            throw Failure(description: "the answer has no ICE credentials or candidate")
        }
        let fields = candidate.split(separator: " ")
        guard fields.count >= 6, let mediaPort = Int(fields[5]) else { throw Failure(description: "malformed candidate") }
        let socket = try UDPSocket(host: String(fields[4]), port: mediaPort)
        defer { leave(token: token) }

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
        do { try sender.stream(feed, duration: duration, shouldStop: shouldStop) } catch { throw Failure(description: "\(error)") }
        statistics = sender.statistics
    }

    private func leave(token: String?) {
        guard let location else { return }
        _ = try? HTTP.request(host: host, port: port, method: "DELETE", path: location, token: token, contentType: nil, body: nil)
    }

    static func random(_ n: Int) -> String {
        let a = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<n).map { _ in a[Int.random(in: 0..<a.count)] })
    }
}

/// The little HTTP/1.1 WHIP needs: one request per connection.
enum HTTP {
    struct Response { var status: Int; var headers: [String: String]; var body: String }

    static func request(host: String, port: Int, method: String, path: String, token: String?, contentType: String?, body: String?) throws -> Response {
        var hints = addrinfo(ai_flags: 0, ai_family: AF_INET, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0, ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { throw WHIPPublisher.Failure(description: "cannot resolve \(host)") }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        defer { close(fd) }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { throw WHIPPublisher.Failure(description: "cannot connect to \(host):\(port)") }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        if let contentType { text += "Content-Type: \(contentType)\r\n" }
        text += "Content-Length: \(body?.utf8.count ?? 0)\r\n\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw WHIPPublisher.Failure(description: "connection closed while sending") }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer.prefix(n)
            if received.count > 1 << 20 { break }
        }
        guard let end = (0..<max(0, received.count - 3)).first(where: { received[$0] == 13 && received[$0 + 1] == 10 && received[$0 + 2] == 13 && received[$0 + 3] == 10 }) else {
            throw WHIPPublisher.Failure(description: "malformed HTTP response")
        }
        let head = String(decoding: received[..<end], as: UTF8.self).split(whereSeparator: \.isNewline)
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2, let status = Int(statusLine.split(separator: " ")[1]) else {
            throw WHIPPublisher.Failure(description: "malformed HTTP status line")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].drop { $0 == " " }.description
        }
        return Response(status: status, headers: headers, body: String(decoding: received[(end + 4)...], as: UTF8.self))
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
