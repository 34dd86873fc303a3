import Codecs
import MediaCore

/// When a recording is cut into parts: after so long, or so many bytes, whichever comes first.
public struct PartPolicy: Sendable, Equatable {
    public var maxDuration: Microseconds?
    public var maxBytes: Int64?
    public init(maxDuration: Microseconds? = nil, maxBytes: Int64? = nil) { self.maxDuration = maxDuration; self.maxBytes = maxBytes }
    public var isEmpty: Bool { maxDuration == nil && maxBytes == nil }
}

/// One finished part: `NAME-partNNN.mp4`, where it starts on the recording's timeline and what it holds.
public struct PartSummary: Sendable {
    public var number: Int
    public var path: String
    public var start: Microseconds
    public var duration: Microseconds
    public var bytes: Int64
    public var frames: Int64
    public var error: String?
    public init(number: Int, path: String, start: Microseconds, duration: Microseconds, bytes: Int64, frames: Int64, error: String? = nil) {
        self.number = number; self.path = path; self.start = start; self.duration = duration; self.bytes = bytes; self.frames = frames
        self.error = error
    }
}

/// Where a part is cut: an output frame whose time is also a whole number of AAC frames (1024 samples) into the
/// recording, so every part's video and audio start at the same instant and its audio is whole AAC frames (no
/// padding): parts join without a gap or an overlap, the video to the frame and the audio to the sample.
enum PartBoundary {
    /// 48 kHz samples from the start of the recording to output frame `index` (exact when it is whole).
    static func sample(of index: Int64, fps: Rational) -> Int64 {
        index * 48_000 * Int64(fps.denominator) / Int64(fps.numerator)
    }

    static func isAligned(_ index: Int64, fps: Rational) -> Bool {
        (index * 48_000 * Int64(fps.denominator)) % (Int64(fps.numerator) * 1024) == 0
    }

    /// The first aligned frame at or after `index` within `window` frames (30 fps: every 16th frame; 29.97: every
    /// 640th); `index` itself when there is none that close.
    static func next(from index: Int64, fps: Rational, window: Int64 = 2048) -> Int64 {
        (index..<(index + window)).first { isAligned($0, fps: fps) } ?? index
    }
}

/// Finishes parts one after another on a thread of its own (rewriting a part as a faststart MP4 is disk work the
/// engine's thread must not wait for), telling each when it is ready. `@unchecked Sendable`: the queue, `busy` and
/// `done` are only touched under `lock`; each writer is handed to the thread and used by it alone.
final class PartFinalizer: @unchecked Sendable {
    struct Job { let writer: Handoff<CompositeWriter>; let annotations: RecordingAnnotations; let number: Int; let start: Microseconds }
    private let lock = ConditionLock()
    private var queue: [Job] = []
    private var busy = false
    private var stopped = false
    private(set) var done: [PartSummary] = []
    private let onReady: @Sendable (PartSummary) -> Void

    init(onReady: @escaping @Sendable (PartSummary) -> Void) throws(MediaError) {
        self.onReady = onReady
        try startThread(name: "parts") { [self] in
            while let job = next() {
                let writer = job.writer.take()
                let part: PartSummary
                do {
                    let summary = try writer.finalize(annotations: job.annotations)
                    part = PartSummary(number: job.number, path: summary.path, start: job.start, duration: summary.duration,
                                       bytes: summary.bytes, frames: summary.videoFrames)
                } catch {
                    // What was written stays as NAME-partNNN.recording.mp4: recovered at the next start.
                    part = PartSummary(number: job.number, path: writer.partialPath, start: job.start, duration: 0, bytes: 0, frames: 0,
                                       error: "\(error)")
                }
                onReady(part)
                lock.withLock { done.append(part); busy = false; lock.broadcast() }
            }
        }
    }

    private func next() -> Job? {
        lock.withLock {
            while queue.isEmpty && !stopped { lock.wait() }
            guard !queue.isEmpty else { return nil }
            busy = true
            return queue.removeFirst()
        }
    }

    func add(_ job: Job) { lock.withLock { queue.append(job); lock.broadcast() } }

    /// Waits until every part handed over is finished; the parts so far.
    func drain() -> [PartSummary] {
        lock.withLock {
            while !queue.isEmpty || busy { lock.wait() }
            return done
        }
    }

    /// Ends the thread once the queue is empty.
    func stop() { lock.withLock { stopped = true; lock.broadcast() } }

    deinit { stop() }
}
