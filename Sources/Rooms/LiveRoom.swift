import Codecs
import Synchronization
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
/// stay while recordings start and stop. Methods may be called from any thread: every mutable field is in
/// `state`, under its mutex (the engine runs on its own thread and takes joins, leaves and control changes
/// through its queue).
public final class LiveRoom: Sendable {
    public let name: String
    struct Participant: Sendable {
        let pipeline: ParticipantPipeline
        let sequence: Int
        var settings: ParticipantSettings
        /// Its feeds' sources in the recording's engine (the main one: its own id, or that of its earlier self when
        /// it reconnected; the others that id and the feed's key). Empty while not recording.
        var sourceIDs: [String] = []
        /// Tells its sender how much video to send (REMB), and asks it for a keyframe.
        let capBitrate: @Sendable (Int) -> Void
        let needKeyframe: @Sendable (String) -> Void
        /// Tells its session the tile of each of its video tracks (a simulcast track decodes the layer that fits).
        let showTiles: @Sendable ([String: PixelSize?]) -> Void
        /// The cap and tiles last told.
        var cap: Int?
        var tiles: [String: PixelSize?] = [:]

        var mainSourceID: String? { sourceIDs.first }
        /// Its sources with the names their tiles show.
        var namedSources: [(id: String, name: String)] {
            zip(sourceIDs, pipeline.feeds).map { ($0, $1.name(settings.name)) }
        }
        var decoders: [String: TrackDecoder] { pipeline.decoders }
        var writer: TrackFileWriter? { pipeline.writer }
    }
    struct State: Sendable {
        var participants: [String: Participant] = [:]
        /// Participants who left the recording in progress, by name: one who reconnects under the same name gets
        /// its source (and so its tile) back.
        var departed: [String: String] = [:]
        /// Every source the recording's engine has had (a source that comes back rejoins, keeping its place).
        var engineSources: Set<String> = []
        /// One recording in progress at most.
        var recording: RecordingSession?
        var starting = false
        /// The layout in force (for the next recording too).
        var layout: LayoutDocument
        /// Watermarks, chat style and fonts.
        var presentation: RoomPresentation
        var trackFiles: [TrackFile] = []
        /// Track files of participants who left, closing on their writer threads.
        var leftWriters: [(writer: TrackFileWriter, id: String, name: String)] = []
        var sequence = 0
        /// Where the latest recording started on the room clock (track files are placed against it).
        var lastOrigin: Microseconds = 0
        /// The output frame rate of the latest recording (what a tile's bitrate is worked out for).
        var fps = 30.0
    }
    let state: Mutex<State>
    public var layout: LayoutDocument { state.withLock { $0.layout } }
    let clock: @Sendable () -> Microseconds
    public let latency: Microseconds
    public var presentation: RoomPresentation { state.withLock { $0.presentation } }
    let videoBitrate: VideoBitratePolicy
    /// False in audio-only rooms: participants' video is neither decoded nor kept.
    let decodeVideo: Bool

    public init(name: String, layout: LayoutDocument, clock: @escaping @Sendable () -> Microseconds, latency: Microseconds = 400_000,
                presentation: RoomPresentation = RoomPresentation(), videoBitrate: VideoBitratePolicy = VideoBitratePolicy(),
                decodeVideo: Bool = true, onFailure: (@Sendable (MediaError) -> Void)? = nil) {
        self.decodeVideo = decodeVideo
        self.name = name
        self.state = Mutex(State(layout: layout, presentation: presentation))
        self.clock = clock
        self.latency = latency
        self.videoBitrate = videoBitrate
        self.onFailure = onFailure
    }

    /// Called (on the recording's thread) when a recording stops by itself on an error.
    private let onFailure: (@Sendable (MediaError) -> Void)?

    public var watermarkDocument: JSONValue { state.withLock { $0.presentation.watermarkDocument } }

    public var isRecording: Bool { state.withLock { $0.recording != nil } }

    /// The recording in progress: its file, how long it has run (pauses left out) and whether it is paused.
    public var recordingState: (path: String, duration: Microseconds, paused: Bool, outputs: LiveOutputStatus.Report?)? {
        let now = clock()
        guard let recording = state.withLock({ $0.recording }), !recording.isFinished else { return nil }
        return (recording.output, recording.recordingTime(at: now), recording.pause.since != nil, recording.liveStatus?.report)
    }

