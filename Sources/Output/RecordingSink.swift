import Codecs
import Compositor
import MediaCore

/// The recording file as a sink: x264 + AAC into the crash-safe MP4, with the load ladder that keeps it real-time.
/// Under load it first swaps in faster x264 presets (same stream headers, a keyframe at each change), then takes
/// only every 2nd, 3rd, 4th frame; it steps back once it keeps up. With a part policy the recording is a series of
/// complete MP4s (`RecordingSink+Parts.swift`). Owned by the engine's thread; not Sendable.
public final class RecordingSink: CompositeSink {
    /// The file (the part) being written.
    public internal(set) var writer: CompositeWriter
    private var ladder = LoadLadder()
    /// Parts: the policy, where the part in progress began (output frame, audio sample), the cut to come, the part
    /// that still waits for its last audio, and the thread that finishes parts.
    let basePath: String
    let settings: EncoderSettings
    let parts: PartPolicy?
    var partNumber = 1
    var partStartFrame: Int64 = 0, partStartSample: Int64 = 0
    var samplesIn: Int64 = 0
    var plannedCut: Int64?
    var closing: (writer: CompositeWriter, owed: Int64, number: Int, start: Microseconds, end: Microseconds)?
    var finalizer: PartFinalizer?
    /// Parts: called on the engine's thread at each cut with the part that ends (number, start and end on the
    /// recording's timeline), for its chapters and captions; the next part begins at `end`.
    public var onPartCut: ((Int, Microseconds, Microseconds) -> RecordingAnnotations)?
    /// HLS and RTMP from this recording's encoded stream (across its parts).
    public var liveOutputs: LiveOutputs? {
        didSet { writer.liveOutputs = liveOutputs }
    }

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

    public init(writer: CompositeWriter) {
        self.writer = writer
        basePath = writer.finalPath
        settings = writer.settings
        parts = nil
    }

    /// `parts`: cut the recording into `NAME-part001.mp4`, `-part002.mp4`…; each finished part is told through
    /// `onPartReady`, on the thread that finishes parts.
    public init(path: String, settings: EncoderSettings, parts: PartPolicy? = nil,
                onPartReady: (@Sendable (PartSummary) -> Void)? = nil) throws(MediaError) {
        basePath = path
        self.settings = settings
        self.parts = parts.flatMap { $0.isEmpty ? nil : $0 }
        writer = try CompositeWriter(path: self.parts == nil ? path : RecordingSink.partPath(path, 1), settings: settings)
        if self.parts != nil { finalizer = try PartFinalizer(onReady: onPartReady ?? { _ in }) }
    }

    public func takes(frame index: Int64) -> Bool { index == plannedCut || decimation == 1 || index % Int64(decimation) == 0 }

    public func write(frame index: Int64, canvas: VideoCanvas) throws(MediaError) {
        if parts != nil { try cutIfDue(before: index) }
        let keyframe = writer.nextFrameIsKeyframe
        try writer.writeVideo(canvas, index: index - partStartFrame)
        liveOutputs?.encodeRenditions(canvas, index: index, keyframe: keyframe, preset: writer.presetInForce)
    }

    public func write(audioLeft left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        samplesIn += Int64(left.count)
        guard var ending = closing else { return try writer.writeAudio(left: left, right: right) }
        // The part that ended takes what it is still owed, the next one the rest.
        let owed = Int(min(ending.owed, Int64(left.count)))
        try ending.writer.writeAudio(left: left.prefix(owed), right: right.prefix(owed))
        ending.owed -= Int64(owed)
        closing = ending
        if ending.owed == 0 { try endClosingPart() }
        if owed < left.count { try writer.writeAudio(left: left.dropFirst(owed), right: right.dropFirst(owed)) }
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

    /// After a failure (a full disk): the files closed as they are, each cut back to its last whole fragment (they
    /// play up to there; `Recovery` finalizes them at the next start); the live outputs end.
    public func abandon() {
        closing?.writer.abandon()
        writer.abandon()
        liveOutputs?.finish()
    }

    /// Drains the encoders and finalizes the file (faststart, chapters, captions). With parts: the last part (its
    /// chapters and captions from `onPartCut`), after the earlier ones are finished; the summary then covers them all.
    public func finish(annotations: RecordingAnnotations = RecordingAnnotations()) throws(MediaError) -> RecordingSummary {
        defer { liveOutputs?.finish() }
        guard parts != nil else { return try writer.finish(annotations: annotations) }
        return try finishParts()
    }
}
