import Codecs
import MediaCore

/// The hand-over between one source's decoder worker (producer) and the output clock (consumer).
///
/// Paced mode (files): the producer blocks when it is far enough ahead, and the consumer blocks until it
/// knows the newest picture at or before a tick; when the consumer waits on a buffer, that buffer's producer
/// is let past its limits, so interleaving of any depth cannot deadlock. Live mode: nobody blocks; the oldest
/// pictures are dropped when the consumer falls behind.
///
/// `@unchecked Sendable`: every mutable field is read and written only with `condition` locked.
public final class SourceBuffer: @unchecked Sendable {
    public enum Mode: Sendable { case paced, live }

    public static let videoCapacity = 4
    /// Live: the consumer draws `latency` behind the newest picture, so the queue must hold that window
    /// (about 12 pictures at 30 fps and 400 ms); beyond this bound the oldest go.
    public static let liveVideoCapacity = 48
    /// …and by bytes: a source nobody reads (a room not recording) or a 4K camera holds at most this much decoded
    /// video (48 pictures of 1080p were ~150 MB per source). 64 MiB holds 20 pictures of 1080p, 660 ms at 30 fps.
    public static let liveVideoBytes = 64 << 20
    public static let audioCapacity: Int64 = 96_000 // 2 s at 48 kHz
    static let chunkSamples = 2048

    public let mode: Mode
    private let condition = ConditionLock()
    private var frames: [VideoPicture] = []
    private var current: VideoPicture?
    private var lastInterval: Microseconds = 33_333
    private var lastFrameTime: Microseconds?
    private var videoEnded = false
    private var audioEnded = false
    private var consumerWaiting = false
    private var cancelled = false
    private(set) var droppedFrames = 0

    private struct Chunk { var start: Int64; var count: Int; var left: [Float]; var right: [Float] }
    private var chunks: [Chunk] = []
    private var chunkHead = 0
    private var pool: [Chunk] = []
    private var audioWritten: Int64?   // absolute sample index after the last queued sample
    private var audioRead: Int64 = 0

    public init(mode: Mode) { self.mode = mode }

    /// Decoded video held now, in bytes (tests).
    var heldVideoBytes: Int { condition.withLock { frames.reduce(0) { $0 + $1.byteCount } } }

    // MARK: Producer

    /// Returns false when the consumer has gone (stop decoding).
    @discardableResult
    public func pushVideo(_ picture: VideoPicture) -> Bool {
        condition.lock(); defer { condition.unlock() }
        if mode == .paced {
            while frames.count >= SourceBuffer.videoCapacity && !consumerWaiting && !cancelled { condition.wait() }
        } else {
            if frames.count >= SourceBuffer.liveVideoCapacity {
                frames.removeFirst()
                droppedFrames += 1
            }
            var bytes = picture.byteCount
            for held in frames { bytes += held.byteCount }
            while bytes > SourceBuffer.liveVideoBytes, let oldest = frames.first {
                bytes -= oldest.byteCount
                frames.removeFirst()
                droppedFrames += 1
            }
        }
        if cancelled { return false }
        if let last = lastFrameTime, picture.time > last { lastInterval = min(200_000, max(5_000, picture.time - last)) }
        lastFrameTime = max(lastFrameTime ?? picture.time, picture.time)
        // Keep presentation order even if a file's timestamps step back.
        if let tail = frames.last, picture.time < tail.time {
            let index = frames.firstIndex { $0.time > picture.time } ?? frames.count
            frames.insert(picture, at: index)
        } else {
            frames.append(picture)
        }
        condition.broadcast()
        return true
    }

    /// Queues 48 kHz samples at their place on the timeline. Small jitter is absorbed (the stream stays
    /// continuous); a real gap becomes silence; overlap is dropped.
    @discardableResult
    public func pushAudio(_ samples: AudioSamples) -> Bool {
        condition.lock(); defer { condition.unlock() }
        if mode == .paced {
            while let written = audioWritten, written - audioRead > SourceBuffer.audioCapacity, !consumerWaiting, !cancelled {
                condition.wait()
            }
        }
        if cancelled { return false }
        var start = samples.time * Int64(AudioSamples.sampleRate) / 1_000_000
        var skip = 0
        if let written = audioWritten {
            let drift = start - written
            if abs(drift) <= 960 { start = written }                   // within 20 ms: continuous
            else if drift < 0 { skip = Int(min(Int64(samples.count), -drift)); start = written }
        }
        var offset = skip
        while offset < samples.count {
            let n = min(SourceBuffer.chunkSamples, samples.count - offset)
            var chunk = pool.popLast() ?? Chunk(start: 0, count: 0,
                                                left: [Float](repeating: 0, count: SourceBuffer.chunkSamples),
                                                right: [Float](repeating: 0, count: SourceBuffer.chunkSamples))
            chunk.start = start + Int64(offset - skip)
            chunk.count = n
            Self.copy(samples.left, from: offset, count: n, into: &chunk.left)
            Self.copy(samples.right, from: offset, count: n, into: &chunk.right)
            chunks.append(chunk)
            offset += n
        }
        if samples.count > skip { audioWritten = start + Int64(samples.count - skip) }
        if mode == .live, let written = audioWritten, written - audioRead > SourceBuffer.audioCapacity * 2 {
            audioRead = written - SourceBuffer.audioCapacity
            releaseChunks(before: audioRead)
        }
        condition.broadcast()
        return true
    }