    /// Starts recording to `output` now, with everyone present. Throws `conflict` when already recording. Opens the
    /// encoder and the files: blocking work, call off the cooperative pool.
    /// `parts`: cut the recording into parts, each told through `onPartReady` once finished.
    /// `options`: parts, live outputs, audio files (`onPartReady` tells of each finished part).
    public func start(output: String, settings: EncoderSettings, options: RecordingOptions = RecordingOptions(),
                      onPartReady: (@Sendable (PartSummary) -> Void)? = nil) throws(MediaError) {
        let busy = state.withLock { state -> String? in
            if let current = state.recording {
                guard current.isFinished else { return current.output }
                state.recording = nil          // it failed by itself: a new one may start
            }
            if state.starting { return "a file" }
            state.starting = true
            return nil
        }
        if let busy { throw MediaError(.conflict, "room \(name) is already recording to \(busy)") }
        defer { state.withLock { $0.starting = false } }
        let (presentation, layout) = state.withLock { ($0.presentation, $0.layout) }
        let origin = clock()
        let recording = try RecordingSession(output: output, settings: settings, layout: layout, presentation: presentation, origin: origin,
                                             options: options, onPartReady: onPartReady)
        let name = self.name
        // Each sender is asked for what its tile needs whenever the tiles change.
        recording.engine.perform { [weak self] engine in engine.onTilesChanged = { sizes in self?.tilesChanged(sizes) } }
        state.withLock { state in
            state.recording = recording
            state.lastOrigin = origin
            state.fps = settings.fps.doubleValue
            // A layout put in force while the engine was being made applies from its first frame.
            let latest = state.layout
            recording.engine.perform { $0.apply(latest) }
            recording.record.write("recording", time: 0, ["room": .string(name), "file": .string(output), "layout": latest.source])
            state.departed.removeAll()
            state.engineSources.removeAll()
            for (id, _) in state.participants.sorted(by: { $0.value.sequence < $1.value.sequence }) {
                LiveRoom.enter(id, at: origin, into: recording, &state)
            }
        }
        try recording.run(room: name, clock: clock, latency: latency, onFailure: onFailure)
    }

    /// Adds participant `id`'s feeds to a recording's engine (under the mutex: `state` is the locked state).
    private static func enter(_ id: String, at time: Microseconds, into recording: RecordingSession, _ state: inout State) {
        guard var p = state.participants[id] else { return }
        var main = id
        if let earlier = state.departed.removeValue(forKey: p.settings.name),
           !state.participants.contains(where: { $0.key != id && $0.value.mainSourceID == earlier }) {
            main = earlier
        }
        p.sourceIDs = p.pipeline.feeds.map { $0.sourceID(main: main) }
        for (i, feed) in p.pipeline.feeds.enumerated() {
            let source = p.sourceIDs[i], buffer = p.pipeline.buffers[i]
            if state.engineSources.contains(source) {
                recording.engine.rejoin(id: source, buffer: buffer)
            } else {
                state.engineSources.insert(source)
                var descriptor = SourceDescriptor(id: source, name: feed.name(p.settings.name), role: feed.role, start: time,
                                                  hasVideo: feed.videoMid != nil, hasAudio: feed.audioMid != nil, sequence: p.sequence)
                descriptor.tiled = feed.tiled
                recording.engine.join(CompositionEngine.Source(descriptor: descriptor, buffer: buffer, gain: p.settings.gain))
            }
        }
        state.participants[id] = p
        let settings = p.settings, sources = p.namedSources
        recording.engine.perform { engine in LiveRoom.apply(settings, to: sources, in: engine) }
        recording.record.write("join", time: recording.recordingTime(at: time), ["participant": .string(id), "name": .string(p.settings.name)])
    }

