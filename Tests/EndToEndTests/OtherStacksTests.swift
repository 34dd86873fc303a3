import Codecs
import Foundation
import MediaCore
import Testing

/// WebRTC stacks other than Chromium and aiortc publishing to a room: Firefox ESR through the join page, and
/// GStreamer's webrtcbin (Debian's 1.22) with both bundle policies and both video codecs it sends.
@Suite(.serialized, .timeLimit(.minutes(5))) struct OtherStacksTests {
    static let python = "/usr/bin/python3"

    @Test(arguments: [("vp8", "max-bundle"), ("h264", "max-compat"), ("h264", "max-bundle"), ("vp8", "max-compat")])
    func gstreamerWebrtcbinIsRecorded(codec: String, bundle: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gst-inspect-1.0") else {
            throw MediaError(.invalidArgument, "GStreamer is not installed: run scripts/install-deps.sh (make test does)")
        }
        let room = try RoomProcess(room: "gst")
        let publisher = try LoggedPeer(Self.python, [Paths.root.appendingPathComponent("Tests/peers/gst_publish.py").path, "\(room.base)/rooms/gst/whip",
                                                     "--codec", codec, "--bundle", bundle, "--seconds", "7", "--colour", "0xff2060c0", "--tone", "440"],
                                       log: "gst-\(codec)-\(bundle).txt")
        defer { publisher.stop() }
        let ended = publisher.process.finish(within: 40)
        let printed = publisher.printed
        #expect(ended && publisher.process.terminationStatus == 0 && printed.contains("answer 201") && printed.contains("done"),
                "webrtcbin (\(codec), \(bundle)) published: \(printed.suffix(600))")
        let path = try room.stopAndRecording("gst")

        // The picture is webrtcbin's colour over the whole canvas once it arrives, and the tone is in the sound.
        let pictures = try decodePictures(path)
        let shown = pictures.filter { Double($0.time) / 1e6 > 1.5 && Double($0.time) / 1e6 < 6 }
        #expect(shown.count > 80, "\(shown.count) frames between 1.5 s and 6 s")
        for seconds in [2.0, 4.0, 5.5] {
            guard let frame = picture(at: seconds, in: shown) else { continue }
            expectColour(frame, PixelRect(x: 0, y: 0, width: 320, height: 180), "2060c0", "\(codec)/\(bundle) at \(seconds) s")
        }
        let audio = try decodeAudio(path)
        let middle = audio.left[(48_000 * 2)..<min(audio.left.count, 48_000 * 5)]
        let tone = goertzel(middle, frequency: 440), absent = goertzel(middle, frequency: 610)
        let perSecond = stride(from: 0, to: audio.left.count - 48_000, by: 48_000).map { start in
            decimal(sqrt(audio.left[start..<start + 48_000].reduce(0) { $0 + Double($1 * $1) } / 48_000), 3)
        }
        #expect(tone > 50 * absent, "440 Hz \(tone), 610 Hz \(absent); RMS per second \(perSecond), audio starts at \(audio.start) µs")
    }

    /// Headless Firefox ESR joins through the join page with its test signal (a flash and a beep every second of
    /// its audio clock) and is recorded in sync. Firefox's Web Audio runs only with an audio device: a PulseAudio
    /// server with a null sink, started for the test, is that device.
    @Test func firefoxThroughTheJoinPageIsInSync() async throws {
        let runtime = Paths.temporary("firefox-pulse-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_RUNTIME_DIR"] = runtime
        // As a daemon of its own: PulseAudio closes every inherited descriptor at start, which Foundation's Process
        // takes for the child's exit and then waits for it, blocking (and with it noticing any other child's exit).
        let pulseaudio = try executable("pulseaudio", package: "pulseaudio")
        let started = try run("/usr/bin/env", ["XDG_RUNTIME_DIR=\(runtime)", pulseaudio, "--daemonize=yes", "--exit-idle-time=-1", "-n",
                                               "--load=module-null-sink sink_name=recorder-test", "--load=module-native-protocol-unix"], within: 30)
        defer { _ = try? run("/usr/bin/env", ["XDG_RUNTIME_DIR=\(runtime)", pulseaudio, "--kill"], within: 30) }
        #expect(started.status == 0, "PulseAudio: \(started.stderr)")
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: runtime + "/pulse/native") { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(FileManager.default.fileExists(atPath: runtime + "/pulse/native"), "PulseAudio started")

        let profile = Paths.temporary("firefox-profile-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        try Self.firefoxPreferences.map { "user_pref(\"\($0.key)\", \($0.value));" }.joined(separator: "\n")
            .write(toFile: profile + "/user.js", atomically: true, encoding: .utf8)
        let room = try RoomProcess(room: "firefox", extra: ["--fps", "60"])
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: try executable("firefox-esr", package: "firefox-esr"))
        browser.arguments = ["--headless", "--no-remote", "--profile", profile, "\(room.base)/rooms/firefox?autojoin=1&name=Firefox&signal=test"]
        browser.environment = environment
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        defer { browser.stopIfRunning() }
        let (_, data, _) = try await {
            _ = try await waitForParticipants(room, "firefox", count: 1)
            try await Task.sleep(nanoseconds: 12_000_000_000)
            return try await httpData("GET", "\(room.base)/rooms/firefox")
        }()
        let tracks = ((object(data)["participants"] as? [[String: Any]])?.first?["tracks"] as? [[String: Any]]) ?? []
        #expect(Set(tracks.compactMap { $0["codec"] as? String }) == ["vp8", "opus"], "Firefox's tracks: \(tracks)")
        browser.terminate()
        browser.finish(within: 10)
        let events = try flashesAndBeeps(try room.stopAndRecording("firefox"), region: SyncTests.centre)
        // From the second flash on: the first arrives with the stream's first keyframe, before the pacing settles.
        let flashes = Array(events.flashes.dropFirst())
        let offsets = pairedOffsets(events.beeps.filter { $0 > (flashes.first ?? 0) - 0.3 }, flashes)
        print("Firefox, audio - video per flash (ms): \(offsets.map { decimal($0 * 1000, 1) })")
        #expect(offsets.count >= 7, "flashes \(events.flashes), beeps \(events.beeps)")
        // A 30 fps canvas capture against the 60 fps grid moves single flashes by a frame or two: the median is the
        // measure, and no flash may be further from it than two output frames.
        let typical = median(offsets)
        #expect(abs(typical) <= 0.040, "median audio - video \(decimal(typical * 1000, 1)) ms: \(offsets.map { decimal($0 * 1000, 1) }) ms")
        #expect(offsets.allSatisfy { abs($0 - typical) <= 0.034 }, "\(offsets.map { decimal($0 * 1000, 1) }) ms")
    }

    /// A profile for a test browser: fake camera and microphone without asking, loopback ICE candidates (Firefox
    /// offers only its default-route address to a page without a camera permission), Web Audio without a gesture.
    static let firefoxPreferences: [String: String] = [
        "media.navigator.streams.fake": "true", "media.navigator.permission.disabled": "true",
        "permissions.default.camera": "1", "permissions.default.microphone": "1",
        "media.peerconnection.ice.loopback": "true", "media.peerconnection.ice.obfuscate_host_addresses": "false",
        "media.autoplay.default": "0", "media.autoplay.block-webaudio": "false",
        "browser.shell.checkDefaultBrowser": "false", "datareporting.policy.dataSubmissionEnabled": "false",
        "toolkit.telemetry.reportingpolicy.firstRun": "false", "browser.startup.homepage_override.mstone": "\"ignore\"",
        "app.update.auto": "false",
    ]
}
