import Codecs
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MediaCore
import RTP
import SDP
import STUN
import SecureTransport
import Testing

/// `mcu-record --room` running as a child process; its URLs read from its output.
final class RoomProcess {
    let process = Process()
    let base: String
    private let out = Pipe()
    private(set) var output = ""
    /// The server's log (stderr), checked for error lines when it stops.
    let logPath: String
    private let errorsExpected: Bool

    /// `room` nil: a server that takes any room. `errorsExpected`: the test provokes failures the server must log.
    init(room: String?, extra: [String] = [], errorsExpected: Bool = false) throws {
        self.errorsExpected = errorsExpected
        logPath = Paths.temporary("room-log-\(UUID().uuidString.prefix(8)).txt")
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Paths.binary)
        process.arguments = (room.map { ["--room", $0] } ?? []) + ["--http", "127.0.0.1:0", "--size", "320x180", "--preset", "ultrafast",
                             "--output", Paths.temporary("rooms")] + extra
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        let descriptor = out.fileHandleForReading.fileDescriptor
        while !text.contains("media:"), Date() < deadline {
            // Wait for output at most until the deadline: a server that hangs silently fails the test, not the run.
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) >= 0 else { break }
            guard ready.revents != 0 else { continue }
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        output = text
        guard text.contains("media:") else {
            process.finish(within: 0)
            throw MediaError(.invalidArgument, "the room server did not start within 20 s: \(text)")
        }
        guard let line = text.split(separator: "\n").first(where: { $0.contains("WHIP http://") }),
              let url = line.split(separator: " ").last, let range = url.range(of: "/rooms/") else {
            throw MediaError(.invalidArgument, "no WHIP URL in: \(text)")
        }
        base = String(url[..<range.lowerBound])
    }

    /// Starts aiortc publishing `clip` to this room for `seconds` (stdout/stderr to `output`, else discarded).
    func aiortc(room: String, clip: String, seconds: Int, name: String, output: Pipe? = nil) throws -> Process {
        let python = Paths.root.appendingPathComponent(".build-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw MediaError(.invalidArgument, "no aiortc: run scripts/peers-venv.sh (make test does)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [Paths.root.appendingPathComponent("Tests/peers/aiortc_publish.py").path, "\(base)/rooms/\(room)/whip",
                       clip.hasPrefix("/") ? clip : Paths.fixture(clip), String(seconds), name]
        p.standardOutput = output ?? FileHandle.nullDevice
        p.standardError = output ?? FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Starts headless Chromium on this room's join page (joining at once as "Chromium") with a fake camera and
    /// microphone playing the given fixtures.
    func chromium(room: String, camera: String, microphone: String, query: String = "") throws -> Process {
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: try executable("chromium", package: "chromium"))
        browser.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                             "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
                             "--user-data-dir=\(Paths.temporary("chromium-\(room)"))",
                             "--use-file-for-fake-video-capture=\(Paths.fixture(camera))",
                             "--use-file-for-fake-audio-capture=\(Paths.fixture(microphone))",
                             "\(base)/rooms/\(room)?autojoin=1&name=Chromium\(query)"]
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        return browser
    }

    /// SIGINT, then the path of the recording the room reported.
    func stopAndRecording(_ room: String) throws -> String {
        let printed = stop()
        guard let line = printed.split(separator: "\n").first(where: { $0.hasPrefix("recorded \(room):") }) else {
            throw MediaError(.outputUnwritable, "no recording reported: \(printed)")
        }
        return String(line.split(separator: " ")[2])
    }

    /// SIGINT, then everything it printed. A normal stop logs no errors: any error line in the log fails the test
    /// (unless the test provoked errors).
    func stop(sourceLocation: SourceLocation = #_sourceLocation) -> String {
        kill(process.processIdentifier, SIGINT)
        process.finish(within: 120)
        let rest = out.fileHandleForReading.readDataToEndOfFile()
        output += String(decoding: rest, as: UTF8.self)
        if !errorsExpected {
            let errors = RoomProcess.errorLines(in: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
            #expect(errors.isEmpty, "the server logged errors: \(errors.prefix(5))", sourceLocation: sourceLocation)
        }
        return output
    }

    /// Waits for the server to end by itself (a limit), then everything it printed; nil if it was still running
    /// after `seconds` (then it is stopped). Its log is checked as `stop()` does.
    func exited(within seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let ended = process.finish(within: seconds)
        output += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if !errorsExpected {
            let errors = RoomProcess.errorLines(in: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
            #expect(errors.isEmpty, "the server logged errors: \(errors.prefix(5))", sourceLocation: sourceLocation)
        }
        return ended ? output : nil
    }

    /// Log lines at level error or critical (swift-log's `TIMESTAMP LEVEL LABEL: …`).
    static func errorLines(in log: String) -> [Substring] {
        log.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", maxSplits: 2)
            return fields.count >= 2 && (fields[1] == "error" || fields[1] == "critical")
        }
    }

    /// A test that failed half-way leaves no server running.
    deinit { process.stopIfRunning() }
}

