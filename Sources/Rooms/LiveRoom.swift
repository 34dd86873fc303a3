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

/// A live room: participants' decoded media into one composite recording, driven by the room clock. Participants
/// stay while recordings start and stop. Methods may be called from any thread; `@unchecked Sendable` because
/// every mutable field is only touched under `lock` (the engine runs on its own thread and takes joins, leaves
/// and control changes through its queue).
public final class LiveRoom: @unchecked Sendable {
    public let name: String
    let lock = ConditionLock()
    final class Participant {
        let buffer: SourceBuffer
        let decoders: [String: TrackDecoder]
        let writer: TrackFileWriter?
        let hasVideo: Bool, hasAudio: Bool
        let sequence: Int
        var settings: ParticipantSettings
        /// Its source in the recording's engine: its own id, or that of its earlier self when it reconnected.
        var sourceID = ""
        init(buffer: SourceBuffer, decoders: [String: TrackDecoder], writer: TrackFileWriter?, hasVideo: Bool, hasAudio: Bool, sequence: Int, settings: ParticipantSettings) {
            self.buffer = buffer; self.decoders = decoders; self.writer = writer; self.hasVideo = hasVideo; self.hasAudio = hasAudio
            self.sequence = sequence; self.settings = settings
        }
    }
    var participants: [String: Participant] = [:]
    /// Participants who left the recording in progress, by name: one who reconnects under the same name gets
    /// its source (and so its tile) back.
    private var departed: [String: String] = [:]
    /// One recording in progress at most.
    var recording: RecordingSession?
    private var starting = false
    /// The layout in force (for the next recording too); only under `lock`.
    var currentLayout: LayoutDocument
    public var layout: LayoutDocument { lock.withLock { currentLayout } }
    private var trackFiles: [TrackFile] = []
    /// Track files of participants who left, closing on their writer threads.
    private var leftWriters: [(writer: TrackFileWriter, id: String, name: String)] = []
    private var sequence = 0
    /// Where the latest recording started on the room clock (track files are placed against it).
    private var lastOrigin: Microseconds = 0
    let clock: @Sendable () -> Microseconds
    public let latency: Microseconds
    /// Watermarks, chat style and fonts; only under `lock`.
    var currentPresentation: RoomPresentation
    public var presentation: RoomPresentation { lock.withLock { currentPresentation } }

    public init(name: String, layout: LayoutDocument, clock: @escaping @Sendable () -> Microseconds, latency: Microseconds = 400_000,
                presentation: RoomPresentation = RoomPresentation(), onFailure: (@Sendable (MediaError) -> Void)? = nil) {
        self.name = name
        self.currentLayout = layout
        self.clock = clock
        self.latency = latency
        self.currentPresentation = presentation
        self.onFailure = onFailure
    }

    /// Called (on the recording's thread) when a recording stops by itself on an error.
    private let onFailure: (@Sendable (MediaError) -> Void)?

    public var watermarkDocument: JSONValue { lock.withLock { currentPresentation.watermarkDocument } }

    public var isRecording: Bool { lock.withLock { recording != nil } }

    /// The recording in progress: its file and how long it has run.
    public var recordingState: (path: String, duration: Microseconds)? {
        let now = clock()
        guard let recording = lock.withLock({ recording }), !recording.isFinished else { return nil }
        return (recording.output, max(0, now - recording.origin))
    }

    /// Starts recording to `output` now, with everyone present. Throws `conflict` when already recording. Opens the
    /// encoder and the files: blocking work, call off the cooperative pool.
    public func start(output: String, settings: EncoderSettings) throws(MediaError) {
        let busy = lock.withLock { () -> String? in
            if let current = self.recording {
                guard current.isFinished else { return current.output }
                self.recording = nil          // it failed by itself: a new one may start
            }
            if starting { return "a file" }
            starting = true
            return nil
        }
        if let busy { throw MediaError(.conflict, "room \(name) is already recording to \(busy)") }
        defer { lock.withLock { starting = false } }
        let (presentation, layout) = lock.withLock { (currentPresentation, currentLayout) }
        let origin = clock()
        let recording = try RecordingSession(output: output, settings: settings, layout: layout, presentation: presentation, origin: origin)
        lock.withLock {
            self.recording = recording
            lastOrigin = origin
            // A layout put in force while the engine was being made applies from its first frame.
            let latest = currentLayout
            recording.engine.perform { $0.apply(latest) }
            recording.record.write("recording", time: 0, ["room": .string(name), "file": .string(output), "layout": latest.source])
            departed.removeAll()
            for (id, p) in participants.sorted(by: { $0.value.sequence < $1.value.sequence }) { enter(id, p, at: origin, into: recording) }
        }
        try recording.run(room: name, clock: clock, latency: latency, onFailure: onFailure)
    }

    /// Adds a participant to a recording's engine (caller holds `lock`).
    private func enter(_ id: String, _ p: Participant, at time: Microseconds, into recording: RecordingSession) {
        if let earlier = departed.removeValue(forKey: p.settings.name), !participants.values.contains(where: { $0 !== p && $0.sourceID == earlier }) {
            p.sourceID = earlier
            recording.engine.rejoin(id: earlier, buffer: p.buffer)
        } else {
            p.sourceID = id
            let descriptor = SourceDescriptor(id: id, name: p.settings.name, start: time, hasVideo: p.hasVideo, hasAudio: p.hasAudio, sequence: p.sequence)
            recording.engine.join(CompositionEngine.Source(descriptor: descriptor, buffer: p.buffer, gain: p.settings.gain))
        }
        let settings = p.settings, source = p.sourceID
        recording.engine.perform { engine in
            if let joined = engine.source(source) { joined.gain = settings.gain; joined.muted = settings.muted }
            if settings.hidden { engine.hidden.insert(source) } else { engine.hidden.remove(source) }
            if settings.pinned { engine.pinned = source }
        }
        recording.record.write("join", time: max(0, time - recording.origin), ["participant": .string(id), "name": .string(p.settings.name)])
    }

