import Compositor
import Layout
import MediaCore
import Synchronization
import Testing
@testable import Rooms

@Suite(.timeLimit(.minutes(1))) struct VideoBitrateTests {
    @Test func theCapFollowsTheTile() {
        let policy = VideoBitratePolicy()
        #expect(policy.cap(tile: PixelSize(width: 640, height: 360), fps: 30) == 691_200)
        #expect(policy.cap(tile: PixelSize(width: 160, height: 90), fps: 30) == 150_000, "the floor")
        #expect(policy.cap(tile: PixelSize(width: 1920, height: 1080), fps: 30) == 4_000_000, "the ceiling")
        #expect(policy.cap(tile: nil, fps: 30) == 150_000, "in no tile: the floor")
    }

    /// Tiles change on the engine's thread: each participant's sender is told the cap of its own tile; one whose
    /// tile grew (it became the speaker) is also asked for a keyframe; one whose cap did not change hears nothing.
    @Test func tileChangesReachEachSender() throws {
        let room = LiveRoom(name: "caps", layout: LayoutPresets.document(named: "speaker")!, clock: { 0 })
        let told = Mutex<[String: [Int]]>([:]), keyframes = Mutex<[String]>([])
        for id in ["ann", "bo"] {
            try room.join(id: id, name: id, tracks: [("0", "audio", "opus"), ("1", "video", "vp8")],
                          needKeyframe: { mid in keyframes.withLock { $0.append("\(id)/\(mid)") } },
                          capBitrate: { bps in told.withLock { $0[id, default: []].append(bps) } })
        }
        defer { _ = room.close() }
        #expect(told.withLock { $0 } == ["ann": [4_000_000], "bo": [4_000_000]], "until shown in a tile: the ceiling")
        room.tilesChanged(["ann": PixelSize(width: 960, height: 540), "bo": PixelSize(width: 240, height: 135)])
        #expect(told.withLock { $0 } == ["ann": [4_000_000, 1_555_200], "bo": [4_000_000, 150_000]])
        #expect(keyframes.withLock { $0 }.isEmpty, "caps that fall need no keyframe")
        room.tilesChanged(["ann": PixelSize(width: 240, height: 135), "bo": PixelSize(width: 960, height: 540)])
        #expect(told.withLock { $0 } == ["ann": [4_000_000, 1_555_200, 150_000], "bo": [4_000_000, 150_000, 1_555_200]])
        #expect(keyframes.withLock { $0 } == ["bo/1"], "the new speaker's sender is asked for a keyframe at once")
        room.tilesChanged(["ann": PixelSize(width: 240, height: 135), "bo": PixelSize(width: 960, height: 540)])
        #expect(told.withLock { $0 }["ann"]?.count == 3 && told.withLock { $0 }["bo"]?.count == 3, "no change, nothing told")
        #expect(room.videoBitrateCap(of: "bo") == 1_555_200)
    }
}

@Suite struct ParticipantFeedTests {
    /// Camera and first microphone together; a screen share and a second camera each a tile of their own; a
    /// second microphone mixed without a tile; a screen-only sender's screen is its main feed.
    @Test func tracksGroupIntoFeeds() {
        let feeds = ParticipantPipeline.feeds(for: [("0", "audio", "opus"), ("1", "video", "vp8"), ("2", "video", "vp8"), ("3", "audio", "opus")],
                                              screens: ["2"])
        #expect(feeds == [.init(key: "", videoMid: "1", audioMid: "0", role: .camera, tiled: true),
                          .init(key: "2", videoMid: "2", audioMid: nil, role: .screen, tiled: true),
                          .init(key: "3", videoMid: nil, audioMid: "3", role: .camera, tiled: false)])
        #expect(feeds.map { $0.name("Ann") } == ["Ann", "Ann (screen)", "Ann"])
        let screenOnly = ParticipantPipeline.feeds(for: [("0", "video", "vp8")], screens: ["0"])
        #expect(screenOnly == [.init(key: "", videoMid: "0", audioMid: nil, role: .screen, tiled: true)])
        let twoCameras = ParticipantPipeline.feeds(for: [("a", "video", "h264"), ("b", "video", "vp8")], screens: [])
        #expect(twoCameras.map { $0.name("Bo") } == ["Bo", "Bo (b)"])
    }
}