func http(_ method: String, _ url: String, body: String? = nil, contentType: String? = "application/sdp", token: String? = nil) async throws -> (Int, String, [String: String]) {
    let (status, data, headers) = try await httpData(method, url, body: body.map { Data($0.utf8) }, contentType: contentType, token: token)
    return (status, String(decoding: data, as: UTF8.self), headers)
}

func httpData(_ method: String, _ url: String, body: Data? = nil, contentType: String? = nil, token: String? = nil, accept: String? = nil) async throws -> (Int, Data, [String: String]) {
    var request = URLRequest(url: URL(string: url)!)
    if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
    request.httpMethod = method
    if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    request.httpBody = body
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var headers: [String: String] = [:]
    for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
    return (http.statusCode, data, headers)
}

/// A WHIP publisher made of the project's client-side pieces, streaming a file in real time.
struct TestPublisher {
    let certificate = try! DTLSCertificate()
    let ufrag = "pubr", pwd = "publisherpassword0123456"

    var offer: String {
        """
        v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
        a=ice-ufrag:\(ufrag)\r\na=ice-pwd:\(pwd)\r\na=fingerprint:sha-256 \(certificate.fingerprint)\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n
        """
    }

    func stream(answer: String, file: String) async throws {
        let description = try SessionDescription(parsing: answer)
        let media = try #require(description.media.first)
        let port = try #require(answer.split(whereSeparator: \.isNewline).first { $0.hasPrefix("a=candidate:") }.flatMap { Int($0.split(separator: " ")[5]) })
        let socket = try UDPClient()
        socket.send(STUNMessageBuilder.iceCheck(remoteUfrag: media.iceUfrag!, localUfrag: ufrag, remotePassword: media.icePwd!), port: port)
        _ = try #require(socket.receive(), "no STUN answer")
        let dtls = try DTLSSession(role: .client, certificate: certificate, expectedFingerprint: media.fingerprint?.value)
        for d in dtls.start() { socket.send(d, port: port) }
        for _ in 0..<20 {
            guard case .handshaking = dtls.state else { break }
            if let d = socket.receive() { for reply in dtls.receive(d) { socket.send(reply, port: port) } }
            else { for retry in dtls.handleTimeout() { socket.send(retry, port: port) } }
        }
        guard case let .connected(keys) = dtls.state else { throw MediaError(.codecFailure, "DTLS: \(dtls.state)") }
        let srtp = try SRTPContext(profile: keys.profile, key: keys.clientKey, inbound: false)
        let demuxer = try MediaFileDemuxer(path: file)
        let started = Date()
        var seq: [Bool: UInt16] = [true: 0, false: 0]
        while let packet = demuxer.next() {
            let due = Double(packet.time) / 1e6 - Date().timeIntervalSince(started)
            if due > 0 { try await Task.sleep(nanoseconds: UInt64(due * 1e9)) }
            let payloads = Packetizer.payloads(packet.video ? .vp8 : .opus, frame: packet.data)
            for (i, payload) in payloads.enumerated() {
                var bytes = RTPPacket.build(payloadType: packet.video ? 96 : 111, sequenceNumber: seq[packet.video]!,
                                            timestamp: UInt32(truncatingIfNeeded: packet.time * (packet.video ? 90 : 48) / 1000),
                                            ssrc: packet.video ? 2 : 1, marker: packet.video && i == payloads.count - 1, payload: payload)
                seq[packet.video]! &+= 1
                _ = srtp.protect(&bytes)
                socket.send(bytes, port: port)
            }
        }
    }
}