    /// Stops the recording in progress, finalizes its file and returns what was written; nil when not recording.
    public func stopRecording() throws(MediaError) -> LiveRecordingSummary? {
        guard let session = lock.withLock({ recording }) else { return nil }
        let result = session.stop()
        lock.withLock { if recording === session { recording = nil } }
        // The engine and its encoder are gone with the recording: give their memory back.
        releaseFreedMemory()
        return try result.get()
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
        do {
            for track in tracks {
                let mid = track.mid
                decoders[mid] = try TrackDecoder(codec: track.codec, buffer: buffer, needKeyframe: { needKeyframe(mid) },
                                                 firstPicture: { [writer] in writer?.noteVideoSize($0) }, now: clock())
            }
        } catch {
            // A join that fails leaves nothing running: the decoders and the track file started so far end.
            for decoder in decoders.values { decoder.stop() }
            writer?.close()
            throw error
        }
        let now = clock()
        lock.withLock {
            sequence += 1
            let p = Participant(buffer: buffer, decoders: decoders, writer: writer, hasVideo: tracks.contains { $0.kind == "video" },
                                hasAudio: tracks.contains { $0.kind == "audio" }, sequence: sequence, settings: ParticipantSettings(name: name))
            participants[id] = p
            if let recording { enter(id, p, at: now, into: recording) }
        }
    }

    /// A frame of participant `id`'s track `mid`, on the room timeline. A decoder that has to drop frames asks the
    /// sender for a keyframe itself (through the `needKeyframe` given at `join`).
    public func frame(id: String, mid: String, data: [UInt8], keyframe: Bool, time: Microseconds) {
        guard let (decoder, writer) = lock.withLock({ participants[id].flatMap { p in p.decoders[mid].map { ($0, p.writer) } } }) else { return }
        writer?.push(mid: mid, data: data, time: time, keyframe: keyframe)
        decoder.push(data, keyframe: keyframe, time: time)
    }

    public func leave(id: String) {
        let now = clock()
        lock.withLock {
            guard let p = participants.removeValue(forKey: id) else { return }
            for decoder in p.decoders.values { decoder.stop() }
            if let recording {
                recording.engine.leave(id: p.sourceID, at: now)
                departed[p.settings.name] = p.sourceID
                recording.record.write("leave", time: max(0, now - recording.origin), ["participant": .string(id), "name": .string(p.settings.name)])
            }
            // Closing the file is disk work: the writer thread does it; `close()` collects the outcome.
            if let writer = p.writer { writer.close(); leftWriters.append((writer, id, p.settings.name)) }
        }
    }

    /// The sender's RFC 6464 level of participant `id`'s audio at `time` (room time), in -dBov.
    public func audioLevel(id: String, dBov: UInt8, time: Microseconds) {
        guard let (engine, source) = lock.withLock({ participants[id].flatMap { p in recording.map { ($0.engine, p.sourceID) } } }) else { return }
        engine.reportLevel(id: source, level: dBov >= 127 ? 0 : Float(pow(10, -Double(dBov) / 20)), at: time)
    }

    /// Something worth keeping in the events file (keyframe waits, loss bursts), at the room clock's now.
    public func note(_ kind: String, _ fields: [String: JSONValue]) {
        let now = clock()
        lock.withLock {
            guard let recording else { return }
            recording.record.write(kind, time: max(0, now - recording.origin), fields)
        }
    }

    /// Ends every participant (their decoders and track files) and returns the track files; the room is empty.
    public func close() -> [TrackFile] {
        lock.withLock {
            for left in leftWriters { trackFiles.append(file(of: left.writer, id: left.id, name: left.name)) }
            leftWriters.removeAll()
            for (id, p) in participants.sorted(by: { $0.value.sequence < $1.value.sequence }) {
                for d in p.decoders.values { d.stop() }
                p.buffer.cancel()
                if let writer = p.writer { trackFiles.append(file(of: writer, id: id, name: p.settings.name)) }
            }
            participants.removeAll()
            defer { trackFiles.removeAll() }
            return trackFiles
        }
    }

    /// Stops recording and closes every participant: what was written, with the track files.
    public func stop() throws(MediaError) -> LiveRecordingSummary {
        let recorded: LiveRecordingSummary?
        do { recorded = try stopRecording() } catch { _ = close(); throw error }
        guard var summary = recorded else { _ = close(); throw MediaError(.invalidArgument, "room \(name) was not recording") }
        summary.tracks = close()
        return summary
    }

    /// Closes a participant's track file (caller holds `lock`).
    private func file(of writer: TrackFileWriter, id: String, name: String) -> TrackFile {
        let outcome = writer.finish()
        let origin = lastOrigin
        return TrackFile(participant: id, name: name, path: outcome.path, start: max(0, (outcome.firstFrame ?? origin) - origin),
                         frames: outcome.frames, error: outcome.error ?? (outcome.dropped > 0 ? "\(outcome.dropped) frames dropped (disk too slow)" : nil))
    }
}
