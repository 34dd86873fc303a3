import Foundation
import MediaCore
import Synchronization
import Testing

/// A one-way flag between tasks.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct NonBlockingTests {
    /// Stopping a recording (draining x264, rewriting the file with its index first) runs off Swift's cooperative
    /// pool: while two 30 s recordings finalize at once — on a 2-core machine that pool has two threads — the server
    /// still answers `GET /healthz` within 100 ms.
    @Test func healthAnswersWhileTwoRecordingsFinalize() async throws {
        // Noise at high quality on purpose: big files (about 250 MB each) take long enough to finalize for a blocked
        // pool to show. They are removed afterwards.
        let room = try RoomProcess(room: nil, extra: ["--manual-recording", "--size", "1280x720", "--crf", "8"])
        var publishers: [Process] = []
        let names = ["nonblocking-one", "nonblocking-two"]
        defer {
            for p in publishers { p.stopIfRunning() }
            let folder = Paths.temporary("rooms")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where names.contains(where: { file.hasPrefix("\($0)-") }) {
                try? FileManager.default.removeItem(atPath: "\(folder)/\(file)")
            }
        }
        for name in names {
            let (status, body, _) = try await http("POST", "\(room.base)/rooms/\(name)/recording", contentType: nil)
            #expect(status == 201, "\(body)")
            publishers.append(try room.aiortc(room: name, clip: "noise-640x480.webm", seconds: 40, name: "Noise-\(name)"))
        }
        try await Task.sleep(nanoseconds: 30_000_000_000)
        for p in publishers { p.stopIfRunning() }
        let base = room.base
        let started = Date()
        // `try?` inside: a failing stop must not cancel the other one's request (see below).
        async let first = try? http("DELETE", "\(base)/rooms/\(names[0])/recording", contentType: nil)
        async let second = try? http("DELETE", "\(base)/rooms/\(names[1])/recording", contentType: nil)
        // Ended by a flag, not by cancelling: cancelling a task inside URLSession's `data(for:)` can deadlock
        // swift-corelibs-foundation (seen here: the task's status lock against the session's queue).
        let finished = StopFlag()
        let probes = Task { () -> [Double] in
            var latencies: [Double] = []
            while !finished.isSet && latencies.count < 2000 {
                let asked = Date()
                guard let (status, _, _) = try? await http("GET", "\(base)/healthz", contentType: nil) else { break }
                if status == 200 { latencies.append(Date().timeIntervalSince(asked)) }
                try? await Task.sleep(nanoseconds: 10_000_000)
            }
            return latencies
        }
        let (a, b) = await (first, second)
        let finalizing = Date().timeIntervalSince(started)
        finished.set()
        let latencies = await probes.value
        #expect(a?.0 == 200 && b?.0 == 200, "\(a?.1 ?? "no answer") \(b?.1 ?? "no answer")")
        let worst = latencies.max() ?? .infinity
        print("two stops took \(decimal(finalizing, 2)) s; /healthz answered \(latencies.count) times meanwhile, worst \(decimal(worst * 1000, 1)) ms")
        #expect(finalizing > 0.2, "the stops were too quick (\(finalizing) s) for this check to mean anything")
        #expect(latencies.count >= 2 && worst < 0.1, "worst /healthz answer \(worst * 1000) ms while finalizing")
        _ = room.stop()
    }
}
