import Codecs
import Compositor
import MediaCore

/// The mix as an audio file (M4A, Ogg/Opus, MP3, WAV). It takes no frames: in an audio-only recording, where it is
/// the only sink, the engine composes no picture at all. Owned by the engine's thread; not Sendable.
public final class AudioFileSink: CompositeSink {
    public let writer: AudioFileWriter

    public init(path: String, format: AudioFormat) throws(MediaError) {
        writer = try AudioFileWriter(path: path, format: format)
    }

    public func takes(frame index: Int64) -> Bool { false }
    public func write(frame index: Int64, canvas: VideoCanvas) throws(MediaError) {}
    public func write(audioLeft left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        try writer.write(left: left, right: right)
    }

    /// After a failure: the file closed as it is, for recovery.
    public func abandon() { writer.abandon() }

    public func finish() throws(MediaError) -> RecordingSummary { try writer.finish() }
}

/// What a recording writes besides (or instead of) its video file, and how.
public struct RecordingOptions: Sendable {
    public var parts: PartPolicy?
    /// Live outputs of its encoded stream.
    public var hlsFolder: String?
    /// Heights of extra HLS renditions (the recording's encoder then keeps its keyframes fixed, for them to align with).
    public var hlsRenditions: [Int] = []
    public var pushURLs: [String] = []
    /// Audio only, in this format: no video is decoded, composed or encoded.
    public var audioOnly: AudioFormat?
    /// A video recording also writes its mix as `NAME.FORMAT`.
    public var audioFile: AudioFormat?
    /// Audio only: these participants (by name) on the left channel, everyone else on the right.
    public var dualChannelLeft: Set<String>?
    public init() {}
}
