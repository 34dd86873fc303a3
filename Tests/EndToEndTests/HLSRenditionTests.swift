import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct HLSRenditionTests {
    /// `--hls-rendition 240` beside a 640x360 recording: `index.m3u8` becomes a master playlist of both sizes (measured
    /// bit rates, RFC 6381 codecs); both media playlists cut their segments at the same frames (each starting with a
    /// keyframe), so a player can switch; the 240p stream holds the same pictures, smaller.
    @Test func aSmallerRenditionCutsWhereTheRecordingDoes() async throws {
        let folder = Paths.temporary("rendition-\(UInt32.random(in: 0...UInt32.max))")
        let room = try RoomProcess(room: "ladder", extra: ["--output", folder, "--size", "640x360", "--preset", "veryfast",
                                                            "--hls", "--hls-rendition", "240"])
        defer { room.process.stopIfRunning() }
        let ann = try publishPattern(room, "Ann", room: "ladder", colour: "2050d0", seconds: 30)
        defer { ann.terminate() }
        _ = try await waitForParticipants(room, "ladder", count: 1)
        try await Task.sleep(nanoseconds: 9_000_000_000)
        let (_, described, _) = try await httpData("GET", "\(room.base)/rooms/ladder")
        let file = try #require((object(described)["recording"] as? [String: Any])?["file"] as? String)
        let ffprobe = try executable("ffprobe", package: "ffmpeg")
        let live = try run(ffprobe, ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0",
                                     "\(room.base)/rooms/ladder/hls/index.m3u8"], within: 30)
        #expect(live.stdout.contains("h264,640,360") && live.stdout.contains("h264,426,240"), "live master playlist: \(live.stdout) \(live.stderr)")
        let hlsState = (((object(described)["recording"] as? [String: Any])?["live_outputs"] as? [String: Any])?["hls"] as? [String: Any]) ?? [:]
        #expect(hlsState["renditions"] as? [String] == ["426x240"] && hlsState["error"] == nil, "\(hlsState)")
        try await Task.sleep(nanoseconds: 3_000_000_000)
        _ = room.stop()

        let hls = String(file.dropLast(4)) + ".hls"
        let master = try String(contentsOfFile: hls + "/index.m3u8", encoding: .utf8)
        let variants = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF:") }
        #expect(variants.count == 2, "\(master)")
        for (resolution, uri) in [("640x360", "360p.m3u8"), ("426x240", "240p.m3u8")] {
            let line = variants.first { $0.contains("RESOLUTION=\(resolution)") }.map(String.init) ?? ""
            #expect(line.contains("CODECS=\"avc1.64") && line.contains("mp4a.40.2") && line.contains("AVERAGE-BANDWIDTH="), "\(line)")
            #expect(master.contains("\n\(uri)\n"), "\(master)")
        }
        let bandwidth = { (resolution: String) -> Int in
            let line = variants.first { $0.contains(resolution) } ?? ""
            return Int(line.split(separator: ",").first { $0.contains("BANDWIDTH=") && !$0.contains("AVERAGE") }?.split(separator: "=").last ?? "") ?? 0
        }
        #expect(bandwidth("640x360") > bandwidth("426x240") && bandwidth("426x240") > 20_000, "\(master)")

        // The same segment boundaries in both, each segment starting with a keyframe.
        var timelines: [[String]] = []
        for name in ["360p", "240p"] {
            let playlist = try String(contentsOfFile: "\(hls)/\(name).m3u8", encoding: .utf8)
            #expect(playlist.contains("#EXT-X-ENDLIST") && playlist.contains("#EXT-X-MAP:URI=\"\(name)-init.mp4\""), "\(playlist)")
            let lines = playlist.split(separator: "\n").map(String.init)
            timelines.append(lines.filter { $0.hasPrefix("#EXTINF:") })
            let initSegment = try Data(contentsOf: URL(fileURLWithPath: "\(hls)/\(name)-init.mp4"))
            for segment in lines.filter({ $0.hasSuffix(".m4s") }) {
                let joined = Paths.temporary("rendition-segment-\(UInt32.random(in: 0...UInt32.max)).mp4")
                defer { try? FileManager.default.removeItem(atPath: joined) }
                try (initSegment + Data(contentsOf: URL(fileURLWithPath: "\(hls)/\(segment)"))).write(to: URL(fileURLWithPath: joined))
                let first = try run(ffprobe, ["-v", "error", "-select_streams", "v", "-read_intervals", "%+#1", "-show_entries", "frame=key_frame",
                                              "-of", "csv=p=0", joined], within: 10)
                #expect(first.stdout.hasPrefix("1"), "\(segment) does not start with a keyframe: \(first.stdout)")
            }
        }
        // The cuts are the same frames; the last segment's end is where each stream's last packet ends, which may
        // differ by that frame's duration.
        let lengths = timelines.map { $0.compactMap { Double($0.dropFirst(8).split(separator: ",")[0]) } }
        #expect(lengths[0].count >= 5 && lengths[0].dropLast() == lengths[1].dropLast() && lengths[0].count == lengths[1].count
                && abs((lengths[0].last ?? 0) - (lengths[1].last ?? 0)) <= 0.034, "segment durations differ: \(timelines)")

        // The rendition's pictures are the recording's: as many, the publisher's colour in the middle.
        let joined = Paths.temporary("rendition-\(UInt32.random(in: 0...UInt32.max)).mp4")
        let concat = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-i", "\(hls)/240p.m3u8", "-c", "copy", joined], within: 30)
        #expect(concat.status == 0, "\(concat.stderr)")
        let small = try decodePictures(joined), large = try decodePictures(file)
        #expect(small.first?.size == PixelSize(width: 426, height: 240))
        #expect(abs(small.count - large.count) <= 1, "\(small.count) frames at 240p, \(large.count) at 360p")
        // Frame for frame, the middle of the picture (the tile) looks the same at both sizes.
        for i in stride(from: 10, to: min(small.count, large.count), by: 40) {
            let a = small[i].meanYUV(in: PixelRect(x: 160, y: 90, width: 106, height: 60))
            let b = large[i].meanYUV(in: PixelRect(x: 240, y: 135, width: 160, height: 90))
            if let a, let b {
                #expect(abs(a.y - b.y) < 8 && abs(a.u - b.u) < 8 && abs(a.v - b.v) < 8, "frame \(i): \(a) at 240p, \(b) at 360p")
            } else {
                Issue.record("frame \(i) has no pixels")
            }
        }
    }
}
