import Codecs
@testable import Compositor
import Layout
import MediaCore
import Testing

/// Keeps every frame and all audio the engine hands it: the compositor tested without an encoder.
final class FrameCollector: CompositeSink {
    private(set) var frames: [(index: Int64, picture: VideoPicture)] = []
    private(set) var audio = 0
    /// Takes only every `every`-th frame, as a sink under load would.
    let every: Int64
    init(every: Int64 = 1) { self.every = every }
    func takes(frame index: Int64) -> Bool { index % every == 0 }
    func write(frame index: Int64, canvas: VideoCanvas) throws(MediaError) {
        guard let picture = canvas.snapshot(time: index) else { throw MediaError(.codecFailure, "no snapshot") }
        frames.append((index, picture))
    }
    func write(audioLeft left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) { audio += left.count }
}

@Suite(.timeLimit(.minutes(2))) struct SinkTests {
    func colourPicture(_ hex: String, time: Microseconds) throws -> VideoPicture {
        let canvas = try VideoCanvas(size: PixelSize(width: 64, height: 48))
        canvas.fill(color: RGBAColor(hex: hex)!)
        return try #require(canvas.snapshot(time: time))
    }

    func near(_ p: VideoPicture, x: Int, _ hex: String) -> Bool {
        let c = p.meanYUV(in: PixelRect(x: x, y: 80, width: 20, height: 20))!, e = RGBAColor(hex: hex)!.yuv
        return abs(c.y - Double(e.y)) < 3 && abs(c.u - Double(e.u)) < 3 && abs(c.v - Double(e.v)) < 3
    }

    /// Joins and leaves on a fake clock, seen in the frames themselves: no x264, no file.
    @Test func joinsAndLeavesAreSeenBySinksWithoutAnEncoder() throws {
        let size = PixelSize(width: 320, height: 180)
        let all = FrameCollector(), half = FrameCollector(every: 2)
        let engine = try CompositionEngine(layout: try #require(LayoutPresets.document(named: "grid")), canvasSize: size, fps: Rational(10),
                                           sinks: [all, half], text: nil)
        let origin: Microseconds = 50_000_000
        let red = SourceBuffer(mode: .live), blue = SourceBuffer(mode: .live)
        engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: "red", start: origin, hasAudio: false, sequence: 0), buffer: red))
        var clock = origin, produced = origin
        var blueJoined = false, redLeft = false
        try engine.runLive(origin: origin, latency: 200_000, now: { clock }, sleep: { wait in
            clock += wait
            while produced + 100_000 <= clock {
                if produced < origin + 2_000_000 { red.pushVideo(try! colourPicture("ff0000", time: produced)) }
                if produced >= origin + 1_000_000 { blue.pushVideo(try! colourPicture("0000ff", time: produced)) }
                produced += 50_000
            }
            if !blueJoined && clock >= origin + 1_000_000 {
                blueJoined = true
                engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: "blue", start: origin + 1_000_000, hasAudio: false, sequence: 1), buffer: blue))
            }
            if !redLeft && clock >= origin + 2_000_000 { redLeft = true; engine.leave(id: "red", at: origin + 2_000_000) }
        }, shouldStop: { engine.frameIndex >= 30 })
        #expect(all.frames.map(\.index) == Array(0..<30))
        #expect(half.frames.map(\.index) == Array(stride(from: 0, to: 30, by: 2)), "a sink taking every 2nd frame gets just those")
        #expect(all.audio == 3 * 48_000 && half.audio == all.audio, "both sinks get the whole audio timeline")
        let frames = all.frames.map(\.picture)
        #expect(near(frames[5], x: 150, "ff0000"), "0.5 s: red alone")
        #expect(near(frames[15], x: 70, "ff0000") && near(frames[15], x: 230, "0000ff"), "1.5 s: red and blue side by side")
        #expect(near(frames[25], x: 150, "0000ff"), "2.5 s: blue alone after red left")
        #expect(half.frames[7].picture.meanYUV(in: PixelRect(x: 0, y: 0, width: 320, height: 180))!.y
                == frames[14].meanYUV(in: PixelRect(x: 0, y: 0, width: 320, height: 180))!.y, "one composite, the same for every sink")
    }

    /// When no sink takes a frame the engine does not compose it; the audio goes on.
    @Test func aFrameNoSinkTakesIsNotComposed() throws {
        let sink = FrameCollector(every: 3)
        let engine = try CompositionEngine(layout: try #require(LayoutPresets.document(named: "grid")), canvasSize: PixelSize(width: 64, height: 36),
                                           fps: Rational(10), sinks: [sink], text: nil)
        var clock: Microseconds = 0
        try engine.runLive(origin: 0, latency: 0, now: { clock }, sleep: { clock += $0 }, shouldStop: { engine.frameIndex >= 12 })
        #expect(engine.framesMade == 4 && sink.frames.count == 4)
        #expect(sink.audio == 12 * 4_800)
    }

    @Test func anEngineNeedsASink() {
        #expect(throws: MediaError.self) {
            _ = try CompositionEngine(layout: LayoutPresets.document(named: "grid")!, canvasSize: PixelSize(width: 64, height: 36), fps: Rational(10), sinks: [], text: nil)
        }
    }

    /// Forty visitors come with pictures and sound and go: a second after each leaves the engine holds no scaler,
    /// mixer level or reported level for it (before, every visitor's stayed until the recording ended).
    @Test func departedSourcesLeaveNoStateBehind() throws {
        let engine = try CompositionEngine(layout: try #require(LayoutPresets.document(named: "grid")), canvasSize: PixelSize(width: 160, height: 90),
                                           fps: Rational(10), sinks: [FrameCollector()], text: nil)
        var clock: Microseconds = 0
        var visitors: [(id: String, buffer: SourceBuffer, joined: Microseconds)] = []
        try engine.runLive(origin: 0, latency: 100_000, now: { clock }, sleep: { wait in
            clock += wait
            if visitors.count < 40, clock >= Microseconds(visitors.count) * 200_000 {
                let id = "v\(visitors.count)", buffer = SourceBuffer(mode: .live)
                visitors.append((id, buffer, clock))
                engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: id, start: clock, sequence: visitors.count), buffer: buffer))
            }
            for v in visitors where clock - v.joined < 500_000 {
                v.buffer.pushVideo(try! colourPicture("30c060", time: clock))
                _ = v.buffer.pushAudio(AudioSamples(time: clock, left: [Float](repeating: 0.2, count: 960)[...], right: [Float](repeating: 0.2, count: 960)[...]))
                engine.reportLevel(id: v.id, level: 0.2, at: clock)
            }
            for v in visitors where clock - v.joined >= 500_000 && clock - v.joined < 500_000 + wait { engine.leave(id: v.id, at: clock) }
        }, shouldStop: { engine.frameIndex >= 120 })
        #expect(engine.framesMade == 120)
        let held = engine.perSourceState
        #expect(held.scalers == 0 && held.levels == 0 && held.reported == 0, "still held for departed visitors: \(held)")
    }
}

