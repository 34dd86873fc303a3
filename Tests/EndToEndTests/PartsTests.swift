import Foundation
import MediaCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .timeLimit(.minutes(5))) struct PartsTests {
    /// A 95 s recording in 30 s parts: 4 complete MP4s, each told by `recording.part_ready` with its own events
    /// file; joined by ffmpeg's concat demuxer they are the whole recording: as long as it to the frame, audio as
    /// long as video, a flash and a beep every second across every join, in sync.
    @Test func partsJoinWithoutAGap() async throws {
        let folder = Paths.temporary("parts-\(UInt32.random(in: 0...UInt32.max))")
        let secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let receiver = try WebhookReceiver(secret: secret, log: Paths.temporary("parts-hooks-\(UInt32.random(in: 0...UInt32.max)).jsonl"))
        defer { receiver.stop() }
        let room = try RoomProcess(room: "parts", extra: ["--output", folder, "--manual-recording", "--max-part-duration", "30",
                                                          "--webhook", receiver.url, "--webhook-secret", secret])
        defer { room.process.stopIfRunning() }
        let ann = try publishPattern(room, "Ann", room: "parts", colour: "d04030", seconds: 110)
        defer { ann.terminate() }
        _ = try await waitForParticipants(room, "parts", count: 1)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let (started, _, _) = try await httpData("POST", "\(room.base)/rooms/parts/recording")
        #expect(started == 201)
        try await Task.sleep(nanoseconds: 95_000_000_000)
        let (stopped, body, _) = try await httpData("DELETE", "\(room.base)/rooms/parts/recording")
        #expect(stopped == 200)
        let summary = object(body)
        let parts = try #require(summary["parts"] as? [[String: Any]], "\(summary)")
        let recorded = try #require(summary["duration"] as? Double)
        #expect(parts.count == 4, "\(parts)")
        #expect(abs(recorded - 95) < 1, "\(recorded) s recorded")
        let files = parts.compactMap { $0["file"] as? String }
        var frames = 0
        for (index, file) in files.enumerated() {
            #expect(file.hasSuffix("-part00\(index + 1).mp4"))
            #expect(FileManager.default.fileExists(atPath: String(file.dropLast(4)) + ".events.jsonl"), "part \(index + 1)'s events")
            // Each part plays by itself and starts with a keyframe.
            let pictures = try decodePictures(file)
            #expect(pictures.count > 30, "part \(index + 1): \(pictures.count) frames")
            frames += pictures.count
        }
        _ = room.stop()
        #expect(receiver.wait(for: "recording.finished", within: 20))
        let told = receiver.received.compactMap { $0["type"] as? String == "recording.part_ready" ? ($0["data"] as? [String: Any])?["part"] as? Int : nil }
        #expect(told == [1, 2, 3, 4], "part_ready webhooks: \(told)")
        let order = receiver.received.compactMap { $0["type"] as? String }
        #expect(order.lastIndex(of: "recording.part_ready") ?? 99 < order.firstIndex(of: "recording.finished") ?? 0)

        // Joined: decoded through ffmpeg's concat demuxer, kept (lossless H.264, Opus) for the checks.
        let list = folder + "/parts.txt"
        try files.map { "file '\($0)'" }.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let joined = folder + "/joined.mkv"
        let concat = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-f", "concat", "-safe", "0", "-i", list, "-map", "0:v", "-map", "0:a",
                                                                          "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-c:a", "libopus", "-b:a", "128k", joined], within: 120)
        #expect(concat.status == 0, "\(concat.stderr)")
        let pictures = try decodePictures(joined)
        let videoSeconds = Double(pictures.count) / 30
        #expect(pictures.count == frames, "joined: \(pictures.count) frames, the parts \(frames)")
        #expect(abs(videoSeconds - recorded) < 0.1, "joined: \(videoSeconds) s of video, the recording \(recorded) s")
        let audio = try decodeAudio(joined)
        let audioSeconds = Double(audio.left.count) / 48_000
        #expect(abs(audioSeconds - videoSeconds) < 1.0 / 30, "joined: \(audioSeconds) s of audio, \(videoSeconds) s of video")
        let (flashes, beeps) = try flashesAndBeeps(joined, region: PixelRect(x: 120, y: 60, width: 80, height: 60))
        #expect(flashes.count >= 93 && beeps.count >= 93, "\(flashes.count) flashes, \(beeps.count) beeps")
        // A gap or an overlap at a join would move every later beep: they stay a second apart, to 5 ms.
        let beepGaps = zip(beeps.dropFirst(), beeps).map { $0 - $1 }
        #expect(beepGaps.allSatisfy { abs($0 - 1) < 0.005 }, "beep intervals: \(beepGaps.filter { abs($0 - 1) >= 0.005 })")
        let flashGaps = zip(flashes.dropFirst(), flashes).map { $0 - $1 }
        #expect(flashGaps.allSatisfy { abs($0 - 1) < 0.04 }, "flash intervals: \(flashGaps.filter { abs($0 - 1) >= 0.04 })")
        // In sync: in the first part as recorded, and across the joins within the frame grid (a flash is seen at the
        // output frame nearest to it, so its offset to the beep wanders within a frame as the clocks' phases drift;
        // transcoding the joined file for the check shifts the audio by a constant).
        let offsets = pairedOffsets(flashes, beeps)
        let spread = (offsets.max() ?? 1) - (offsets.min() ?? 0)
        #expect(offsets.count >= 93 && spread < 0.07, "flash - beep across the joins: from \(offsets.min() ?? 0) to \(offsets.max() ?? 0) s")
        let first = try flashesAndBeeps(files[0], region: PixelRect(x: 120, y: 60, width: 80, height: 60))
        let recordedOffsets = pairedOffsets(first.flashes, first.beeps)
        #expect(recordedOffsets.count >= 25 && recordedOffsets.allSatisfy { abs($0) < 0.04 }, "flash - beep in part 1: \(recordedOffsets)")
    }
}
