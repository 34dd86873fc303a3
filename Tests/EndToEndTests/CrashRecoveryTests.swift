import Codecs
import Foundation
import MediaCore
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct CrashRecoveryTests {
    /// `kill -9` of the recorder at random moments: what is left (composite and per-participant tracks) plays and
    /// misses at most the last 2 s; `mcu-record recover` and the next start-up both finalize the leftovers.
    @Test func killedRecordingsAreRecoveredMissingAtMostTwoSeconds() async throws {
        let folder = Paths.temporary("crash-\(UInt32.random(in: 0...UInt32.max))")
        let tracks = folder + "/tracks"
        var generator = SeededRandom("killedRecordingsAreRecoveredMissingAtMostTwoSeconds")
        var lostSeconds: [Double] = []
        for round in 0..<3 {
            let room = try RoomProcess(room: "crash", extra: ["--output", folder, "--tracks", tracks])
            let publisher = try publishPattern(room, "Kim", room: "crash", colour: "3070d0", seconds: 20)
            defer { publisher.terminate() }
            _ = try await waitForParticipants(room, "crash", count: 1)
            try await Task.sleep(nanoseconds: UInt64.random(in: 2_000_000_000...5_000_000_000, using: &generator))
            let (_, described, _) = try await httpData("GET", "\(room.base)/rooms/crash")
            let recorded = try #require((object(described)["recording"] as? [String: Any])?["duration"] as? Double)
            kill(room.process.processIdentifier, SIGKILL)
            room.process.finish()
            publisher.terminate()
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".recording.mp4") }
            #expect(leftovers.count == 1, "round \(round): leftovers \(leftovers)")
            // The per-participant track file plays as it is.
            let trackFiles = try FileManager.default.contentsOfDirectory(atPath: tracks).filter { $0.hasSuffix(".webm") }
            if let newest = trackFiles.max(by: { (try? FileManager.default.attributesOfItem(atPath: tracks + "/" + $0)[.modificationDate] as? Date ?? .distantPast) ?? .distantPast
                                               < (try? FileManager.default.attributesOfItem(atPath: tracks + "/" + $1)[.modificationDate] as? Date ?? .distantPast) ?? .distantPast }) {
                let pictures = try decodePictures(tracks + "/" + newest)
                let span = Double((pictures.last?.time ?? 0) - (pictures.first?.time ?? 0)) / 1e6
                #expect(span > recorded - 2.5, "round \(round): track file holds \(span) s of \(recorded) s")
            } else {
                Issue.record("round \(round): no track file")
            }
            guard let leftover = leftovers.first else { continue }
            let partial = folder + "/" + leftover
            if round < 2 {
                // By hand.
                let result = try mcuRecord(["recover", partial])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout.contains("recovered"))
            } else {
                // At the next start-up.
                let next = try RoomProcess(room: "crash", extra: ["--output", folder])
                #expect(next.output.contains("recovered \(partial)"), "start-up output: \(next.output)")
                _ = next.stop()
            }
            let final = String(partial.dropLast(".recording.mp4".count)) + ".mp4"
            #expect(!FileManager.default.fileExists(atPath: partial))
            let pictures = try decodePictures(final)
            let duration = Double(pictures.count) / 30
            lostSeconds.append(recorded - duration)
            #expect(duration >= recorded - 2, "round \(round): \(duration) s recovered of \(recorded) s recorded when killed")
            let audio = try decodeAudio(final)
            #expect(Double(audio.left.count) / 48_000 >= recorded - 2.5, "round \(round): audio")
        }
        print("seconds lost per kill: \(lostSeconds.map { String(format: "%.2f", $0) })")
        // A file still being written is left alone.
        let live = try RoomProcess(room: "crash", extra: ["--output", folder])
        let publisher = try publishPattern(live, "Lee", room: "crash", colour: "3070d0", seconds: 10)
        defer { publisher.terminate() }
        _ = try await waitForParticipants(live, "crash", count: 1)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let writing = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".recording.mp4") }
        #expect(writing.count == 1)
        #expect(try mcuRecord(["recover", folder]).stdout.contains("nothing to recover"))
        let direct = try mcuRecord(["recover", folder + "/" + (writing.first ?? "")])
        #expect(direct.status != 0 && direct.stderr.contains("still being written"), "\(direct.stderr)")
        _ = try live.stopAndRecording("crash")
    }
}
