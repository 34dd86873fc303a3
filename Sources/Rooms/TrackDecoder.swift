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

/// Decodes one track's frames on its own thread. The queue is bounded by count and by bytes: when the decoder falls
/// behind, the queued frames go (a partial reference chain is useless) and the track waits for a keyframe, asking
/// the sender for one through `needKeyframe` at once and again every second while it waits.
/// `@unchecked Sendable`: the queue and flags are only touched under `lock`; the decoder only by its thread.
final class TrackDecoder: @unchecked Sendable {
    static let capacity = 90
    /// Encoded bytes queued at most (90 frames of a 4K keyframe-heavy stream would otherwise be ~100 MB).
    static let maxQueuedBytes = 8 << 20
    private var queuedBytes = 0
    private let needKeyframe: @Sendable () -> Void
    /// Frame time of the last keyframe request while waiting for one.
    private var lastRequest: Microseconds?
    private let lock = ConditionLock()
    private var queue: [(data: [UInt8], keyframe: Bool, time: Microseconds)] = []
    private var stopped = false
    private var waitingForKeyframe = false
    private(set) var dropped = 0
    let codec: String
    private var frames = 0, bytes = 0
    private var recent = RateWindow()
    private var pictureSize: PixelSize?
    private var decodeTime: Microseconds = 0
    private let started: Microseconds

    init(codec: String, buffer: SourceBuffer, needKeyframe: @escaping @Sendable () -> Void,
         firstPicture: @escaping @Sendable (PixelSize) -> Void = { _ in }, now: Microseconds = 0) throws(MediaError) {
        self.codec = codec
        self.needKeyframe = needKeyframe
        started = now
        let decoder = Handoff(try FrameDecoder(codec: codec))
        try startThread(name: "decode \(codec)") { [self] in
            let decoder = decoder.take()
            var size: PixelSize?
            let stopwatch = SystemClock()
            while let item = self.next() {
                let started = stopwatch.now()
                defer { let spent = stopwatch.now() - started; self.lock.withLock { self.decodeTime += spent } }
                if !decoder.decode(item.data, time: item.time, onVideo: { picture in
                    if size == nil { firstPicture(picture.size) }
                    if size != picture.size { size = picture.size; self.lock.withLock { self.pictureSize = picture.size } }
                    buffer.pushVideo(picture)
                }, onAudio: { buffer.pushAudio($0) }) {
                    needKeyframe()
                }
            }
        }
    }

    func push(_ data: [UInt8], keyframe: Bool, time: Microseconds) {
        let ask = lock.withLock { () -> Bool in
            frames += 1
            bytes += data.count
            recent.add(bytes: data.count, at: time)
            if waitingForKeyframe && !keyframe {
                dropped += 1
                guard let last = lastRequest, time - last < 1_000_000 else { lastRequest = time; return true }
                return false
            }
            waitingForKeyframe = false
            lastRequest = nil
            if queue.count >= TrackDecoder.capacity || queuedBytes + data.count > TrackDecoder.maxQueuedBytes {
                dropped += queue.count
                queue.removeAll()
                queuedBytes = 0
                if !keyframe {
                    dropped += 1
                    waitingForKeyframe = true
                    lastRequest = time
                    return true
                }
            }
            queue.append((data, keyframe, time))
            queuedBytes += data.count
            lock.broadcast()
            return false
        }
        if ask { needKeyframe() }
    }

    private func next() -> (data: [UInt8], keyframe: Bool, time: Microseconds)? {
        lock.withLock {
            while queue.isEmpty && !stopped { lock.wait() }
            guard !queue.isEmpty else { return nil }
            let item = queue.removeFirst()
            queuedBytes -= item.data.count
            return item
        }
    }

    func stop() { lock.withLock { stopped = true; lock.broadcast() } }

    /// Frames and bytes received so far, averaged over the time since the track started and over the last 2 s.
    func statistics(now: Microseconds) -> TrackStatistics {
        lock.withLock {
            let seconds = max(0.001, Double(now - started) / 1e6)
            let current = recent.rates(now: now)
            return TrackStatistics(codec: codec, width: pictureSize?.width, height: pictureSize?.height, frames: frames,
                                   framesPerSecond: Double(frames) / seconds, bitrate: Double(bytes * 8) / seconds,
                                   recentFramesPerSecond: current.framesPerSecond, recentBitrate: current.bitsPerSecond,
                                   dropped: dropped, bytes: bytes, decodeTime: decodeTime)
        }
    }
}