    /// A block copy (per-element stores into the pooled chunk would each check its uniqueness).
    private static func copy(_ source: ArraySlice<Float>, from offset: Int, count: Int, into target: inout [Float]) {
        source.withUnsafeBufferPointer { src in
            target.withUnsafeMutableBufferPointer { dst in dst.baseAddress!.update(from: src.baseAddress! + offset, count: count) }
        }
    }

    public func endVideo() {
        condition.lock(); videoEnded = true; condition.broadcast(); condition.unlock()
    }

    public func endAudio() {
        condition.lock(); audioEnded = true; condition.broadcast(); condition.unlock()
    }

    /// Releases a blocked producer and consumer for good.
    public func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }

    /// Cancels and drops everything held (pictures, queued and pooled audio: about 1.5 MB): for a source that has
    /// left and will not be read again. A room with hundreds of comings and goings would otherwise keep them all.
    public func releaseMemory() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        frames.removeAll()
        current = nil
        chunks.removeAll()
        chunkHead = 0
        pool.removeAll()
        condition.broadcast()
    }

    // MARK: Consumer

    /// The newest picture whose time is ≤ `time`; the last one again when the source stalls; nil before
    /// the first. Paced: waits until that is certain.
    /// `firstBy`: before anything was shown, the first picture counts from the start when it is stamped by then (a
    /// file whose video starts a few milliseconds after its audio shows its first frame from the first tick, as
    /// ffmpeg's frame-rate conversion does, not a black tile).
    public func picture(atOrBefore time: Microseconds, firstBy: Microseconds? = nil) -> VideoPicture? {
        condition.lock(); defer { condition.unlock() }
        while true {
            while let first = frames.first, first.time <= time {
                current = first
                frames.removeFirst()
            }
            if current == nil, let firstBy, let first = frames.first, first.time <= firstBy {
                current = first
                frames.removeFirst()
            }
            if mode == .live || !frames.isEmpty || videoEnded || cancelled { break }
            consumerWaiting = true
            condition.broadcast()
            condition.wait()
        }
        consumerWaiting = false
        condition.broadcast()
        return current
    }

    /// Adds `count` samples from absolute sample `position` on, times `gain`, into the mix buffers;
    /// returns the block's RMS level of this source (linear). Paced: waits until those samples are known.
    public func mix(into left: inout [Float], _ right: inout [Float], position: Int64, count: Int, gain: Float) -> Float {
        condition.lock(); defer { condition.unlock() }
        if mode == .paced {
            while !(audioEnded || cancelled || (audioWritten ?? Int64.min) >= position + Int64(count)) {
                consumerWaiting = true
                condition.broadcast()
                condition.wait()
            }
            consumerWaiting = false
        }
        releaseChunks(before: position)
        var sum: Float = 0
        var index = chunkHead
        let end = position + Int64(count)
        while index < chunks.count, chunks[index].start < end {
            let chunk = chunks[index]
            let from = max(position, chunk.start), to = min(end, chunk.start + Int64(chunk.count))
            if from < to {
                let src = Int(from - chunk.start), dst = Int(from - position), n = Int(to - from)
                for i in 0..<n {
                    let l = chunk.left[src + i] * gain, r = chunk.right[src + i] * gain
                    left[dst + i] += l
                    right[dst + i] += r
                    sum += l * l + r * r
                }
            }
            index += 1
        }
        audioRead = max(audioRead, end)
        condition.broadcast()
        return (sum / Float(max(1, 2 * count))).squareRoot()
    }

    private func releaseChunks(before position: Int64) {
        while chunkHead < chunks.count, chunks[chunkHead].start + Int64(chunks[chunkHead].count) <= position {
            // Move the storage out so the pooled chunk is its only owner (no copy on reuse).
            let released = chunks[chunkHead]
            chunks[chunkHead].left = []
            chunks[chunkHead].right = []
            if pool.count < 64 { pool.append(released) }
            chunkHead += 1
        }
        if chunkHead > 32 {
            chunks.removeFirst(chunkHead)
            chunkHead = 0
        }
    }

    /// When the source ended on the timeline, once both of its streams are done (nil before).
    public var endTime: Microseconds? {
        condition.lock(); defer { condition.unlock() }
        guard videoEnded && audioEnded else { return nil }
        let videoEnd = lastFrameTime.map { $0 + lastInterval } ?? 0
        let audioEnd = (audioWritten ?? 0) * 1_000_000 / Int64(AudioSamples.sampleRate)
        return max(videoEnd, audioEnd)
    }

    public var isEnded: Bool {
        condition.lock(); defer { condition.unlock() }
        return videoEnded && audioEnded
    }

    public var framesDropped: Int {
        condition.lock(); defer { condition.unlock() }
        return droppedFrames
    }
}