    /// A participant's settings on its sources (on the engine's thread): names, gain, mute and hidden on each, the
    /// pin on the main one.
    static func apply(_ settings: ParticipantSettings, to sources: [(id: String, name: String)], in engine: CompositionEngine) {
        for (id, name) in sources {
            if let source = engine.source(id) {
                source.descriptor.name = name
                source.gain = settings.gain
                source.muted = settings.muted
                source.status = settings.status
            }
            if settings.hidden { engine.hidden.insert(id) } else { engine.hidden.remove(id) }
        }
        guard let main = sources.first?.id else { return }
        if settings.pinned { engine.pinned = main } else if engine.pinned == main { engine.pinned = nil }
    }

    /// Stops the recording in progress, finalizes its file and returns what was written; nil when not recording.
    public func stopRecording() throws(MediaError) -> LiveRecordingSummary? {
        guard let session = state.withLock({ $0.recording }) else { return nil }
        let result = session.stop()
        state.withLock { if $0.recording === session { $0.recording = nil } }
        // The engine and its encoder are gone with the recording: give their memory back.
        releaseFreedMemory()
        return try result.get()
    }

    /// A participant joins with these tracks (`kind`: audio or video, `codec`: vp8, vp9, h264, opus); `screens`: the
    /// mids of video tracks that are screen shares. With `trackFile` (a path without extension) its tracks are also
    /// written as received, to `.webm` or `.mkv`.
    public func join(id: String, name: String, tracks: [(mid: String, kind: String, codec: String)], screens: Set<String> = [],
                     trackFile: String? = nil, needKeyframe: @escaping @Sendable (_ mid: String) -> Void,
                     capBitrate: @escaping @Sendable (_ bitsPerSecond: Int) -> Void = { _ in },
                     showTiles: @escaping @Sendable (_ tiles: [String: PixelSize?]) -> Void = { _ in }) throws(MediaError) {
        let pipeline = try ParticipantPipeline(tracks: tracks, screens: screens, trackFile: trackFile, now: clock(), decodeVideo: decodeVideo,
                                               needKeyframe: needKeyframe)
        let now = clock(), ceiling = videoBitrate.ceiling, hasVideo = pipeline.hasVideo
        state.withLock { state in
            state.sequence += 1
            // Until a recording shows it in a tile, the sender may send up to the ceiling.
            state.participants[id] = Participant(pipeline: pipeline, sequence: state.sequence, settings: ParticipantSettings(name: name),
                                                 capBitrate: capBitrate, needKeyframe: needKeyframe, showTiles: showTiles, cap: hasVideo ? ceiling : nil)
            if let recording = state.recording { LiveRoom.enter(id, at: now, into: recording, &state) }
        }
        alignTrackFile(of: id)
        if hasVideo { capBitrate(ceiling) }
    }

    /// A frame of participant `id`'s track `mid`, on the room timeline. A decoder that has to drop frames asks the
    /// sender for a keyframe itself (through the `needKeyframe` given at `join`).
    public func frame(id: String, mid: String, data: [UInt8], keyframe: Bool, time: Microseconds) {
        guard let (decoder, writer) = state.withLock({ $0.participants[id].flatMap { p in p.decoders[mid].map { ($0, p.writer) } } }) else { return }
        writer?.push(mid: mid, data: data, time: time, keyframe: keyframe)
        decoder.push(data, keyframe: keyframe, time: time)
    }

    public func leave(id: String) {
        let now = clock()
        state.withLock { state in
            guard let p = state.participants.removeValue(forKey: id) else { return }
            p.pipeline.stopDecoding()
            if let recording = state.recording, let main = p.mainSourceID {
                for source in p.sourceIDs { recording.engine.leave(id: source, at: now) }
                state.departed[p.settings.name] = main
                recording.record.write("leave", time: recording.recordingTime(at: now), ["participant": .string(id), "name": .string(p.settings.name)])
            }
            // Closing the file is disk work: the writer thread does it; `close()` collects the outcome.
            if let writer = p.writer { writer.close(); state.leftWriters.append((writer, id, p.settings.name)) }
        }
    }

