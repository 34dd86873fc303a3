import Codecs
@testable import Compositor
import Foundation
import Layout
import Output
import MediaCore
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct SpeakerDetectorTests {
    func blocks(_ n: Int, _ levels: [String: Float], into detector: inout SpeakerDetector) {
        for _ in 0..<n { detector.update(levels: levels) }
    }

    @Test func nobodyDominatesNobodySpeaks() {
        var d = SpeakerDetector()
        blocks(200, ["a": 0.1, "b": 0.1], into: &d)
        #expect(d.speaker == nil)
    }

    @Test func followsWhoTalksAfterTheHoldTime() {
        var d = SpeakerDetector()
        blocks(100, ["a": 0.2, "b": 0.001], into: &d)
        #expect(d.speaker == "a")
        blocks(40, ["a": 0.001, "b": 0.2], into: &d)   // 0.8 s: an interjection
        #expect(d.speaker == "a", "short interjections do not take the slot")
        blocks(100, ["a": 0.001, "b": 0.2], into: &d)
        #expect(d.speaker == "b")
    }

    @Test func silenceKeepsTheLastSpeaker() {
        var d = SpeakerDetector()
        blocks(100, ["a": 0.2, "b": 0], into: &d)
        blocks(500, ["a": 0, "b": 0], into: &d)
        #expect(d.speaker == "a")
    }
}

@Suite(.timeLimit(.minutes(2))) struct VisibleTilesTests {
    func tile(_ id: String, _ rect: PixelRect, opacity: Double = 1) -> PlacedTile {
        PlacedTile(sourceID: id, regionID: "r", cell: 0, rect: rect, z: 0, fit: .contain, border: Border(), opacity: opacity)
    }

    @Test func tilesBehindOpaqueOnesAreSkipped() {
        let full = PixelRect(x: 0, y: 0, width: 640, height: 360)
        let small = PixelRect(x: 10, y: 10, width: 100, height: 100)
        #expect(VideoCompositor.visibleTiles([tile("a", small), tile("b", full)]).map(\.sourceID) == ["b"])
        #expect(VideoCompositor.visibleTiles([tile("a", small), tile("b", full, opacity: 0.5)]).map(\.sourceID) == ["a", "b"])
        #expect(VideoCompositor.visibleTiles([tile("a", full), tile("b", small)]).map(\.sourceID) == ["a", "b"])
    }
}

/// Builds 48 kHz samples for a source buffer.
func samples(at time: Microseconds, count: Int, value: Float) -> AudioSamples {
    let data = [Float](repeating: value, count: count)
    return AudioSamples(time: time, left: data[...], right: data[...])
}

