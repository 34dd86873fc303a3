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
/// Audio is taken in batches: a packet costs libopus some 30 µs but waking a thread for it costs more, so the
/// worker sleeps `audioBatch` after each batch and the packets meanwhile queue without waking it (well inside the
/// room's latency, 400 ms by default).
/// `@unchecked Sendable`: the queue and flags are only touched under `lock`; the decoder only by its thread.
final class TrackDecoder: @unchecked Sendable {
    static let capacity = 90
    /// Encoded bytes queued at most (90 frames of a 4K keyframe-heavy stream would otherwise be ~100 MB).
    static let maxQueuedBytes = 8 << 20
    /// How long an audio worker lets packets gather before it decodes them (microseconds).
    static let audioBatch: UInt32 = 40_000
    private let batchInterval: UInt32
    /// The worker waits on the condition (only then does `push` signal it).
    private var workerWaiting = false
    private var queuedBytes = 0
    private let needKeyframe: @Sendable () -> Void
    /// Frame time of the last keyframe request while waiting for one.
    private var lastRequest: Microseconds?
    private let lock = ConditionLock()
    typealias Item = (data: [UInt8], keyframe: Bool, time: Microseconds)
    private var queue: [Item] = []
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
        batchInterval = codec == "opus" ? TrackDecoder.audioBatch : 0
        let decoder = Handoff(try FrameDecoder(codec: codec))
        try startThread(name: "decode \(codec)") { [self] in
            let decoder = decoder.take()
            var size: PixelSize?
            let stopwatch = SystemClock()
            var batch: [Item] = []
            while self.next(into: &batch) {
                let started = stopwatch.now()
                for item in batch where !decoder.decode(item.data, time: item.time, onVideo: { picture in
                    if size == nil { firstPicture(picture.size) }
                    if size != picture.size { size = picture.size; self.lock.withLock { self.pictureSize = picture.size } }
                    buffer.pushVideo(picture)
                }, onAudio: { buffer.pushAudio($0) }) {
                    needKeyframe()
                }
                batch.removeAll(keepingCapacity: true)
                let spent = stopwatch.now() - started
                self.lock.withLock { self.decodeTime += spent }
                if self.batchInterval > 0 { usleep(self.batchInterval) }
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
            if workerWaiting { lock.broadcast() }
            return false
        }
        if ask { needKeyframe() }
    }

    /// Waits for frames and moves all that are queued into `batch` (empty on entry); false once stopped and drained.
    private func next(into batch: inout [Item]) -> Bool {
        lock.withLock {
            while queue.isEmpty && !stopped {
                workerWaiting = true
                lock.wait()
                workerWaiting = false
            }
            guard !queue.isEmpty else { return false }
            swap(&queue, &batch)
            queuedBytes = 0
            return true
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
