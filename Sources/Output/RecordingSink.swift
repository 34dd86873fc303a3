import Codecs
import Compositor
import MediaCore

/// The recording file as a sink: x264 + AAC into the crash-safe MP4, with the load ladder that keeps it real-time.
/// Under load it first swaps in faster x264 presets (same stream headers, a keyframe at each change), then takes
/// only every 2nd, 3rd, 4th frame; it steps back once it keeps up. Owned by the engine's thread; not Sendable.
public final class RecordingSink: CompositeSink {
    public let writer: CompositeWriter
    private var ladder = LoadLadder()

    /// One rung: the x264 preset in force and every how many frames one is taken.
    public struct LoadStep: Sendable, Equatable {
        public var preset: String
        public var divisor: Int
        public init(preset: String, divisor: Int) { self.preset = preset; self.divisor = divisor }
        /// More degraded than `other`: a lower frame rate, or the same rate with a faster preset.
        public func isHeavier(than other: LoadStep) -> Bool {
            if divisor != other.divisor { return divisor > other.divisor }
            return (EncoderSettings.presets.firstIndex(of: preset) ?? 0) < (EncoderSettings.presets.firstIndex(of: other.preset) ?? 0)
        }
    }
    public static let maxDivisor = 4
    /// 0: nothing degraded; 1…speedSteps: faster presets; then frame divisors 2…maxDivisor.
    private var level = 0
    public private(set) var decimation = 1
    public private(set) var maxDecimation = 1
    /// Ticks at a reduced frame rate, and at a faster preset than configured.
    public private(set) var degradedTicks: Int64 = 0
    public private(set) var fasterPresetTicks: Int64 = 0
    private var maxSpeedStep = 0
    /// The fastest preset used (nil: only the configured one).
    public var fastestPreset: String? { maxSpeedStep > 0 ? writer.preset(atStep: maxSpeedStep) : nil }
    /// Called on the engine's thread when the preset or the frame rate changes, with the recording time.
    public var onLoadChange: ((LoadStep, Microseconds) -> Void)?

    public init(writer: CompositeWriter) { self.writer = writer }

    public convenience init(path: String, settings: EncoderSettings) throws(MediaError) {
        self.init(writer: try CompositeWriter(path: path, settings: settings))
    }

    public func takes(frame index: Int64) -> Bool { decimation == 1 || index % Int64(decimation) == 0 }

    public func write(frame index: Int64, canvas: VideoCanvas) throws(MediaError) { try writer.writeVideo(canvas, index: index) }

    public func write(audioLeft left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        try writer.writeAudio(left: left, right: right)
    }

    public func observe(lag: Microseconds, frame index: Int64, now: Microseconds) throws(MediaError) {
        defer {
            if writer.speedStep > 0 { fasterPresetTicks += 1 }
            if decimation > 1 { degradedTicks += 1 }
        }
        let step = ladder.decide(lag: lag, now: now)
        guard step != 0 else { return }
        let last = writer.speedSteps + RecordingSink.maxDivisor - 1
        let next = min(max(0, level + step), last)
        guard next != level else { return }
        let speed = min(next, writer.speedSteps)
        // A preset whose stream headers would differ ends the writer's ladder there: the frame rate steps instead.
        if speed != writer.speedStep { _ = try writer.setSpeedStep(speed) }
        ladder.took(step, now: now)
        level = min(next, writer.speedSteps + RecordingSink.maxDivisor - 1)
        decimation = max(1, level - writer.speedSteps + 1)
        maxDecimation = max(maxDecimation, decimation)
        maxSpeedStep = max(maxSpeedStep, writer.speedStep)
        onLoadChange?(LoadStep(preset: writer.presetInForce, divisor: decimation), writer.settings.fps.tickTime(index))
    }

    /// Drains the encoders and finalizes the file (faststart, chapters, captions).
    public func finish(annotations: RecordingAnnotations = RecordingAnnotations()) throws(MediaError) -> RecordingSummary {
        try writer.finish(annotations: annotations)
    }
}