@Suite(.timeLimit(.minutes(2))) struct SourceBufferTests {
    /// A live source nobody reads (its room is not recording) holds a bounded amount of decoded video: 48 pictures
    /// of 1080p were ~150 MB; now at most `liveVideoBytes`, and always the newest pictures.
    @Test func liveVideoIsBoundedByBytes() throws {
        let buffer = SourceBuffer(mode: .live)
        let canvas = try VideoCanvas(size: PixelSize(width: 1920, height: 1080))
        for k in 0..<60 { buffer.pushVideo(try #require(canvas.snapshot(time: Microseconds(k) * 33_333))) }
        #expect(buffer.heldVideoBytes <= SourceBuffer.liveVideoBytes, "\(buffer.heldVideoBytes >> 20) MiB held")
        #expect(buffer.heldVideoBytes >= SourceBuffer.liveVideoBytes - 1920 * 1080 * 3 / 2, "but as much as fits")
        let newest: Microseconds = 59 * 33_333
        let shown = buffer.picture(atOrBefore: newest)?.time
        #expect(shown == newest, "the newest is kept")
    }

    @Test func liveBufferGivesNewestPictureNotFromTheFuture() throws {
        let buffer = SourceBuffer(mode: .live)
        let canvas = try VideoCanvas(size: PixelSize(width: 16, height: 16))
        for t in [0, 33_333, 66_666] as [Microseconds] {
            let p = try #require(canvas.snapshot(time: t))
            buffer.pushVideo(p)
        }
        #expect(buffer.picture(atOrBefore: -1) == nil)
        #expect(buffer.picture(atOrBefore: 40_000)?.time == 33_333)
        #expect(buffer.picture(atOrBefore: 50_000)?.time == 33_333, "holds the last picture while nothing newer is due")
        #expect(buffer.picture(atOrBefore: 1_000_000)?.time == 66_666, "a stalled source keeps its last picture")
    }

    @Test func audioGapsBecomeSilenceAndJitterIsAbsorbed() {
        let buffer = SourceBuffer(mode: .live)
        buffer.pushAudio(samples(at: 0, count: 960, value: 0.5))
        buffer.pushAudio(samples(at: 20_100, count: 960, value: 0.5))   // 0.1 ms late: continuous
        buffer.pushAudio(samples(at: 100_000, count: 960, value: 0.5))  // a real gap of 60 ms
        var left = [Float](repeating: 0, count: 960), right = left
        _ = buffer.mix(into: &left, &right, position: 960, count: 960, gain: 1)
        #expect(left.allSatisfy { $0 == 0.5 }, "second block continuous")
        left = [Float](repeating: 0, count: 960); right = left
        _ = buffer.mix(into: &left, &right, position: 1920, count: 960, gain: 1)
        #expect(left.allSatisfy { $0 == 0 }, "gap is silence")
        left = [Float](repeating: 0, count: 960); right = left
        let level = buffer.mix(into: &left, &right, position: 4800, count: 960, gain: 0.5)
        #expect(left.allSatisfy { $0 == 0.25 } && abs(level - 0.25) < 1e-6, "gain applied, level reported")
    }

    @Test func pacedConsumerWaitsForTheProducer() async throws {
        let buffer = SourceBuffer(mode: .paced)
        let producer = Thread {
            for i in 0..<30 {
                let canvas = try! VideoCanvas(size: PixelSize(width: 16, height: 16))
                buffer.pushVideo(canvas.snapshot(time: Microseconds(i) * 33_333)!)
                buffer.pushAudio(samples(at: Microseconds(i) * 33_333, count: 1600, value: 0.1))
            }
            buffer.endVideo()
            buffer.endAudio()
        }
        producer.start()
        var times: [Microseconds] = []
        for tick in 0..<30 {
            times.append(buffer.picture(atOrBefore: Microseconds(tick) * 33_333)?.time ?? -1)
        }
        #expect(times == (0..<30).map { Microseconds($0) * 33_333 }, "every tick got exactly its picture")
        var left = [Float](repeating: 0, count: 960), right = left
        _ = buffer.mix(into: &left, &right, position: 0, count: 960, gain: 1)
        // Past the last picture the paced consumer waits until the producer says the source has ended.
        let last: Microseconds? = buffer.picture(atOrBefore: 10_000_000)?.time
        #expect(last == Microseconds(29 * 33_333))
        _ = buffer.mix(into: &left, &right, position: 480_000, count: 960, gain: 1)   // waits for the audio's end
        #expect(buffer.endTime == Microseconds(1_000_000), "the audio (30 x 1600 samples) ends last")
    }
}

@Suite(.timeLimit(.minutes(2))) struct AudioMixerTests {
    @Test func limiterKeepsLoudSumsInsideFullScale() {
        let a = SourceBuffer(mode: .live), b = SourceBuffer(mode: .live)
        var wave = [Float](repeating: 0, count: 48_000)
        for i in wave.indices { wave[i] = 0.9 * sin(Float(i) * 2 * .pi * 440 / 48_000) }
        a.pushAudio(AudioSamples(time: 0, left: wave[...], right: wave[...]))
        b.pushAudio(AudioSamples(time: 0, left: wave[...], right: wave[...]))
        let mixer = AudioMixer()
        var peak: Float = 0
        var position: Int64 = 0
        while position + 960 <= 48_000 {
            let out = mixer.mix([.init(id: "a", buffer: a, gain: 1), .init(id: "b", buffer: b, gain: 1)], position: position)
            peak = max(peak, out.left.map(abs).max() ?? 0)
            position += 960
        }
        #expect(peak <= 0.98, "peak \(peak)")
        #expect(peak > 0.8, "still loud: \(peak)")
        #expect((mixer.levels["a"] ?? 0) > 0.5)
    }
}

@Suite(.timeLimit(.minutes(2))) struct FrameDecoderTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func decodesDemuxedVP8AndOpusFrames() throws {
        let demuxer = try MediaFileDemuxer(path: Self.root.appendingPathComponent("Fixtures/generated/colour-ff0000.webm").path)
        let video = try FrameDecoder(codec: "vp8"), audio = try FrameDecoder(codec: "opus")
        var pictures: [VideoPicture] = [], samples = 0
        var first = true
        while let p = demuxer.next() {
            if p.video {
                if first { #expect(p.keyframe); first = false }
                #expect(video.decode(p.data, time: p.time, onVideo: { pictures.append($0) }, onAudio: { _ in }))
            } else {
                audio.decode(p.data, time: p.time, onVideo: { _ in }, onAudio: { samples += $0.count })
            }
        }
        #expect(pictures.count == 90)
        #expect(pictures[45].time - pictures[0].time == 1_500_000, "times are the packets' own")
        let mean = try #require(pictures[45].meanYUV(in: PixelRect(x: 100, y: 100, width: 400, height: 200)))
        let red = RGBAColor(hex: "ff0000")!.yuv
        #expect(abs(mean.y - Double(red.y)) < 8 && abs(mean.v - Double(red.v)) < 8)
        #expect(abs(samples - 144_000) < 2_000, "3 s of 48 kHz audio, got \(samples)")
    }

    @Test func garbageFramesAreRefusedNotFatal() throws {
        let decoder = try FrameDecoder(codec: "vp8")
        var pictures = 0
        for size in [1, 3, 10, 100, 5000] {
            _ = decoder.decode([UInt8](repeating: 0xA5, count: size), time: 0, onVideo: { _ in pictures += 1 }, onAudio: { _ in })
        }
        #expect(pictures == 0)
        #expect(!decoder.decode([], time: 0, onVideo: { _ in }, onAudio: { _ in }))
        #expect(throws: MediaError.self) { try FrameDecoder(codec: "theora") }
    }
}

@Suite(.timeLimit(.minutes(2))) struct LiveEngineTests {
    func colourPicture(_ hex: String, time: Microseconds) throws -> VideoPicture {
        let canvas = try VideoCanvas(size: PixelSize(width: 64, height: 48))
        canvas.fill(color: RGBAColor(hex: hex)!)
        return try #require(canvas.snapshot(time: time))
    }

    /// A 160x90, 10 fps engine writing to a temporary file.
    func smallEngine(_ name: String, preset: String, encoderPreset: String = "ultrafast") throws -> (String, RecordingSink, CompositionEngine) {
        let path = TestScratch.path("\(name).mp4")
        let size = PixelSize(width: 160, height: 90)
        let writer = try RecordingSink(path: path, settings: EncoderSettings(size: size, fps: Rational(10), preset: encoderPreset))
        let engine = try CompositionEngine(layout: try #require(LayoutPresets.document(named: preset)), canvasSize: size, fps: Rational(10), sinks: [writer], text: nil)
        return (path, writer, engine)
    }

    /// Senders' RFC 6464 levels drive the speaker slot even when the decoded audio says nothing.
    @Test func reportedAudioLevelsPickTheSpeaker() throws {
        let (_, writer, engine) = try smallEngine("live-levels", preset: "single")
        let origin: Microseconds = 10_000_000
        for (i, id) in ["a", "b"].enumerated() {
            engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: id, start: origin, hasVideo: false, sequence: i), buffer: SourceBuffer(mode: .live)))
        }
        nonisolated(unsafe) var changes: [(String?, Microseconds)] = []
        engine.onSpeakerChange = { changes.append(($0, $1)) }
        var clock = origin, reported = origin
        try engine.runLive(origin: origin, latency: 100_000, now: { clock }, sleep: { wait in
            clock += wait
            while reported <= clock {       // a packet every 20 ms: "b" loud (-10 dBov), "a" near silence
                engine.reportLevel(id: "b", level: 0.316, at: reported)
                engine.reportLevel(id: "a", level: 0.00001, at: reported)
                reported += 20_000
            }
        }, shouldStop: { engine.frameIndex >= 40 })
        _ = try writer.finish()
        let chosen = try #require(changes.last { $0.0 != nil })
        #expect(chosen.0 == "b")
        #expect(chosen.1 >= 1_500_000 && chosen.1 < 2_600_000, "b took the slot after the hold: \(changes)")
    }

    /// A camera that stops shows its last picture for 2 s, then the participant's slate, and its picture again
    /// when it comes back.
    @Test func aStoppedCameraTurnsIntoTheSlateAfterTwoSeconds() throws {
        let (path, writer, engine) = try smallEngine("live-slate", preset: "grid")
        let origin: Microseconds = 10_000_000
        let buffer = SourceBuffer(mode: .live)
        engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: "cam", start: origin, hasAudio: false), buffer: buffer))
        var clock = origin, produced = origin
        try engine.runLive(origin: origin, latency: 100_000, now: { clock }, sleep: { wait in
            clock += wait
            while produced <= clock {       // pictures for the first second and again from 4 s on
                let t = produced - origin
                if t < 1_000_000 || t >= 4_000_000 { buffer.pushVideo(try! colourPicture("ff0000", time: produced)) }
                produced += 50_000
            }
        }, shouldStop: { engine.frameIndex >= 50 })
        _ = try writer.finish()
        let reader = try MediaFileReader(path: path, wantAudio: false)
        var pictures: [VideoPicture] = []
        while reader.step(onVideo: { pictures.append($0) }, onAudio: { _ in }) {}
        let red = RGBAColor(hex: "ff0000")!.yuv
        func isRed(_ p: VideoPicture) -> Bool {
            let c = p.meanYUV(in: PixelRect(x: 70, y: 35, width: 20, height: 20))!
            return abs(c.y - Double(red.y)) < 15 && abs(c.v - Double(red.v)) < 15
        }
        #expect(isRed(pictures[5]) && isRed(pictures[25]), "live, then held for up to 2 s")
        #expect(!isRed(pictures[32]) && !isRed(pictures[38]), "stopped for more than 2 s: the slate")
        #expect(isRed(pictures[47]), "back")
    }

    /// Overload: when frames come out late the engine first encodes with faster presets, then makes fewer frames
    /// (the timeline and the audio stay whole), and goes back step by step to every frame at the configured preset
    /// once it keeps up.
    @Test(arguments: ["ultrafast", "veryfast"])
    func aSlowMachineGetsFasterPresetsThenFewerFramesNotABacklog(encoderPreset: String) throws {
        let (path, writer, engine) = try smallEngine("live-load-\(encoderPreset)", preset: "grid", encoderPreset: encoderPreset)
        let origin: Microseconds = 10_000_000
        let buffer = SourceBuffer(mode: .live)
        engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: "cam", start: origin, hasAudio: false), buffer: buffer))
        nonisolated(unsafe) var changes: [(RecordingSink.LoadStep, Microseconds)] = []
        writer.onLoadChange = { changes.append(($0, $1)) }
        var clock = origin, made: Int64 = 0, maxBehind: Microseconds = 0
        try engine.runLive(origin: origin, latency: 100_000, now: {
            // Each frame made costs 250 ms of a 100 ms frame interval for the first 8 s of output, 10 ms after
            // (whatever the preset: the worst case, where only the frame rate helps).
            if engine.framesMade != made {
                made = engine.framesMade
                clock += engine.frameIndex < 80 ? 250_000 : 10_000
            }
            maxBehind = max(maxBehind, clock - (origin + engine.fps.tickTime(engine.frameIndex)))
            return clock
        }, sleep: { clock += $0 }, shouldStop: { engine.frameIndex >= 700 })
        _ = try writer.finish()
        let story = changes.map { "\($0.0.preset)/\($0.0.divisor)@\($0.1 / 100_000)" }
        let presetSteps = EncoderSettings.presets.firstIndex(of: encoderPreset)!
        // First the faster presets, one per second of lateness, then the frame rate.
        let expectedStart = (0..<presetSteps).map { EncoderSettings.presets[presetSteps - 1 - $0] + "/1" } + ["ultrafast/2"]
        #expect(Array(changes.prefix(presetSteps + 1).map { "\($0.0.preset)/\($0.0.divisor)" }) == expectedStart, "\(story)")
        #expect(writer.maxDecimation >= 3, "the frame rate goes on down while frames stay late: \(story)")
        #expect(writer.fastestPreset == (presetSteps > 0 ? "ultrafast" : nil), "the summary's fastest preset")
        #expect(presetSteps == 0 || writer.fasterPresetTicks > 0)
        #expect(changes.last.map { $0.0 == RecordingSink.LoadStep(preset: encoderPreset, divisor: 1) } == true,
                "back to every frame at the configured preset once it keeps up: \(story)")
        #expect(maxBehind < 6_000_000, "the backlog stays bounded (\(maxBehind) µs behind at worst)")
        let reader = try MediaFileReader(path: path)
        var frames: [Microseconds] = [], audio = 0
        while reader.step(onVideo: { frames.append($0.time) }, onAudio: { audio += $0.count }) {}
        #expect(frames.count < 600, "\(frames.count) frames for 700 ticks")
        let lastSeconds = frames.filter { $0 >= 66_000_000 }.count
        #expect(lastSeconds >= 38, "every frame again at the end: \(lastSeconds) in the last 4 s")
        #expect(abs(Double(audio) / 48_000 - 70) < 0.2, "audio covers the whole 70 s")
    }

    /// A machine at the edge (every frame late at the full rate, fine at half): the engine does not swing between
    /// the two every few seconds — each step back that does not hold doubles the calm it waits for.
    @Test func aMachineAtTheEdgeDoesNotSwing() throws {
        let (_, writer, engine) = try smallEngine("live-edge", preset: "grid")
        let origin: Microseconds = 10_000_000
        engine.join(CompositionEngine.Source(descriptor: SourceDescriptor(id: "cam", start: origin, hasAudio: false), buffer: SourceBuffer(mode: .live)))
        nonisolated(unsafe) var changes: [(RecordingSink.LoadStep, Microseconds)] = []
        writer.onLoadChange = { changes.append(($0, $1)) }
        var clock = origin, made: Int64 = 0
        try engine.runLive(origin: origin, latency: 100_000, now: {
            if engine.framesMade != made {
                made = engine.framesMade
                clock += writer.decimation == 1 ? 120_000 : 50_000     // 120 % of real time at 10 fps, 25 % at 5
            }
            return clock
        }, sleep: { clock += $0 }, shouldStop: { engine.frameIndex >= 3000 })
        _ = try writer.finish()
        let downs = changes.filter { $0.0.divisor == 2 }.map { $0.1 / 1_000_000 }
        print("a machine at the edge: steps down at \(downs) s")
        // 10, 20, 40, 80, 160 s of calm between tries: 5 or 6 steps down in 300 s (every ~13 s without the backoff).
        #expect(downs.count >= 3 && downs.count <= 6, "steps down at \(downs) s")
    }
}
