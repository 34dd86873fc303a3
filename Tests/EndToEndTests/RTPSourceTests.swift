import Foundation
import MediaCore
import Testing

/// Plain RTP sources (`POST /rooms/{room}/sources`): what an SFU's PlainTransport or `rtp_forward`, ffmpeg or
/// GStreamer send, recorded like a WHIP participant.
@Suite(.serialized, .timeLimit(.minutes(5))) struct RTPSourceTests {
    static func ffmpeg(_ arguments: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try executable("ffmpeg", package: "ffmpeg"))
        p.arguments = ["-v", "error", "-nostdin", "-re", "-stream_loop", "2", "-i", Paths.fixture("colour-ff0000.webm")] + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// ffmpeg sends VP8 and Opus as they are in a WebM (`-f rtp`, RTCP on the next port) to the ports the API gave
    /// for codec descriptions; a stranger's packets to the same port are dropped; the source shows as a
    /// participant, is recorded with its picture and tone, and DELETE removes it.
    @Test func ffmpegVP8AndOpusAreRecorded() async throws {
        let room = try RoomProcess(room: "rtp")
        let request = #"{"type": "rtp", "name": "Encoder", "video": {"codec": "vp8", "payload_type": 96}, "audio": {"codec": "opus", "payload_type": 111}, "rtcp_mux": false}"#
        let (status, data, headers) = try await httpData("POST", "\(room.base)/rooms/rtp/sources", body: Data(request.utf8), contentType: "application/json")
        #expect(status == 201, "\(String(decoding: data, as: UTF8.self))")
        let source = object(data)
        let streams = try #require(source["streams"] as? [[String: Any]])
        let video = try #require(streams.first { $0["kind"] as? String == "video" }), audio = try #require(streams.first { $0["kind"] as? String == "audio" })
        let vp = try #require(video["port"] as? Int), ap = try #require(audio["port"] as? Int)
        #expect(video["rtcp_port"] as? Int == vp + 1 && audio["rtcp_port"] as? Int == ap + 1, "RTCP on the next ports: \(streams)")
        #expect((source["sdp"] as? String)?.contains("m=video \(vp) RTP/AVPF 96") == true)
        let id = try #require(source["id"] as? String)
        #expect(headers["location"] == "/rooms/rtp/sources/\(id)")

        let sender = try Self.ffmpeg(["-map", "0:v", "-c:v", "copy", "-payload_type", "96", "-f", "rtp", "rtp://127.0.0.1:\(vp)?rtcpport=\(vp + 1)",
                                      "-map", "0:a", "-c:a", "copy", "-payload_type", "111", "-f", "rtp", "rtp://127.0.0.1:\(ap)?rtcpport=\(ap + 1)"])
        defer { sender.stopIfRunning() }
        try await Task.sleep(nanoseconds: 2_000_000_000)
        // Someone else sends to the video port once the encoder's address is known: dropped.
        let stranger = try UDPClient()
        for i in 0..<50 { stranger.send([0x80, 96, 0, UInt8(i), 0, 0, 0, 0, 0, 0, 0, 9] + Array(repeating: 0xEE, count: 100), port: vp) }
        let (_, live, _) = try await httpData("GET", "\(room.base)/rooms/rtp")
        let participant = (object(live)["participants"] as? [[String: Any]])?.first { $0["name"] as? String == "Encoder" }
        let codecs = ((participant?["tracks"] as? [[String: Any]]) ?? []).compactMap { $0["codec"] as? String }
        #expect(codecs.sorted() == ["opus", "vp8"], "both tracks decode: \(String(decoding: live, as: UTF8.self))")
        sender.finish(within: 30)
        let (listed, list, _) = try await httpData("GET", "\(room.base)/rooms/rtp/sources")
        #expect(listed == 200 && (object(list)["sources"] as? [[String: Any]])?.count == 1)
        #expect(try await http("DELETE", "\(room.base)/rooms/rtp/sources/\(id)", contentType: nil).0 == 200)
        #expect(try await http("DELETE", "\(room.base)/rooms/rtp/sources/\(id)", contentType: nil).0 == 404)
        let (_, after, _) = try await httpData("GET", "\(room.base)/rooms/rtp")
        #expect((object(after)["participants"] as? [Any])?.isEmpty == true, "the source left")
        try expectParticipantRecorded(try room.stopAndRecording("rtp"), colour: "ff0000", minFrames: 150, tone: 300, tolerance: 20)
    }

    /// An SDP naming the ports (as ffmpeg's `-sdp_file` or GStreamer's would) with H.264: the server binds those
    /// ports and records what ffmpeg encodes to them.
    @Test func anSDPWithItsOwnPortsAndH264IsRecorded() async throws {
        let room = try RoomProcess(room: "rtpsdp")
        let vp = 2 * (try LossyRelay.freePort() / 2), ap = 2 * (try LossyRelay.freePort() / 2)
        let sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=ffmpeg\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=video \(vp) RTP/AVP 102\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n"
            + "m=audio \(ap) RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n"
        let body = try JSONSerialization.data(withJSONObject: ["type": "rtp", "name": "Camera", "sdp": sdp])
        let (status, data, _) = try await httpData("POST", "\(room.base)/rooms/rtpsdp/sources", body: body, contentType: "application/json")
        #expect(status == 201, "\(String(decoding: data, as: UTF8.self))")
        let ports = ((object(data)["streams"] as? [[String: Any]]) ?? []).compactMap { $0["port"] as? Int }
        #expect(ports == [vp, ap], "the SDP's ports: \(ports)")
        let sender = try Self.ffmpeg(["-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-payload_type", "102",
                                      "-f", "rtp", "rtp://127.0.0.1:\(vp)?rtcpport=\(vp + 1)",
                                      "-map", "0:a", "-c:a", "copy", "-payload_type", "97", "-f", "rtp", "rtp://127.0.0.1:\(ap)?rtcpport=\(ap + 1)"])
        defer { sender.stopIfRunning() }
        sender.finish(within: 30)
        try expectParticipantRecorded(try room.stopAndRecording("rtpsdp"), colour: "ff0000", minFrames: 150, tone: 300, tolerance: 20)
    }

    /// A sender that starts without a keyframe and makes none on its own (GStreamer `rtpbin` with its first second
    /// held back, listening for RTCP on the port it sends RTCP from, as Janus `rtp_forward` with an RTCP port and
    /// mediasoup do): the recorder's PLI reaches its encoder and the picture appears.
    /// The sender also mutes for 3 s (nothing sent) and resumes with delta frames only: the picture comes back
    /// through a second keyframe request.
    @Test func aSenderWithoutAKeyframeIsAskedForOne() async throws {
        let room = try RoomProcess(room: "rtppli")
        let request = #"{"type": "rtp", "name": "Forward", "video": {"codec": "vp8", "payload_type": 96}, "rtcp_mux": false}"#
        let (status, data, _) = try await httpData("POST", "\(room.base)/rooms/rtppli/sources", body: Data(request.utf8), contentType: "application/json")
        #expect(status == 201, "\(String(decoding: data, as: UTF8.self))")
        let stream = try #require((object(data)["streams"] as? [[String: Any]])?.first)
        let rtp = try #require(stream["port"] as? Int), rtcp = try #require(stream["rtcp_port"] as? Int)
        let sender = try LoggedPeer("/usr/bin/python3", [Paths.root.appendingPathComponent("Tests/peers/gst_rtp_send.py").path, "127.0.0.1", String(rtp),
                                                          String(rtcp), "--seconds", "12", "--hold", "1.5", "--mute", "5:3", "--colour", "0xffff0000"],
                                    log: "gst-rtp-send.txt")
        defer { sender.stop() }
        let ended = sender.process.finish(within: 40)
        let printed = sender.printed
        let requests = printed.range(of: "keyframe requests ").flatMap { Int(printed[$0.upperBound...].prefix { $0.isNumber }) } ?? 0
        #expect(ended && printed.contains("done") && printed.contains("muted") && requests >= 2,
                "the encoder was asked for a keyframe at the start and after the mute: \(printed.suffix(600))")
        let red = try decodePictures(try room.stopAndRecording("rtppli")).filter { p in
            p.meanYUV(in: PixelRect(x: 100, y: 60, width: 120, height: 60)).map { distance($0, yuv(ofHex: "ff0000")) < 20 } ?? false
        }
        #expect(red.count > 60, "\(red.count) frames show the picture")
        // A solid colour cannot show movement: the room's frozen time says whether new pictures came after the mute
        // (about 3 s frozen; 7 s or more if the picture never came back).
        let summary = try #require(SummaryLine(room.output, name: "Forward"), "\(room.output)")
        let frozen = try #require(summary.seconds(after: "frozen"), "\(summary.text)")
        print("mute: \(summary.text)")
        #expect(frozen >= 2.5 && frozen < 5, "frozen \(frozen) s around a 3 s mute: \(summary.text)")
    }

    /// Bad sources: each a 400 that says why, and the room goes on.
    @Test func badSourcesAreRefusedWithAReason() async throws {
        let room = try RoomProcess(room: "rtpbad")
        let cases: [(String, String)] = [
            (#"{"type": "sfu", "url": "http://127.0.0.1:1/sfu"}"#, "type"),
            (#"{"type": "rtp"}"#, "SDP"),
            (#"{"type": "rtp", "sdp": "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 MPV/90000\r\n"}"#, "no codec"),
            (#"{"type": "rtp", "video": {"codec": "vp8", "payload_type": 7}}"#, "payload_type"),
            (#"{"type": "rtp", "sdp": "v=0\r\nm=video 0 RTP/SAVP 96\r\na=rtpmap:96 VP8/90000\r\n"}"#, "crypto"),
        ]
        for (body, reason) in cases {
            let (status, data, _) = try await httpData("POST", "\(room.base)/rooms/rtpbad/sources", body: Data(body.utf8), contentType: "application/json")
            let text = String(decoding: data, as: UTF8.self)
            #expect(status == 400 && text.contains(reason), "\(body): \(status) \(text)")
        }
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("rtp source refused") && log.contains("no codec"), "the log says why: \(log.suffix(800))")
        #expect(try await http("GET", "\(room.base)/healthz", contentType: nil).0 == 200)
        _ = room.stop()
    }
}