    /// The engine's tiles changed (on its thread): each sender with video gets the cap its tile needs; one whose tile
    /// grew a lot (it became the speaker, or was pinned) is also asked for a keyframe, so the sharper picture comes
    /// at once rather than at its next scheduled keyframe.
    func tilesChanged(_ sizes: [String: PixelSize]) {
        let policy = videoBitrate
        let (changed, retiled) = state.withLock { state -> ([(cap: Int, rose: Bool, participant: Participant)], [Participant]) in
            var changed: [(cap: Int, rose: Bool, participant: Participant)] = []
            var retiled: [Participant] = []
            for id in state.participants.keys {
                guard var p = state.participants[id], p.pipeline.hasVideo else { continue }
                // Everything its video feeds need together (a camera tile and a screen share's, say).
                var cap = 0
                var tiles: [String: PixelSize?] = [:]
                for (i, feed) in p.pipeline.feeds.enumerated() {
                    guard let mid = feed.videoMid else { continue }
                    let source = i < p.sourceIDs.count ? p.sourceIDs[i] : feed.sourceID(main: id)
                    cap += policy.cap(tile: sizes[source], fps: state.fps)
                    tiles[mid] = sizes[source]
                }
                if tiles != p.tiles {
                    p.tiles = tiles
                    state.participants[id] = p
                    retiled.append(p)
                }
                cap = min(cap, policy.ceiling)
                guard cap != p.cap else { continue }
                let rose = p.cap.map { Double(cap) > Double($0) * 1.5 } ?? false
                p.cap = cap
                state.participants[id] = p
                changed.append((cap, rose, p))
            }
            return (changed, retiled)
        }
        for p in retiled { p.showTiles(p.tiles) }
        for change in changed {
            change.participant.capBitrate(change.cap)
            if change.rose { for mid in change.participant.pipeline.videoMids { change.participant.needKeyframe(mid) } }
        }
    }

    /// The bitrate cap last told to participant `id`'s sender (tests, the API).
    public func videoBitrateCap(of id: String) -> Int? { state.withLock { $0.participants[id]?.cap } }

    /// The sender's RFC 6464 level of participant `id`'s audio at `time` (room time), in -dBov.
    public func audioLevel(id: String, mid: String, dBov: UInt8, time: Microseconds) {
        guard let (recording, source) = state.withLock({ state in
            state.participants[id].flatMap { p -> (RecordingSession, String)? in
                guard let feed = p.pipeline.feeds.firstIndex(where: { $0.audioMid == mid }), feed < p.sourceIDs.count else { return nil }
                return state.recording.map { ($0, p.sourceIDs[feed]) }
            }
        }) else { return }
        recording.engine.reportLevel(id: source, level: dBov >= 127 ? 0 : Float(pow(10, -Double(dBov) / 20)), at: time)
    }

    /// Something worth keeping in the events file (keyframe waits, loss bursts), at the room clock's now.
    public func note(_ kind: String, _ fields: [String: JSONValue]) {
        let now = clock()
        state.withLock { state in
            guard let recording = state.recording else { return }
            recording.record.write(kind, time: recording.recordingTime(at: now), fields)
        }
    }

    /// Ends every participant (their decoders and track files) and returns the track files; the room is empty.
    public func close() -> [TrackFile] {
        state.withLock { state in
            let origin = state.lastOrigin
            for left in state.leftWriters { state.trackFiles.append(LiveRoom.file(of: left.writer, id: left.id, name: left.name, origin: origin)) }
            state.leftWriters.removeAll()
            for (id, p) in state.participants.sorted(by: { $0.value.sequence < $1.value.sequence }) {
                p.pipeline.cancel()
                if let writer = p.writer { state.trackFiles.append(LiveRoom.file(of: writer, id: id, name: p.settings.name, origin: origin)) }
            }
            state.participants.removeAll()
            defer { state.trackFiles.removeAll() }
            return state.trackFiles
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

    /// Closes a participant's track file, placed against the recording that started at `origin`.
    private static func file(of writer: TrackFileWriter, id: String, name: String, origin: Microseconds) -> TrackFile {
        let outcome = writer.finish()
        return TrackFile(participant: id, name: name, path: outcome.path, start: max(0, (outcome.firstFrame ?? origin) - origin),
                         frames: outcome.frames, error: outcome.error ?? (outcome.dropped > 0 ? "\(outcome.dropped) frames dropped (disk too slow)" : nil))
    }
}