@Suite(.timeLimit(.minutes(1))) struct TileChangeTests {
    /// The engine reports each source's tile when the tiles change — a join, a new layout — and not otherwise.
    @Test func theEngineReportsTileChanges() throws {
        let sink = FrameCollector()
        let engine = try CompositionEngine(layout: try #require(LayoutPresets.document(named: "grid")), canvasSize: PixelSize(width: 640, height: 360),
                                           fps: Rational(10), sinks: [sink], text: nil)
        var reports: [[String: PixelSize]] = []
        engine.onTilesChanged = { reports.append($0) }
        engine.add(CompositionEngine.Source(descriptor: SourceDescriptor(id: "a", start: 0, hasAudio: false, sequence: 0), buffer: SourceBuffer(mode: .live)))
        try engine.tick(time: 0, pictures: [:])
        try engine.tick(time: 100_000, pictures: [:])
        #expect(reports == [["a": PixelSize(width: 640, height: 360)]], "once, not every frame")
        engine.add(CompositionEngine.Source(descriptor: SourceDescriptor(id: "b", start: 150_000, hasAudio: false, sequence: 1), buffer: SourceBuffer(mode: .live)))
        try engine.tick(time: 200_000, pictures: [:])
        #expect(reports.count == 2 && reports.last?.count == 2 && reports.last?["a"] == reports.last?["b"], "\(reports)")
        #expect((reports.last?["a"]?.width ?? 640) < 640, "two tiles share the canvas")
    }
}
