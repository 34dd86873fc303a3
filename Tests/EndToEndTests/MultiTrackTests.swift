import Codecs
import Foundation
import MediaCore
import Testing

/// A participant's every track is its own source: a screen share is a second tile (the main region's, under
/// `presentation`), and a second microphone is in the mix. Before, all of a participant's decoders wrote into one
/// buffer: one tile flipping between the pictures, and the second microphone lost.
@Suite(.serialized, .timeLimit(.minutes(5))) struct MultiTrackTests {
    @Test func aScreenShareIsItsOwnTileAndEveryMicrophoneIsMixed() async throws {
        let room = try RoomProcess(room: "multi", extra: ["--layout", "presentation", "--size", "640x360"])
        let browser = try Self.chromium(room, "multi")
        defer { browser.stopIfRunning() }
        let (_, data, _) = try await {
            _ = try await waitForParticipants(room, "multi", count: 1)
            try await Task.sleep(nanoseconds: 3_000_000_000)
            return try await httpData("GET", "\(room.base)/rooms/multi")
        }()
        let tracks = ((object(data)["participants"] as? [[String: Any]])?.first?["tracks"] as? [[String: Any]]) ?? []
        #expect(tracks.count == 4, "four tracks received: \(tracks.map { $0["kind"] ?? "?" })")
        try await Task.sleep(nanoseconds: 5_000_000_000)
        browser.terminate()
        browser.finish()
        let path = try room.stopAndRecording("multi")

        // presentation: the screen in the main region (left 76 %), the camera in the column on the right. (Colours by
        // their chroma: a canvas capture is not in the same matrix as a file.)
        func share(_ picture: VideoPicture, _ rect: PixelRect, _ test: (UInt8, UInt8) -> Bool) -> Double {
            var hits = 0, all = 0
            for y in stride(from: rect.y, to: rect.maxY, by: 2) {
                for x in stride(from: rect.x, to: rect.maxX, by: 2) {
                    guard let p = picture.yuv(x: x, y: y) else { continue }
                    all += 1
                    if test(p.u, p.v) { hits += 1 }
                }
            }
            return Double(hits) / Double(max(1, all))
        }
        let isGreen = { (u: UInt8, v: UInt8) in u < 90 && v < 90 }, isRed = { (u: UInt8, v: UInt8) in v > 190 && u < 140 }
        let main = PixelRect(x: 0, y: 0, width: 480, height: 360), column = PixelRect(x: 492, y: 0, width: 148, height: 360)
        let frames = try decodePictures(path)
        let steady = frames.filter { Double($0.time) / 1e6 > 2.5 && Double($0.time) / 1e6 < 6.5 }
        #expect(steady.count > 60)
        let screenShown = steady.filter { share($0, main, isGreen) > 0.5 }.count
        let cameraShown = steady.filter { share($0, column, isRed) > 0.1 }.count
        let flipped = steady.filter { share($0, main, isRed) > 0.05 }.count
        #expect(screenShown == steady.count, "the screen share fills the main region in \(screenShown) of \(steady.count) frames")
        #expect(cameraShown == steady.count, "the camera is in the side column in \(cameraShown) of \(steady.count) frames")
        #expect(flipped == 0, "the camera's picture never lands in the screen's tile: \(flipped) frames did")

        // Both microphones in the mix, and not a tone nobody sent.
        let audio = try decodeAudio(path)
        let middle = audio.left[(48_000 * 3)..<(48_000 * 6)]
        let camera = goertzel(middle, frequency: 300), second = goertzel(middle, frequency: 494), absent = goertzel(middle, frequency: 397)
        #expect(camera > 20 * absent && second > 20 * absent, "300 Hz \(camera), 494 Hz \(second), 397 Hz \(absent)")
    }

    /// One Chromium peer (Tests/peers/multitrack.html): a red 320x240 "camera", a green 640x360 "screen share"
    /// (mid 2, marked with ?screen=2), a 300 Hz and a 494 Hz "microphone", from canvases and oscillators.
    static func chromium(_ room: RoomProcess, _ name: String, query: String = "") throws -> Process {
        let page = Paths.root.appendingPathComponent("Tests/peers/multitrack.html").path
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: try executable("chromium", package: "chromium"))
        browser.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                             "--allow-loopback-in-peer-connection", "--allow-file-access-from-files",
                             "--user-data-dir=\(Paths.temporary("chromium-\(name)"))",
                             "file://\(page)?whip=\(room.base)/rooms/\(name)/whip&name=Ann\(query)"]
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        return browser
    }

    /// `--tracks` with a Chromium sender of two video tracks in each video codec (VP8 is every other test's):
    /// the composite shows both pictures; a playable Matroska file whose video streams have each its own size; and
    /// the printed re-render command works. Before, an H.264 header failed ("Invalid data found when processing
    /// input": no parameter sets) and left a 0-byte file; every video stream got the first one's size; AV1 was refused.
    /// Every variant Chromium offers: H.264 in each profile (Baseline, Constrained Baseline, Main) and in single NAL
    /// mode, VP9 profile 0 and 2 (10-bit), AV1.
    @Test(arguments: ["h264", "vp9", "av1", "h264 profile-level-id=42001f", "h264 profile-level-id=4d001f", "h264 packetization-mode=0",
                      "vp9 profile-id=2"])
    func trackFilesArePlayableWithEachTracksSize(variant: String) async throws {
        let codec = String(variant.split(separator: " ")[0])
        let fmtp = variant.split(separator: " ").dropFirst().first.map { "&fmtp=\($0)" } ?? ""
        let name = String(variant.map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let tracks = Paths.temporary("\(name)-tracks")
        let room = try RoomProcess(room: name, extra: ["--tracks", tracks, "--size", "640x360"])
        let browser = try Self.chromium(room, name, query: "&codec=\(codec)\(fmtp)")
        defer { browser.stopIfRunning() }
        let (_, data, _) = try await {
            _ = try await waitForParticipants(room, name, count: 1)
            try await Task.sleep(nanoseconds: 6_000_000_000)
            return try await httpData("GET", "\(room.base)/rooms/\(name)")
        }()
        let codecs = (((object(data)["participants"] as? [[String: Any]])?.first?["tracks"] as? [[String: Any]]) ?? []).compactMap { $0["codec"] as? String }
        #expect(codecs.filter { $0 == codec }.count == 2, "both video tracks in \(codec): \(codecs)")
        browser.terminate()
        browser.finish()
        let recording = try room.stopAndRecording(name)
        // Both pictures in the composite: the red camera and the green screen, each in a good part of the frame.
        let steady = try decodePictures(recording).filter { Double($0.time) / 1e6 > 3 }
        let last = try #require(steady.last, "frames after 3 s")
        var red = 0, green = 0, all = 0
        for y in stride(from: 0, to: 360, by: 4) {
            for x in stride(from: 0, to: 640, by: 4) {
                guard let p = last.yuv(x: x, y: y) else { continue }
                all += 1
                if p.u < 90 && p.v < 90 { green += 1 }
                if p.v > 190 && p.u < 140 { red += 1 }
            }
        }
        #expect(Double(red) / Double(all) > 0.1 && Double(green) / Double(all) > 0.1, "\(variant): red \(red), green \(green) of \(all) samples")
        let line = try #require(room.output.split(separator: "\n").first { $0.contains("track Ann: ") }, "\(room.output)")
        #expect(!line.contains("("), "no error reported for the track file: \(line)")
        let path = String(line.split(separator: " ")[2])
        #expect(path.hasSuffix(codec == "h264" ? ".mkv" : ".webm"))
        let probe = try mcuOutput("/usr/bin/ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
                                                        "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", path])
        let streams = probe.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(streams.map { $0.prefix(3).joined(separator: " ") }.sorted() == ["\(codec) 320 240", "\(codec) 640 360"], "\(probe)")
        #expect(streams.allSatisfy { Int($0.last ?? "") ?? 0 > 60 }, "every stream decodes: \(probe)")
        // The printed re-render command composes the room again from the track file.
        let command = try #require(room.output.split(separator: "\n").first { $0.contains("re-render: ") })
            .components(separatedBy: "re-render: ")[1]
            .replacingOccurrences(of: "mcu-record compose", with: "'\(Paths.binary)' compose --quiet --size 320x180 --preset ultrafast")
            .replacingOccurrences(of: "--output \(name)-again.mp4", with: "--output '\(tracks)/again.mp4'")
        #expect(try mcuRun("/bin/sh", ["-c", command]) == 0, "\(command)")
        #expect(try decodePictures(tracks + "/again.mp4").count > 60)
    }
}
