import Codecs
import MediaCore

/// Where a composite goes. The engine composes each output frame once and hands it, and every block of mixed
/// audio, to each of its sinks in order on its own thread; a sink never composites again. A recording file is one
/// sink; a live stream or a test that looks at the frames is another.
public protocol CompositeSink: AnyObject {
    /// Whether the sink takes output frame `index`. A sink under load may take fewer frames; the engine composes a
    /// frame only when some sink takes it (the timeline and the audio stay whole either way).
    func takes(frame index: Int64) -> Bool
    /// Output frame `index` (indices increase; gaps where no sink took a frame). The canvas is only valid during the
    /// call: a sink that keeps the picture copies it.
    func write(frame index: Int64, canvas: VideoCanvas) throws(MediaError)
    /// The next block of mixed 48 kHz stereo audio, contiguous with the previous one.
    func write(audioLeft left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError)
    /// Live runs, once per output tick before it is made: how late the engine is (µs past the tick's due time)
    /// at `now` on the room clock, so a sink can trade cost for speed.
    func observe(lag: Microseconds, frame index: Int64, now: Microseconds) throws(MediaError)
}

extension CompositeSink {
    public func takes(frame index: Int64) -> Bool { true }
    public func observe(lag: Microseconds, frame index: Int64, now: Microseconds) throws(MediaError) {}
}
