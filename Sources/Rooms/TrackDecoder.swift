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

/// Decodes one track's frames on its own thread. The queue is bounded: when the decoder falls behind, the oldest
/// frames go and the track waits for a keyframe (asking for one through `needKeyframe`).
/// `@unchecked Sendable`: the queue and flags are only touched under `lock`; the decoder only by its thread.
final class TrackDecoder: @unchecked Sendable {
    static let capacity = 90
    private let lock = ConditionLock()
    private var queue: [(data: [UInt8], keyframe: Bool, time: Microseconds)] = []
    private var stopped = false
    private var waitingForKeyframe = false
    private(set) var dropped = 0
    let codec: String
    private var frames = 0, bytes = 0
    private var pictureSize: PixelSize?
    private var decodeTime: Microseconds = 0
    private let started: Microseconds

    init(codec: String, buffer: SourceBuffer, needKeyframe: @escaping @Sendable () -> Void,
         firstPicture: @escaping @Sendable (PixelSize) -> Void = { _ in }, now: Microseconds = 0) throws(MediaError) {
        self.codec = codec
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

    func push(_ data: [UInt8], keyframe: Bool, time: Microseconds) -> Bool {
        lock.withLock {
            frames += 1
            bytes += data.count
            if waitingForKeyframe && !keyframe { return false }
            waitingForKeyframe = false
            if queue.count >= TrackDecoder.capacity {
                queue.removeAll()          // a partial reference chain is useless: restart at a keyframe
                dropped += TrackDecoder.capacity
                waitingForKeyframe = !keyframe
                if waitingForKeyframe { return true }
            }
            queue.append((data, keyframe, time))
            lock.broadcast()
            return false
        }
    }

    private func next() -> (data: [UInt8], keyframe: Bool, time: Microseconds)? {
        lock.withLock {
            while queue.isEmpty && !stopped { lock.wait() }
            return queue.isEmpty ? nil : queue.removeFirst()
        }
    }

    func stop() { lock.withLock { stopped = true; lock.broadcast() } }

    /// Frames and bytes received so far, averaged over the time since the track started.
    func statistics(now: Microseconds) -> TrackStatistics {
        lock.withLock {
            let seconds = max(0.001, Double(now - started) / 1e6)
            return TrackStatistics(codec: codec, width: pictureSize?.width, height: pictureSize?.height, frames: frames,
                                   framesPerSecond: Double(frames) / seconds, bitrate: Double(bytes * 8) / seconds, dropped: dropped,
                                   bytes: bytes, decodeTime: decodeTime)
        }
    }
}
