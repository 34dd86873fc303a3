import Codecs
import Compositor
import Layout
import MediaCore
import Output
import Recorder
import Text
#if canImport(Glibc)
import Glibc
#endif

/// A received track as the API shows it.
public struct TrackStatistics: Sendable {
    public var codec: String
    public var width: Int?, height: Int?
    public var frames: Int
    /// Averages over the track's life.
    public var framesPerSecond: Double
    public var bitrate: Double
    /// Over the last 2 s (what the sender sends now).
    public var recentFramesPerSecond: Double
    public var recentBitrate: Double
    public var dropped: Int
    public var bytes: Int
    /// Time spent decoding, µs.
    public var decodeTime: Microseconds
}

/// What a live room recorded, with how each participant's tile fared.
public struct LiveRecordingSummary: Sendable {
    /// The file; with parts, the last part (duration, bytes and frames of them all).
    public var recording: RecordingSummary
    /// The parts, when the recording was cut into parts.
    public var parts: [PartSummary] = []
    /// The mix as an audio file besides the video (`--audio-file`).
    public var audioFile: String?
    public var participants: [CompositionEngine.SourceStatistics]
    /// Per-participant files of the tracks as received (`--tracks`), in join order.
    public var tracks: [TrackFile]
    /// How late the compositor made frames at worst and at the end (real-time health).
    public var maxLag: Microseconds
    public var finalLag: Microseconds
    /// The events file and the chat transcript beside the recording.
    public var events: String?
    public var chat: String?
    /// Overload: time at a reduced output frame rate, and the lowest rate used.
    public var reducedRate: Microseconds = 0
    public var lowestRate: Double = 0
    /// Overload: time encoded with a faster x264 preset than configured, and the fastest one used.
    public var fasterPreset: Microseconds = 0
    public var fastestPreset: String?
}

/// One participant's tracks as received, and where they start on the composite's timeline.
public struct TrackFile: Sendable {
    public var participant: String
    public var name: String
    public var path: String
    /// Seconds from the start of the composite to the file's first frame (`compose --input FILE@START`).
    public var start: Microseconds
    public var frames: Int
    public var error: String?
}
