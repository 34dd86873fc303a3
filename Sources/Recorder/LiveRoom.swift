import Codecs
import Compositor
import Layout
import MediaCore
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

    init(codec: String, buffer: SourceBuffer, needKeyframe: @escaping @Sendable () -> Void,
         firstPicture: @escaping @Sendable (PixelSize) -> Void = { _ in }) throws(MediaError) {
        let decoder = Handoff(try FrameDecoder(codec: codec))
        startThread(name: "decode \(codec)") { [self] in
            let decoder = decoder.take()
            var sized = false
            while let item = self.next() {
                if !decoder.decode(item.data, time: item.time, onVideo: { picture in
                    if !sized { sized = true; firstPicture(picture.size) }
                    buffer.pushVideo(picture)
                }, onAudio: { buffer.pushAudio($0) }) {
                    needKeyframe()
                }
            }
        }
    }

    func push(_ data: [UInt8], keyframe: Bool, time: Microseconds) -> Bool {
        lock.withLock {
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
}

/// What a live room recorded, with how each participant's tile fared.
public struct LiveRecordingSummary: Sendable {
    public var recording: RecordingSummary
    public var participants: [CompositionEngine.SourceStatistics]
    /// Per-participant files of the tracks as received (`--tracks`), in join order.
    public var tracks: [TrackFile]
    /// How late the compositor made frames at worst and at the end (real-time health).
    public var maxLag: Microseconds
    public var finalLag: Microseconds
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

/// A live room: participants' decoded media into one composite recording, driven by the room clock.
/// Methods may be called from any thread; `@unchecked Sendable` because `participants` and `engine` are only
/// touched under `lock` (the engine itself runs on its own thread and takes joins/leaves through its queue).
public final class LiveRoom: @unchecked Sendable {
    public let name: String
    private let lock = ConditionLock()
    private var engine: CompositionEngine?
    private var writer: CompositeWriter?
    private var participants: [String: (buffer: SourceBuffer, decoders: [String: TrackDecoder], writer: TrackFileWriter?, name: String)] = [:]
    private var trackFiles: [TrackFile] = []
    /// Track files of participants who left, closing on their writer threads.
    private var leftWriters: [(writer: TrackFileWriter, id: String, name: String)] = []
    private var origin: Microseconds = 0
    private var sequence = 0
    private var stopping = false
    private var finished: Result<LiveRecordingSummary, MediaError>?
    private let clock: @Sendable () -> Microseconds
    public let latency: Microseconds

    public init(name: String, clock: @escaping @Sendable () -> Microseconds, latency: Microseconds = 400_000) {
        self.name = name
        self.clock = clock
        self.latency = latency
    }

    /// Starts recording to `output` now.
    public func start(layout: LayoutDocument, output: String, settings: EncoderSettings, text: TextRenderer?) throws(MediaError) {
        let writer = try CompositeWriter(path: output, settings: settings)
        let engine = try CompositionEngine(layout: layout, canvasSize: settings.size, fps: settings.fps, writer: writer, text: text)
        let origin = clock()
        lock.withLock { self.engine = engine; self.writer = writer; self.origin = origin }
        let run = Handoff((engine, writer))
        let clock = self.clock, latency = self.latency
        startThread(name: "room \(name)") { [self] in
            let (engine, writer) = run.take()
            var outcome: Result<LiveRecordingSummary, MediaError>
            do {
                try engine.runLive(origin: origin, latency: latency, now: clock, sleep: { usleep(UInt32(max(1_000, $0))) },
                                   shouldStop: { self.lock.withLock { self.stopping } })
                outcome = .success(LiveRecordingSummary(recording: try writer.finish(), participants: engine.statistics, tracks: [],
                                                        maxLag: engine.maxLag, finalLag: engine.lastLag))
            } catch let error as MediaError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(MediaError(.codecFailure, "\(error)"))
            }
            self.lock.withLock { self.finished = outcome; self.lock.broadcast() }
        }
    }

    /// A participant joins with these tracks (`kind`: audio or video, `codec`: vp8, vp9, h264, opus). With
    /// `trackFile` (a path without extension) its tracks are also written as received, to `.webm` or `.mkv`.
    public func join(id: String, name: String, tracks: [(mid: String, kind: String, codec: String)], trackFile: String? = nil,
                     needKeyframe: @escaping @Sendable (_ mid: String) -> Void) throws(MediaError) {
        let buffer = SourceBuffer(mode: .live)
        var writer: TrackFileWriter?
        if let trackFile {
            writer = try TrackFileWriter(path: trackFile + "." + TrackRecorder.fileExtension(for: tracks.map(\.codec)), tracks: tracks)
        }
        var decoders: [String: TrackDecoder] = [:]
        for track in tracks {
            let mid = track.mid
            decoders[mid] = try TrackDecoder(codec: track.codec, buffer: buffer, needKeyframe: { needKeyframe(mid) },
                                             firstPicture: { [writer] in writer?.noteVideoSize($0) })
        }
        let now = clock()
        lock.withLock {
            sequence += 1
            participants[id] = (buffer, decoders, writer, name)
            let descriptor = SourceDescriptor(id: id, name: name, start: now, hasVideo: tracks.contains { $0.kind == "video" },
                                              hasAudio: tracks.contains { $0.kind == "audio" }, sequence: sequence)
            engine?.join(CompositionEngine.Source(descriptor: descriptor, buffer: buffer))
        }
    }

    /// A frame of participant `id`'s track `mid`, on the room timeline. Returns true when a keyframe is needed.
    @discardableResult
    public func frame(id: String, mid: String, data: [UInt8], keyframe: Bool, time: Microseconds) -> Bool {
        guard let (decoder, writer) = lock.withLock({ participants[id].flatMap { p in p.decoders[mid].map { ($0, p.writer) } } }) else { return false }
        writer?.push(mid: mid, data: data, time: time, keyframe: keyframe)
        return decoder.push(data, keyframe: keyframe, time: time)
    }

    public func leave(id: String) {
        let now = clock()
        lock.withLock {
            guard let p = participants.removeValue(forKey: id) else { return }
            for decoder in p.decoders.values { decoder.stop() }
            engine?.leave(id: id, at: now)
            // Closing the file is disk work: the writer thread does it; `stop()` collects the outcome.
            if let writer = p.writer { writer.close(); leftWriters.append((writer, id, p.name)) }
        }
    }

    /// Stops recording, finalizes the file and returns what was written.
    public func stop() throws(MediaError) -> LiveRecordingSummary {
        let result = lock.withLock { () -> Result<LiveRecordingSummary, MediaError> in
            stopping = true
            while finished == nil { lock.wait() }
            for left in leftWriters { trackFiles.append(file(of: left.writer, id: left.id, name: left.name)) }
            leftWriters.removeAll()
            for (id, p) in participants.sorted(by: { $0.key < $1.key }) {
                for d in p.decoders.values { d.stop() }
                if let writer = p.writer { trackFiles.append(file(of: writer, id: id, name: p.name)) }
            }
            participants.removeAll()
            return finished!.map { summary in
                var summary = summary
                summary.tracks = trackFiles
                return summary
            }
        }
        return try result.get()
    }

    /// Closes a participant's track file (caller holds `lock`).
    private func file(of writer: TrackFileWriter, id: String, name: String) -> TrackFile {
        let outcome = writer.finish()
        return TrackFile(participant: id, name: name, path: outcome.path, start: max(0, (outcome.firstFrame ?? origin) - origin),
                         frames: outcome.frames, error: outcome.error ?? (outcome.dropped > 0 ? "\(outcome.dropped) frames dropped (disk too slow)" : nil))
    }
}
