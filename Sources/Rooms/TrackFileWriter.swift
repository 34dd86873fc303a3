import Codecs
import Logging
import MediaCore

/// A participant's tracks as received, in one file per participant (`--tracks`), written on its own thread so
/// disk writes never hold up the network loop. The queue is bounded (about 20 s of media at typical rates);
/// past that the oldest frames go and the loss is counted.
/// `@unchecked Sendable`: the queue, size and outcome are only touched under `lock`; the recorder only by the
/// writer thread.
final class TrackFileWriter: @unchecked Sendable {
    static let capacity = 2_000

    struct Outcome: Sendable { var path: String; var firstFrame: Microseconds?; var frames: Int; var dropped: Int; var error: String? }

    let path: String
    private let lock = ConditionLock()
    private let mids: [String]
    private var queue: [(track: Int, data: [UInt8], time: Microseconds, keyframe: Bool)] = []
    /// Each video track's decoded size (by track index), as its decoder first reports it.
    private var videoSizes: [Int: PixelSize] = [:]
    private var firstFrame: Microseconds?
    private var stopped = false
    private var outcome: Outcome?
    private var dropped = 0
    /// Pauses of the recording: frames from `pausedFrom` on are not written; after a resume, later frames are moved
    /// back by every pause so far (`shift`), and each video track waits for its next keyframe (decodable again).
    private var pausedFrom: Microseconds?
    private var lastPause: (from: Microseconds, to: Microseconds)?
    private var shift: Microseconds = 0
    private let videoTracks: Set<Int>
    private var awaitingKeyframe: Set<Int> = []

    init(path: String, tracks: [(mid: String, kind: String, codec: String)]) throws(MediaError) {
        self.path = path
        let logger = Logger(label: "mcu-record.tracks")
        mids = tracks.map(\.mid)
        videoTracks = Set(tracks.indices.filter { tracks[$0].kind == "video" })
        let recorder = Handoff(try TrackRecorder(path: path, tracks: tracks.map { TrackRecorder.Track(codec: $0.codec, video: $0.kind == "video") }))
        try startThread(name: "track file") { [self] in
            let recorder = recorder.take()
            var failure: String?
            while let (item, size) = self.next() {
                guard failure == nil else { continue }   // keep draining so the queue never grows
                do { try recorder.write(track: item.track, data: item.data, time: item.time, keyframe: item.keyframe, videoSizes: size) } catch {
                    failure = "\(error)"
                    // Said when it happens, not only in the final summary: the rest of this file is lost.
                    logger.error("track file failed", metadata: ["file": "\(path)", "error": "\(error)"])
                }
            }
            recorder.finish()
            self.lock.withLock {
                self.outcome = Outcome(path: self.path, firstFrame: self.firstFrame, frames: recorder.framesWritten, dropped: self.dropped, error: failure)
                self.lock.broadcast()
            }
        }
    }

    func push(mid: String, data: [UInt8], time: Microseconds, keyframe: Bool) {
        guard let track = mids.firstIndex(of: mid) else { return }
        lock.withLock {
            guard !stopped else { return }
            if let pausedFrom, time >= pausedFrom { return }
            if let lastPause, time >= lastPause.from, time < lastPause.to { return }   // late, from the pause
            if awaitingKeyframe.contains(track) {
                guard keyframe else { return }
                awaitingKeyframe.remove(track)
            }
            let placed = time - shift
            if firstFrame == nil { firstFrame = placed }
            if queue.count >= TrackFileWriter.capacity { queue.removeFirst(); dropped += 1 }
            queue.append((track, data, placed, keyframe))
            lock.broadcast()
        }
    }

    /// The recording is paused from room time `time`: nothing from then on is written until `resume`.
    func pause(at time: Microseconds) {
        lock.withLock { if pausedFrom == nil { pausedFrom = time } }
    }

    /// The recording goes on from room time `time`; frames after it are placed as if the pause never was.
    func resume(at time: Microseconds) {
        lock.withLock {
            guard let from = pausedFrom else { return }
            pausedFrom = nil
            lastPause = (from, time)
            shift += max(0, time - from)
            awaitingKeyframe = videoTracks
        }
    }

    /// A writer made during a recording takes up its pauses so far (`shift`) and the one in progress.
    func align(shift: Microseconds, pausedFrom: Microseconds?) {
        lock.withLock { self.shift = shift; self.pausedFrom = pausedFrom }
    }

    /// Track `mid`'s decoded picture size (the container header needs each one).
    func noteVideoSize(_ size: PixelSize, mid: String) {
        guard let track = mids.firstIndex(of: mid) else { return }
        lock.withLock { if videoSizes[track] == nil { videoSizes[track] = size; lock.broadcast() } }
    }

    private func next() -> ((track: Int, data: [UInt8], time: Microseconds, keyframe: Bool), [Int: PixelSize])? {
        lock.withLock {
            while queue.isEmpty && !stopped { lock.wait() }
            return queue.isEmpty ? nil : (queue.removeFirst(), videoSizes)
        }
    }

    /// Lets the writer thread write what is queued and close the file, without waiting for it.
    func close() {
        lock.withLock { stopped = true; lock.broadcast() }
    }

    /// Writes what is queued, closes the file and says what it holds.
    func finish() -> Outcome {
        lock.withLock {
            stopped = true
            lock.broadcast()
            while outcome == nil { lock.wait() }
            return outcome!
        }
    }
}