final class UDPClient {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    init() throws {
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }
    func send(_ bytes: [UInt8], port: Int) {
        var a = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian), sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        _ = bytes.withUnsafeBytes { raw in withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } }
    }
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer.prefix(n)) : nil
    }
}

/// Checks a room recording: how many frames show `hex` where a lone participant's picture is, and that the
/// participant's `hz` tone is somewhere in the mix.
func expectParticipantRecorded(_ path: String, colour hex: String, minFrames: Int, tone hz: Double = 300, tolerance: Double = 15,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
    let frames = try decodePictures(path).filter { p in
        guard let m = p.meanYUV(in: PixelRect(x: 100, y: 60, width: 120, height: 60)) else { return false }
        return distance(m, yuv(ofHex: hex)) < tolerance
    }
    #expect(frames.count > minFrames, "\(frames.count) frames show the participant", sourceLocation: sourceLocation)
    let audio = try decodeAudio(path)
    let best = stride(from: 0, to: max(0, audio.left.count - 48_000), by: 24_000).map { goertzel(audio.left[$0..<($0 + 48_000)], frequency: hz) }.max() ?? 0
    #expect(best > 2e-5, "the participant's \(hz) Hz tone is in the mix", sourceLocation: sourceLocation)
}

@Suite(.serialized, .timeLimit(.minutes(10))) struct LiveRoomTests {
    @Test func whipPublisherIsRecordedByTheRoomCommand() async throws {
        let room = try RoomProcess(room: "e2e")
        let publisher = TestPublisher()
        let (status, answer, headers) = try await http("POST", "\(room.base)/rooms/e2e/whip?name=Red", body: publisher.offer)
        #expect(status == 201, "\(answer)")
        let location = try #require(headers["location"])
        #expect(location.hasPrefix("/rooms/e2e/whip/") && location.count >= "/rooms/e2e/whip/".count + 32, "unguessable: \(location)")
        #expect(answer.contains("a=ice-lite") && headers["access-control-allow-origin"] == "*")
        // A stranger sprays the media port with garbage of every kind (STUN, DTLS, RTP, RTCP first bytes; empty to
        // 64 KB): dropped, and the participant is recorded all the same.
        let port = try #require(answer.split(whereSeparator: \.isNewline).first { $0.hasPrefix("a=candidate:") }.flatMap { Int($0.split(separator: " ")[5]) })
        let stranger = try UDPClient()
        var seed: UInt32 = 12345
        for i in 0..<3000 {
            seed = seed &* 1_103_515_245 &+ 12345
            let size = i == 0 ? 65_000 : Int(seed >> 16) % 1500
            var bytes = (0..<size).map { UInt8(truncatingIfNeeded: (seed >> 8) &+ UInt32($0) &* 2_654_435_761 >> 24) }
            if !bytes.isEmpty { bytes[0] = [0x00, 0x01, 0x16, 0x17, 0x80, 0x81, 0x90, 0xC8][i % 8] }
            stranger.send(bytes, port: port)
        }
        try await publisher.stream(answer: answer, file: Paths.fixture("colour-ff0000.webm"))
        try await Task.sleep(nanoseconds: 600_000_000)
        let (deleted, _, _) = try await http("DELETE", room.base + location, contentType: nil)
        #expect(deleted == 200)
        try expectParticipantRecorded(try room.stopAndRecording("e2e"), colour: "ff0000", minFrames: 45)
    }

    /// aiortc, a WebRTC stack this project did not write, publishes the red clip; the recording shows it.
    @Test func aiortcPublisherIsRecorded() async throws {
        let room = try RoomProcess(room: "aiortc")
        let out = Pipe()
        let peer = try room.aiortc(room: "aiortc", clip: "colour-ff0000.webm", seconds: 4, name: "Red", output: out)
        defer { peer.stopIfRunning() }
        peer.finish(within: 60)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(peer.terminationStatus == 0 && printed.contains("state connected"), "\(printed)")
        try expectParticipantRecorded(try room.stopAndRecording("aiortc"), colour: "ff0000", minFrames: 60)
    }

    /// Red publishes for 9 s; blue joins 3 s later and leaves after 3 s: blue appears only while present and the
    /// grid re-tiles around it.
    @Test func lateJoinerAndEarlyLeaverAppearOnlyWhilePresent() async throws {
        let room = try RoomProcess(room: "coming-and-going")
        let red = try room.aiortc(room: "coming-and-going", clip: "colour-ff0000.webm", seconds: 9, name: "Red")
        defer { red.stopIfRunning() }
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let blue = try room.aiortc(room: "coming-and-going", clip: "colour-0000ff.webm", seconds: 3, name: "Blue")
        defer { blue.stopIfRunning() }
        blue.finish()
        red.finish()
        let path = try room.stopAndRecording("coming-and-going")
        let pictures = try decodePictures(path)
        func shows(_ p: VideoPicture, _ hex: String, _ rect: PixelRect) -> Bool {
            guard let m = p.meanYUV(in: rect) else { return false }
            return distance(m, yuv(ofHex: hex)) < 20
        }
        let centre = PixelRect(x: 130, y: 70, width: 60, height: 40)         // one participant: the middle
        let left = PixelRect(x: 60, y: 110, width: 60, height: 40), right = PixelRect(x: 200, y: 110, width: 60, height: 40)
        let alone = pictures.indices.filter { shows(pictures[$0], "ff0000", centre) }
        let together = pictures.indices.filter { shows(pictures[$0], "ff0000", left) && shows(pictures[$0], "0000ff", right) }
        let blueAnywhere = pictures.indices.filter { i in [centre, left, right].contains { shows(pictures[i], "0000ff", $0) } }
        #expect(alone.count > 30 && together.count > 30, "red alone in \(alone.count) frames, side by side in \(together.count)")
        if let firstAlone = alone.first, let firstBlue = blueAnywhere.first, let lastBlue = blueAnywhere.last, let lastAlone = alone.last {
            #expect(firstAlone < firstBlue, "red is alone before blue joins")
            #expect(lastAlone > lastBlue, "red is alone again after blue leaves")
        } else {
            Issue.record("red alone \(alone.count), blue \(blueAnywhere.count)")
        }
    }

    /// Headless Chromium loads the join page with a fake red camera and a 300 Hz fake microphone and publishes.
    @Test func chromiumJoinPageIsRecorded() async throws {
        let room = try RoomProcess(room: "browser")
        let browser = try room.chromium(room: "browser", camera: "camera-red.y4m", microphone: "microphone-300.wav")
        defer { browser.stopIfRunning() }
        try await Task.sleep(nanoseconds: 9_000_000_000)
        browser.terminate()
        browser.finish()
        try expectParticipantRecorded(try room.stopAndRecording("browser"), colour: "ff0000", minFrames: 60, tolerance: 20)
    }

    @Test func badRequestsGetFourHundreds() async throws {
        let room = try RoomProcess(room: "guarded", extra: ["--token", "s3cret"])
        defer { _ = room.stop() }
        let offer = TestPublisher().offer
        #expect(try await http("POST", "\(room.base)/rooms/guarded/whip", body: offer).0 == 401)
        #expect(try await http("POST", "\(room.base)/rooms/guarded/whip", body: offer, token: "wrong").0 == 401)
        #expect(try await http("POST", "\(room.base)/rooms/other/whip", body: offer, token: "s3cret").0 == 404)
        #expect(try await http("POST", "\(room.base)/rooms/guarded/whip", body: offer, contentType: "text/plain", token: "s3cret").0 == 415)
        let bad = try await http("POST", "\(room.base)/rooms/guarded/whip", body: "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", token: "s3cret")
        #expect(bad.0 == 400 && bad.1.contains("fingerprint") || bad.1.contains("codec"), "\(bad)")
        #expect(try await http("POST", "\(room.base)/rooms/guarded/whip", body: String(repeating: "a=x\r\n", count: 20_000), token: "s3cret").0 == 413)
        #expect(try await http("DELETE", "\(room.base)/rooms/guarded/whip/nope", contentType: nil, token: "s3cret").0 == 404)
        #expect(try await http("OPTIONS", "\(room.base)/rooms/guarded/whip", contentType: nil).0 == 204)
    }
}
