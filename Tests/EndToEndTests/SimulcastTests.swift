import Foundation
import MediaCore
import Testing

/// Chromium simulcast (three encodings by rid) into a room: every layer is received, the one that fits the tile is
/// decoded, and becoming the speaker switches it up within 2 s (the recorded tile gets sharp), and back down.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SimulcastTests {
    static func chromium(_ room: RoomProcess, _ name: String) throws -> Process {
        let page = Paths.root.appendingPathComponent("Tests/peers/simulcast.html").path
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: try executable("chromium", package: "chromium"))
        browser.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                             "--allow-loopback-in-peer-connection", "--allow-file-access-from-files",
                             "--user-data-dir=\(Paths.temporary("chromium-\(name)"))",
                             "--use-file-for-fake-video-capture=\(Paths.fixture("camera-540.y4m"))",
                             "--use-file-for-fake-audio-capture=\(Paths.fixture("microphone-300.wav"))",
                             "file://\(page)?whip=\(room.base)/rooms/\(name)/whip&name=Sim"]
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        return browser
    }

    /// The `simulcast` entry of Chromium's (Sim's) video track in the API.
    static func simulcast(_ room: RoomProcess, _ name: String) async throws -> [String: Any]? {
        let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/\(name)")
        let participant = (object(data)["participants"] as? [[String: Any]])?.first { $0["name"] as? String == "Sim" }
        let video = (participant?["tracks"] as? [[String: Any]])?.first { $0["kind"] as? String == "video" }
        return video?["simulcast"] as? [String: Any]
    }

    /// Polls until the decoded layer is `rid`; returns the seconds it took (nil: not within `limit`).
    static func waitForLayer(_ rid: String, _ room: RoomProcess, _ name: String, limit: Double) async throws -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            if try await simulcast(room, name)?["selected"] as? String == rid { return Date().timeIntervalSince(start) }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return nil
    }

    /// Pins a participant (the speaker layout shows it large) or unpins it.
    static func pin(_ room: RoomProcess, _ name: String, _ id: String, _ on: Bool) async throws {
        let (status, _, _) = try await http("PATCH", "\(room.base)/rooms/\(name)/participants/\(id)", body: #"{"pin": \#(on)}"#,
                                             contentType: "application/json")
        #expect(status == 200)
    }

    /// Speaker layout, 960x540: Chromium (three layers: 240x135, 480x270, 960x540) and an aiortc participant. While
    /// aiortc is the speaker, Chromium's 211x119 strip tile decodes the smallest layer; pinned, Chromium becomes the
    /// speaker (a 748x421 tile) and the full layer is shown within 2 s: the recorded tile gets sharp; when aiortc is
    /// the speaker again, Chromium goes back down.
    @Test func theLayerFollowsTheSpeaker() async throws {
        let room = try RoomProcess(room: "sim", extra: ["--size", "960x540", "--fps", "30", "--layout", "speaker"])
        let other = try room.aiortc(room: "sim", clip: "colour-ff0000.webm", seconds: 40, name: "Red")
        defer { other.stopIfRunning() }
        // Red is pinned before Chromium joins: Chromium is never the speaker until it is pinned.
        let red = try #require(try await waitForParticipants(room, "sim", count: 1).first)
        try await Self.pin(room, "sim", red, true)
        let browser = try Self.chromium(room, "sim")
        defer { browser.stopIfRunning() }
        let sim = try #require(try await waitForParticipants(room, "sim", count: 2).first { $0 != red })
        // All three layers arrive with their sizes; the strip tile decodes the smallest.
        var layers: [[String: Any]] = []
        for _ in 0..<100 {
            layers = try await Self.simulcast(room, "sim")?["layers"] as? [[String: Any]] ?? []
            if layers.count == 3 && layers.allSatisfy({ ($0["bitrate"] as? Int ?? 0) > 0 && $0["width"] != nil }) { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        print("layers: \(layers)")
        #expect(layers.compactMap { $0["width"] as? Int } == [240, 480, 960], "\(layers)")
        #expect(try await Self.waitForLayer("q", room, "sim", limit: 3) != nil)
        try await Task.sleep(nanoseconds: 2_000_000_000)

        // Chromium becomes the speaker: up to the full layer within 2 s.
        try await Self.pin(room, "sim", sim, true)    // pinning one unpins the other
        let up = try await Self.waitForLayer("f", room, "sim", limit: 5)
        print("switched up in \(up ?? -1) s")
        #expect(up.map { $0 <= 2 } == true)
        try await Task.sleep(nanoseconds: 4_000_000_000)
        print("layers after 4 s as the speaker: \(try await Self.simulcast(room, "sim") ?? [:])")
        try await Self.pin(room, "sim", red, true)
        let down = try await Self.waitForLayer("q", room, "sim", limit: 5)
        print("switched down in \(down ?? -1) s")
        #expect(down.map { $0 <= 2 } == true)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        browser.terminate()
        browser.finish()
        other.terminate()
        other.finish()
        let path = try room.stopAndRecording("sim")
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("simulcast layer f") && log.contains("simulcast layer q"), "the switches are logged")

        // The recording's speaker tile: aiortc's flat red (no detail), then Chromium's smallest layer upscaled just
        // after the pin, then sharp within 2 s.
        let sharpness = try centreSharpness(path)
        // The pin: the first detailed frame after a second of flat red (the slate before the first picture has detail too).
        let first = try #require((30..<sharpness.count).first { i in sharpness[i] > 0.5 && sharpness[(i - 30)..<i].allSatisfy { $0 <= 0.5 } },
                                 "Chromium never became the speaker: \(sharpness.prefix(600).map { Int($0) })")
        let settled = Array(sharpness[(first + 90)..<min(first + 120, sharpness.count)]).sorted()
        let high = settled.isEmpty ? 0 : settled[settled.count / 2]
        let early = sharpness[first..<(first + 5)].reduce(0, +) / 5
        let sharpAt = try #require(sharpness[first...].firstIndex { $0 >= 0.8 * high }, "never sharp")
        print("speaker tile sharpness: at the pin \(early), after 3 s \(high); sharp \(Double(sharpAt - first) / 30) s after the pin")
        #expect(early < 0.6 * high, "the small layer upscaled is blurrier: \(early) vs \(high)")
        #expect(Double(sharpAt - first) / 30 <= 2, "sharp within 2 s")
    }
}

/// Per output frame, the mean absolute Laplacian of the luma in the middle of the speaker tile (374x210 of the
/// 748x421 tile of a 960x540 speaker layout): edges and detail; a smooth or upscaled picture scores low.
func centreSharpness(_ path: String) throws -> [Double] {
    let raw = Paths.temporary("sharp-\(UUID().uuidString).gray")
    defer { try? FileManager.default.removeItem(atPath: raw) }
    let result = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-i", path, "-vf", "crop=374:210:293:105,format=gray",
                                                                    "-f", "rawvideo", "-y", raw])
    guard result.status == 0, let data = FileManager.default.contents(atPath: raw) else {
        throw MediaError(.invalidArgument, "cannot decode \(path): \(result.stderr)")
    }
    let bytes = [UInt8](data), w = 374, h = 210, size = w * h
    return (0..<(bytes.count / size)).map { f in
        var sum = 0
        let base = f * size
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                let i = base + y * w + x
                sum += abs(4 * Int(bytes[i]) - Int(bytes[i - 1]) - Int(bytes[i + 1]) - Int(bytes[i - w]) - Int(bytes[i + w]))
            }
        }
        return Double(sum) / Double((w - 2) * (h - 2))
    }
}
