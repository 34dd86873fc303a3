import Foundation
import MediaCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// nginx with its RTMP module (Debian's nginx and libnginx-mod-rtmp), on a loopback port, in a folder of its own;
/// RTMPS on `tlsPort`: TLS ended by nginx's stream module (a self-signed certificate made here) in front of it.
final class RTMPServer {
    let port: Int, tlsPort: Int
    let folder: String
    private var peer: LoggedPeer?

    init() throws {
        port = try freeTCPPort()
        tlsPort = try freeTCPPort()
        folder = Paths.temporary("nginx-\(port)")
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        let modules = "/usr/lib/nginx/modules/"
        for module in ["ngx_rtmp_module.so", "ngx_stream_module.so"] where !FileManager.default.fileExists(atPath: modules + module) {
            throw MediaError(.invalidArgument, "no \(module): install libnginx-mod-rtmp and libnginx-mod-stream (make test does)")
        }
        let certificate = try run(try executable("openssl", package: "openssl"),
                                  ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                                   "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem"], within: 30)
        guard certificate.status == 0 else { throw MediaError(.invalidArgument, "openssl: \(certificate.stderr)") }
        try """
        load_module \(modules)ngx_rtmp_module.so;
        load_module \(modules)ngx_stream_module.so;
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(folder)/nginx.pid;
        error_log \(folder)/logs/error.log;
        events { worker_connections 64; }
        rtmp { server { listen 127.0.0.1:\(port); application live { live on; record off; } } }
        stream { server { listen 127.0.0.1:\(tlsPort) ssl; ssl_certificate \(folder)/cert.pem; ssl_certificate_key \(folder)/key.pem;
                          proxy_pass 127.0.0.1:\(port); } }
        """.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        try start()
    }

    func start() throws {
        peer = try LoggedPeer(try executable("nginx", package: "nginx"), ["-p", folder, "-c", folder + "/nginx.conf"], log: "nginx-\(port).log")
        guard waitForTCP(port) else { throw MediaError(.invalidArgument, "nginx did not start: \(peer?.printed ?? "")") }
    }

    func stop() { peer?.stop(); peer = nil }
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct LiveOutputTests {
    /// One composite, one encoder, four outputs: the recording, HLS served by the recorder (read live by ffmpeg's
    /// HLS demuxer; segments on keyframes; a VOD with EXT-X-ENDLIST at the end) and RTMP and RTMPS pushes to nginx
    /// (pulled back and decoded; nginx restarted mid-stream, the push reconnects; the recording does not notice).
    @Test func hlsAndRTMPFromTheRecordingsEncoder() async throws {
        let nginx = try RTMPServer()
        defer { nginx.stop() }
        let folder = Paths.temporary("live-\(UInt32.random(in: 0...UInt32.max))")
        let room = try RoomProcess(room: "live", extra: ["--output", folder, "--hls", "--rtmp", "rtmp://127.0.0.1:\(nginx.port)/live/{room}",
                                                         "--rtmp", "rtmps://127.0.0.1:\(nginx.tlsPort)/live/{room}-tls"])
        defer { room.process.stopIfRunning() }
        let ann = try publishPattern(room, "Ann", room: "live", colour: "d04030", seconds: 60)
        defer { ann.terminate() }
        _ = try await waitForParticipants(room, "live", count: 1)
        try await Task.sleep(nanoseconds: 8_000_000_000)
        let (_, described, _) = try await httpData("GET", "\(room.base)/rooms/live")
        let recording = try #require(object(described)["recording"] as? [String: Any])
        let origin = Date().addingTimeInterval(-(recording["duration"] as? Double ?? 0))
        let file = try #require(recording["file"] as? String)

        // HLS, live: a valid EVENT playlist without an end yet, read by ffmpeg's HLS demuxer.
        let playlistURL = "\(room.base)/rooms/live/hls/index.m3u8"
        let (status, playlistBody, headers) = try await httpData("GET", playlistURL)
        let playlist = String(decoding: playlistBody, as: UTF8.self)
        let type = headers["content-type"] ?? ""
        #expect(status == 200 && type == "application/vnd.apple.mpegurl", "\(status) \(headers)")
        for tag in ["#EXTM3U", "#EXT-X-TARGETDURATION:", "#EXT-X-MEDIA-SEQUENCE:", "#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-MAP:URI=\"init.mp4\"", "#EXTINF:"] {
            #expect(playlist.contains(tag), "no \(tag) in \(playlist)")
        }
        #expect(!playlist.contains("#EXT-X-ENDLIST"))
        let ffmpeg = try executable("ffmpeg", package: "ffmpeg"), ffprobe = try executable("ffprobe", package: "ffmpeg")
        let live = try run(ffprobe, ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", playlistURL], within: 30)
        let liveOK = live.status == 0 && live.stdout.contains("h264,320,180") && live.stdout.contains("aac")
        #expect(liveOK, "HLS: \(live.stdout) \(live.stderr)")

        // RTMP: pulled back from nginx and decoded.
        let rtmpURL = "rtmp://127.0.0.1:\(nginx.port)/live/live"
        let pulled = try run(ffmpeg, ["-v", "error", "-i", rtmpURL, "-t", "2", "-f", "null", "-"], within: 30)
        #expect(pulled.status == 0, "RTMP pull: \(pulled.stderr)")
        let probed = try run(ffprobe, ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", rtmpURL], within: 30)
        let probedOK = probed.stdout.contains("h264") && probed.stdout.contains("aac")
        #expect(probedOK, "RTMP: \(probed.stdout) \(probed.stderr)")
        // RTMPS: the second push went through TLS (nginx ends it in front of the RTMP server).
        let secure = try run(ffmpeg, ["-v", "error", "-i", rtmpURL + "-tls", "-t", "2", "-f", "null", "-"], within: 30)
        #expect(secure.status == 0, "RTMPS pull: \(secure.stderr)")
        // The room's API shows both outputs, the push connected and its stream key hidden.
        let (_, state, _) = try await httpData("GET", "\(room.base)/rooms/live")
        let outputs = ((object(state)["recording"] as? [String: Any])?["live_outputs"] as? [String: Any]) ?? [:]
        let pushes = (outputs["rtmp"] as? [[String: Any]]) ?? []
        #expect(pushes.map { $0["state"] as? String } == ["connected", "connected"], "\(outputs)")
        #expect(pushes.map { $0["url"] as? String } == ["rtmp://127.0.0.1:\(nginx.port)/live/…", "rtmps://127.0.0.1:\(nginx.tlsPort)/live/…"], "\(outputs)")
        #expect((outputs["hls"] as? [String: Any])?["playlist"] as? String == "/rooms/live/hls/index.m3u8", "\(outputs)")

        // nginx restarted: the push comes back by itself.
        nginx.stop()
        try await Task.sleep(nanoseconds: 2_000_000_000)
        try nginx.start()
        var back = false
        for _ in 0..<20 where !back {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            back = try run(ffmpeg, ["-v", "error", "-i", rtmpURL, "-t", "1", "-f", "null", "-"], within: 10).status == 0
        }
        #expect(back, "the push did not come back after nginx restarted")
        try await Task.sleep(nanoseconds: 2_000_000_000)
        _ = room.stop()

        // The recording did not notice.
        let wall = Date().timeIntervalSince(origin)
        let pictures = try decodePictures(file)
        #expect(Double(pictures.count) / 30 > wall - 2, "\(pictures.count) frames in \(wall) s")

        // The finished stream is a VOD: ENDLIST, segments that each start on a keyframe, as long as the recording.
        let hls = String(file.dropLast(4)) + ".hls"
        let final = try String(contentsOfFile: hls + "/index.m3u8", encoding: .utf8)
        #expect(final.contains("#EXT-X-ENDLIST"))
        let segments = final.split(separator: "\n").filter { $0.hasSuffix(".m4s") }.map(String.init)
        let durations = final.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }.compactMap { Double($0.dropFirst(8).split(separator: ",")[0]) }
        #expect(segments.count >= 10 && segments.count == durations.count)
        let streamed: Double = durations.reduce(0, +), recorded: Double = Double(pictures.count) / 30
        #expect(abs(streamed - recorded) < 0.5, "HLS \(streamed) s, recording \(recorded) s")
        let initSegment = try Data(contentsOf: URL(fileURLWithPath: hls + "/init.mp4"))
        var latencies: [Double] = []
        var end = 0.0
        for (segment, duration) in zip(segments, durations) {
            end += duration
            let joined = Paths.temporary("segment-\(UInt32.random(in: 0...UInt32.max)).mp4")
            try (initSegment + Data(contentsOf: URL(fileURLWithPath: hls + "/" + segment))).write(to: URL(fileURLWithPath: joined))
            let first = try run(ffprobe, ["-v", "error", "-select_streams", "v", "-read_intervals", "%+#1", "-show_entries", "frame=key_frame", "-of", "csv=p=0", joined], within: 10)
            #expect(first.stdout.hasPrefix("1"), "\(segment) does not start with a keyframe: \(first.stdout)")
            // From the last frame of the segment on the publisher to the segment on disk.
            if let written = try FileManager.default.attributesOfItem(atPath: hls + "/" + segment)[.modificationDate] as? Date, end < wall - 3 {
                latencies.append(written.timeIntervalSince(origin.addingTimeInterval(end)))
            }
        }
        let sorted = latencies.sorted()
        let median: Double = sorted.isEmpty ? 99 : sorted[sorted.count / 2]
        print("HLS latency, publisher to segment on disk (segment end): median \(String(format: "%.2f", median)) s, max \(String(format: "%.2f", sorted.last ?? 0)) s over \(sorted.count) segments")
        #expect(median < 3, "latencies \(sorted)")
    }
}
