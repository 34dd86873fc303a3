import Compositor
import Foundation
import Layout
import MediaCore
import Synchronization
import Testing
@testable import Rooms

@Suite(.timeLimit(.minutes(1))) struct TrackDecoderTests {
    /// A backlog the decoder cannot hold (here: one frame over the byte bound) drops to "wait for a keyframe" and
    /// asks the sender for one at once — before, the request was computed and ignored, and the tile froze.
    @Test func anOverflowAsksForAKeyframe() throws {
        let requests = Atomic<Int>(0)
        let decoder = try TrackDecoder(codec: "vp8", buffer: SourceBuffer(mode: .live), needKeyframe: { requests.add(1, ordering: .relaxed) })
        defer { decoder.stop() }
        let huge = [UInt8](repeating: 0x01, count: TrackDecoder.maxQueuedBytes + 1)
        decoder.push(huge, keyframe: false, time: 0)
        #expect(requests.load(ordering: .relaxed) == 1, "a keyframe is asked for when frames are dropped")
        decoder.push([0x01, 0, 0], keyframe: false, time: 100_000)
        #expect(requests.load(ordering: .relaxed) == 1, "not again within a second")
        decoder.push([0x01, 0, 0], keyframe: false, time: 1_200_000)
        #expect(requests.load(ordering: .relaxed) == 2, "again while it still waits a second later")
        #expect(decoder.dropped == 3)
    }
}

@Suite(.timeLimit(.minutes(1))) struct LiveRoomJoinTests {
    /// Names of this process's threads (Linux).
    static func threadNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap {
            (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A join that fails on its second track leaves no decoder thread of its first one behind.
    @Test func aFailedJoinLeavesNoThreads() async throws {
        let room = LiveRoom(name: "t", layout: LayoutPresets.document(named: "grid")!, clock: { 0 })
        for _ in 0..<5 {
            #expect(throws: MediaError.self) {
                try room.join(id: "p", name: "P", tracks: [("0", "video", "h264"), ("1", "audio", "no-such-codec")], needKeyframe: { _ in })
            }
        }
        var left = LiveRoomJoinTests.threadNames().filter { $0 == "decode h264" }.count
        for _ in 0..<50 where left > 0 { try await Task.sleep(nanoseconds: 20_000_000); left = LiveRoomJoinTests.threadNames().filter { $0 == "decode h264" }.count }
        #expect(left == 0, "\(left) decoder threads left behind by 5 failed joins")
    }

    /// Worker threads carry names (`top -H`, `gdb`, crash reports).
    @Test func workerThreadsAreNamed() async throws {
        let decoder = try TrackDecoder(codec: "opus", buffer: SourceBuffer(mode: .live), needKeyframe: {})
        defer { decoder.stop() }
        var names: [String] = []
        for _ in 0..<50 where !names.contains("decode opus") {
            names = LiveRoomJoinTests.threadNames()
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(names.contains("decode opus"), "\(names)")
    }
}
