import Codecs
import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct DiskTests {
    /// A room recording onto a small real file system (a tmpfs the test mounts) that fills up: its recording stops,
    /// the file plays up to the failure, the API and metrics say so, another room on a roomy disk goes on, and new
    /// recordings on the full one are refused with 503.
    @Test func aFullDiskStopsOnlyThatRoomsRecording() async throws {
        let base = Paths.temporary("disk-\(UInt32.random(in: 0...UInt32.max))")
        let small = base + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mounted = try mcuRun("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", small])
        try #require(mounted == 0, "cannot mount a tmpfs at \(small) (the test needs root)")
        defer { _ = try? mcuRun("/usr/bin/umount", ["-l", small]) }
        let room = try RoomProcess(room: nil, extra: ["--output", base, "--manual-recording", "--min-free-space", "1", "--size", "640x360"], errorsExpected: true)
        defer { _ = room.stop() }
        let (started, startedBody, _) = try await http("POST", "\(room.base)/rooms/cramped/recording", body: #"{"folder": "small"}"#, contentType: "application/json")
        #expect(started == 201, "\(startedBody)")
        #expect(try await http("POST", "\(room.base)/rooms/roomy/recording", contentType: nil).0 == 201)
        let a = try publishPattern(room, "Ada", room: "cramped", colour: "d04040", seconds: 20)
        let b = try publishPattern(room, "Bo", room: "roomy", colour: "40d040", seconds: 20)
        defer { a.terminate(); b.terminate() }
        // Fill the small disk but for 150 KB: the recording runs into its end within seconds.
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let free = try #require((try FileManager.default.attributesOfFileSystem(forPath: small)[.systemFreeSize] as? NSNumber)?.int64Value)
        try Data(count: Int(free) - 150_000).write(to: URL(fileURLWithPath: small + "/filler"))
        var failure: String?
        for _ in 0..<150 {
            try await Task.sleep(nanoseconds: 100_000_000)
            let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/cramped")
            if let error = object(data)["error"] as? String { failure = error; break }
        }
        let error = try #require(failure, "the full disk was never reported")
        #expect(error.contains("recording stopped"), "\(error)")
        let (_, crampedData, _) = try await httpData("GET", "\(room.base)/rooms/cramped")
        #expect((object(crampedData)["recording"] as? [String: Any])?["active"] as? Bool == false)
        // The other room goes on.
        let (_, before, _) = try await httpData("GET", "\(room.base)/rooms/roomy")
        let durationBefore = (object(before)["recording"] as? [String: Any])?["duration"] as? Double ?? 0
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let (_, after, _) = try await httpData("GET", "\(room.base)/rooms/roomy")
        let durationAfter = (object(after)["recording"] as? [String: Any])?["duration"] as? Double ?? 0
        #expect(durationAfter > durationBefore + 1, "roomy: \(durationBefore) → \(durationAfter) s")
        let (_, metrics, _) = try await http("GET", "\(room.base)/metrics", contentType: nil)
        #expect(metrics.contains("mcu_recording_failures_total{room=\"cramped\"} 1"), "\(metrics.split(separator: "\n").filter { $0.contains("failure") })")
        // No new recording where there is no room left.
        let (refused, refusal, _) = try await http("POST", "\(room.base)/rooms/later/recording", body: #"{"folder": "small"}"#, contentType: "application/json")
        #expect(refused == 503 && refusal.contains("free"), "\(refusal)")
        // The file plays up to the failure.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: small).filter { $0.hasSuffix(".recording.mp4") }
        let partial = try #require(leftovers.first.map { small + "/" + $0 })
        let pictures = try decodePictures(partial)
        #expect(pictures.count > 15, "\(pictures.count) pictures before the disk filled")
        // Stopping the roomy one finalizes it as usual.
        let (stopped, stoppedData, _) = try await httpData("DELETE", "\(room.base)/rooms/roomy/recording")
        #expect(stopped == 200 && (object(stoppedData)["duration"] as? Double ?? 0) > 2)
    }
}
