import Foundation
import MediaCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .timeLimit(.minutes(5))) struct PauseTests {
    /// A participant who comes, beeps at 600 Hz and leaves while the recording is paused leaves no trace in it: no
    /// 600 Hz in the audio, never its green tile, no frame in its track file. The file lasts the recorded time minus
    /// the pause, without a gap; the events file marks the pause and the resume.
    @Test func nothingFromAPauseIsRecorded() async throws {
        let folder = Paths.temporary("pause-\(UInt32.random(in: 0...UInt32.max))")
        let room = try RoomProcess(room: "pause", extra: ["--output", folder, "--tracks", folder + "/tracks"])
        defer { room.process.stopIfRunning() }
        let ann = try publishPattern(room, "Ann", room: "pause", colour: "d04030", seconds: 40)
        defer { ann.terminate() }
        _ = try await waitForParticipants(room, "pause", count: 1)
        try await Task.sleep(nanoseconds: 3_000_000_000)

        let (_, before, _) = try await httpData("GET", "\(room.base)/rooms/pause")
        let recordedBefore = try #require((object(before)["recording"] as? [String: Any])?["duration"] as? Double)
        let started = Date().addingTimeInterval(-recordedBefore)
        let (paused, pauseBody, _) = try await httpData("POST", "\(room.base)/rooms/pause/recording/pause")
        #expect(paused == 200, "\(String(decoding: pauseBody, as: UTF8.self))")
        let bea = Process()
        bea.executableURL = URL(fileURLWithPath: Paths.binary)
        bea.arguments = ["publish", "--whip", "\(room.base)/rooms/pause/whip", "--name", "Bea", "--colour", "30a050", "--tone", "600",
                         "--size", "320x240", "--duration", "4"]
        bea.standardOutput = FileHandle.nullDevice
        bea.standardError = FileHandle.nullDevice
        try bea.run()
        defer { bea.stopIfRunning() }
        _ = try await waitForParticipants(room, "pause", count: 2)
        bea.finish(within: 20)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let (resumed, resumeBody, _) = try await httpData("POST", "\(room.base)/rooms/pause/recording/resume")
        #expect(resumed == 200)
        let pausedFor = try #require(object(resumeBody)["paused_for"] as? Double)
        #expect(pausedFor > 4)
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let (stopped, stopBody, _) = try await httpData("DELETE", "\(room.base)/rooms/pause/recording")
        let wall = Date().timeIntervalSince(started)
        #expect(stopped == 200)
        let file = try #require(object(stopBody)["file"] as? String)
        let output = room.stop()

        // The file is the recorded time without the pause (the room's 0.4 s latency aside).
        let pictures = try decodePictures(file)
        let duration = Double(pictures.count) / 30
        #expect(abs(duration - (wall - pausedFor)) < 0.8, "\(duration) s in the file; \(wall) s recorded, \(pausedFor) s of it paused")
        // Never Bea's tile: no frame with a green right half (the grid would put her there).
        let right = PixelRect(x: 170, y: 20, width: 140, height: 140)
        let green = yuv(ofHex: "30a050")
        let greenFrames = pictures.filter { p in p.meanYUV(in: right).map { distance($0, green) < 30 } ?? false }
        #expect(greenFrames.isEmpty, "\(greenFrames.count) frames show Bea")
        // Never her 600 Hz beep; Ann's 1000 Hz beeps are there, before and after the pause.
        let audio = try decodeAudio(file)
        var loudest600 = 0.0, loudest1000 = 0.0, beeps1000 = 0
        var i = 0
        while i + 4800 <= audio.left.count {
            let window = audio.left[i..<(i + 4800)]
            loudest600 = max(loudest600, goertzel(window, frequency: 600))
            let at1000 = goertzel(window, frequency: 1000)
            loudest1000 = max(loudest1000, at1000)
            i += 4800
            if at1000 > 0.001 { beeps1000 += 1 }
        }
        #expect(loudest1000 > 0.001 && beeps1000 >= Int(duration) - 2, "Ann's beeps: \(beeps1000) loud windows, peak \(loudest1000)")
        #expect(loudest600 < loudest1000 / 100, "600 Hz at \(loudest600) against Ann's 1000 Hz at \(loudest1000)")
        #expect(Double(audio.left.count) / 48_000 > duration - 0.2, "audio as long as the video")

        // The events file marks both, and places what happened during the pause at its moment.
        let events = try String(contentsOfFile: String(file.dropLast(4)) + ".events.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let pause = try #require(events.first { $0["event"] as? String == "pause" })
        let resume = try #require(events.first { $0["event"] as? String == "resume" })
        #expect(abs((resume["t"] as? Double ?? -1) - (pause["t"] as? Double ?? -2)) < 0.1, "no time passes on the recording during a pause")
        #expect(abs((resume["paused_for"] as? Double ?? 0) - pausedFor) < 0.01)
        let beaJoin = events.first { $0["event"] as? String == "join" && $0["name"] as? String == "Bea" }
        #expect(abs((beaJoin?["t"] as? Double ?? -1) - (pause["t"] as? Double ?? 0)) < 0.1)
        // Bea's track file holds nothing; Ann's misses the pause.
        let beaTrack = output.split(separator: "\n").first { $0.contains("track Bea") }
        #expect(beaTrack?.contains(" 0 frames") == true, "\(beaTrack ?? "no track line"): \(output)")
        let annFile = try #require(output.split(separator: "\n").first { $0.contains("track Ann") }?.split(separator: " ").first { $0.hasSuffix(".webm") })
        let annPictures = try decodePictures(String(annFile))
        let span = Double((annPictures.last?.time ?? 0) - (annPictures.first?.time ?? 0)) / 1e6
        #expect(span < wall - pausedFor + 1.5 && span > wall - pausedFor - 2, "Ann's track spans \(span) s")
    }
}
