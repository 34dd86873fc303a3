import Foundation
import MediaCore
import Testing

/// Chromium simulcast (three encodings by rid) into a room: every layer is received, the one that fits the tile is
/// decoded, and a layout change switches it within 2 s, up (the recorded tile gets sharp) and down.
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

    /// The video track's `simulcast` entry in the API.
    static func simulcast(_ room: RoomProcess, _ name: String) async throws -> [String: Any]? {
        let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/\(name)")
        let participant = (object(data)["participants"] as? [[String: Any]])?.first
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

    @Test func theLayerFollowsTheTile() async throws {
        let folder = Paths.temporary("simulcast")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let small = #"{"name": "small", "regions": [{"id": "a", "x": 0, "y": 0, "width": 160, "height": 90, "sources": ["*"]}]}"#
        try small.write(toFile: folder + "/small.json", atomically: true, encoding: .utf8)
        let room = try RoomProcess(room: "sim", extra: ["--size", "960x540", "--fps", "30", "--layout", folder + "/small.json"])
        let browser = try Self.chromium(room, "sim")
        defer { browser.stopIfRunning() }
        _ = try await waitForParticipants(room, "sim", count: 1)
        // All three layers arrive with their sizes; the 160x90 tile decodes the smallest (240x135).
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

        // The whole canvas: up to the full layer within 2 s.
        var (status, _, _) = try await http("PUT", "\(room.base)/rooms/sim/layout", body: #"{"preset": "grid"}"#, contentType: "application/json")
        #expect(status == 200)
        let up = try await Self.waitForLayer("f", room, "sim", limit: 5)
        print("switched up in \(up ?? -1) s")
        #expect(up.map { $0 <= 2 } == true)
        try await Task.sleep(nanoseconds: 4_000_000_000)
        print("layers after 4 s on the canvas: \(try await Self.simulcast(room, "sim") ?? [:])")
        (status, _, _) = try await http("PUT", "\(room.base)/rooms/sim/layout", body: small, contentType: "application/json")
        #expect(status == 200)
        let down = try await Self.waitForLayer("q", room, "sim", limit: 5)
        print("switched down in \(down ?? -1) s")
        #expect(down.map { $0 <= 2 } == true)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        browser.terminate()
        browser.finish()
        let path = try room.stopAndRecording("sim")
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("simulcast layer f") && log.contains("simulcast layer q"), "the switches are logged")

        // The recording: the centre of the canvas is background in the small layout, the upscaled small layer just
        // after the change, and sharp within 2 s.
        let sharpness = try centreSharpness(path)
        let shown = sharpness.enumerated().filter { $0.element > 0.5 }.map(\.offset)
        let first = try #require(shown.first, "the grid never showed: \(sharpness.prefix(400).map { Int($0) })")
        let settled = Array(sharpness[(first + 90)..<min(first + 120, sharpness.count)]).sorted()
        let high = settled.isEmpty ? 0 : settled[settled.count / 2]
        let early = sharpness[first..<(first + 5)].reduce(0, +) / 5
        let sharpAt = try #require(sharpness[first...].firstIndex { $0 >= 0.8 * high }, "never sharp")
        print("centre sharpness: at the change \(early), after 3 s \(high); sharp \(Double(sharpAt - first) / 30) s after the change")
        #expect(early < 0.6 * high, "the small layer upscaled is blurrier: \(early) vs \(high)")
        #expect(Double(sharpAt - first) / 30 <= 2, "sharp within 2 s")
    }
}

/// Per output frame, the mean absolute Laplacian of the luma in the canvas's centre (480x270 of 960x540): edges
/// and detail; a smooth or upscaled picture scores low.
func centreSharpness(_ path: String) throws -> [Double] {
    let raw = Paths.temporary("sharp-\(UUID().uuidString).gray")
    defer { try? FileManager.default.removeItem(atPath: raw) }
    let result = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-i", path, "-vf", "crop=480:270:240:135,format=gray",
                                                                    "-f", "rawvideo", "-y", raw])
    guard result.status == 0, let data = FileManager.default.contents(atPath: raw) else {
        throw MediaError(.invalidArgument, "cannot decode \(path): \(result.stderr)")
    }
    let bytes = [UInt8](data), w = 480, h = 270, size = w * h
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
