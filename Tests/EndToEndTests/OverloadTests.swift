import Codecs
import Foundation
import MediaCore
import Testing

/// Under load the encoder steps to faster x264 presets mid-recording; the track's format must not change.
@Suite(.timeLimit(.minutes(10))) struct PresetStepTests {
    /// From every configured preset, each faster one writes the same stream headers (the pinned table holds for the
    /// installed libx264), and a file that stepped all the way down and back is one valid track: every frame
    /// decodes, timestamps increase, and each change starts with a keyframe.
    @Test(arguments: ["superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"])
    func stepsToEveryFasterPresetWithTheSameHeaders(preset: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("steps-\(preset)-\(getpid()).mp4").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let size = PixelSize(width: 160, height: 96)
        let writer = try CompositeWriter(path: path, settings: EncoderSettings(size: size, fps: Rational(10), preset: preset, keyframeInterval: 10))
        let steps = writer.speedSteps
        #expect(steps == EncoderSettings.presets.firstIndex(of: preset), "every faster preset is reachable")
        let canvas = try VideoCanvas(size: size)
        var index: Int64 = 0
        var presets: [String] = []
        for step in Array(0...steps) + Array((0..<steps).reversed()) {
            if step != writer.speedStep { #expect(try writer.setSpeedStep(step), "step \(step) from \(preset)") }
            presets.append(writer.presetInForce)
            for _ in 0..<6 {
                canvas.fill(color: RGBAColor(r: UInt8(index * 9 % 256), g: 128, b: UInt8(255 - index * 5 % 256)))
                try writer.writeVideo(canvas, index: index)
                index += 1
            }
        }
        #expect(presets.first == preset && presets.last == preset && presets.contains("ultrafast"), "\(presets)")
        _ = try writer.finish()
        let reader = try MediaFileReader(path: path, wantAudio: false)
        var decoded = 0
        while reader.step(onVideo: { _ in decoded += 1 }, onAudio: { _ in }) {}
        #expect(decoded == Int(index), "\(decoded) of \(index) frames decode")
        let packets = try mcuProbe(["-select_streams", "v", "-show_entries", "packet=dts,flags", "-of", "csv=p=0", path])
            .split(separator: "\n").map { $0.split(separator: ",") }
        let dts = packets.compactMap { Int($0.first ?? "") }
        #expect(dts.count == Int(index) && zip(dts, dts.dropFirst()).allSatisfy { $0 < $1 }, "decode times increase: \(dts)")
        let keyframes = packets.filter { $0.count > 1 && $0[1].hasPrefix("K") }.count
        #expect(keyframes >= presets.count, "a keyframe at each of the \(presets.count - 1) changes (\(keyframes))")
        let streams = try mcuProbe(["-select_streams", "v", "-show_entries", "stream=index", "-of", "csv=p=0", path])
        #expect(streams.split(separator: "\n").count == 1, "one video track: \(streams)")
    }

    /// ultrafast is the fastest: nothing to step to.
    @Test func ultrafastHasNoFasterStep() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("steps-ultrafast-\(getpid()).mp4").path
        let writer = try CompositeWriter(path: path, settings: EncoderSettings(size: PixelSize(width: 64, height: 64), preset: "ultrafast"))
        #expect(writer.speedSteps == 0)
        #expect(try writer.setSpeedStep(1) == false)
        _ = try writer.finish()
        try? FileManager.default.removeItem(atPath: path)
    }
}
