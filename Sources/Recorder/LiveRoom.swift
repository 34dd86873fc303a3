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
        startThread(name: "decode \(codec)") { [self] in
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

/// A received track as the API shows it.
public struct TrackStatistics: Sendable {
    public var codec: String
    public var width: Int?, height: Int?
    public var frames: Int
    public var framesPerSecond: Double
    public var bitrate: Double
    public var dropped: Int
    public var bytes: Int
    /// Time spent decoding, µs.
    public var decodeTime: Microseconds
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
    /// The events file and the chat transcript beside the recording.
    public var events: String?
    public var chat: String?
    /// Overload: time at a reduced output frame rate, and the lowest rate used.
    public var reducedRate: Microseconds = 0
    public var lowestRate: Double = 0
    /// Overload: time encoded with a faster x264 preset than configured, and the fastest one used.
    public var fasterPreset: Microseconds = 0
    public var fastestPreset: String?
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

/// How a room's composite is dressed: watermarks, the chat overlay's style and the fonts.
public struct RoomPresentation: Sendable {
    public var watermarks: [(item: WatermarkItem, image: VideoPicture?)] = []
    /// The watermark document in force (the API answers with it).
    public var watermarkDocument: JSONValue = .object([("items", .array([]))])
    public var chat: ChatOverlayStyle?
    public var fontPath = TextRenderer.defaultFontPath
    public init() {}

    /// The items of a watermark document with their images decoded (paths as the document gives them).
    public static func load(_ document: WatermarkDocument) throws(MediaError) -> [(item: WatermarkItem, image: VideoPicture?)] {
        var marks: [(item: WatermarkItem, image: VideoPicture?)] = []
        for (i, item) in document.items.enumerated() {
            var image: VideoPicture?
            if case let .image(path, _) = item.content {
                do { image = try Composer.loadImage(path) } catch {
                    var located = error
                    located.location = "items[\(i)].image: " + (error.location ?? path)
                    throw located
                }
            }
            marks.append((item, image))
        }
        return marks
    }
}

/// What the API can change about a participant.
public struct ParticipantSettings: Sendable, Equatable {
    public var name: String
    public var pinned = false
    public var hidden = false
    public var gain: Float = 1
    public var muted = false
    public init(name: String) { self.name = name }
}

/// A live room: participants' decoded media into one composite recording, driven by the room clock. Participants
/// stay while recordings start and stop. Methods may be called from any thread; `@unchecked Sendable` because
/// every mutable field is only touched under `lock` (the engine runs on its own thread and takes joins, leaves
/// and control changes through its queue).
public final class LiveRoom: @unchecked Sendable {
    public let name: String
    private let lock = ConditionLock()
    private final class Participant {
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
    private var participants: [String: Participant] = [:]
    /// Participants who left the recording in progress, by name: one who reconnects under the same name gets
    /// its source (and so its tile) back.
    private var departed: [String: String] = [:]
    /// One recording in progress at most. `@unchecked Sendable`: `stopping` and `finished` are only touched under
    /// the room's `lock`; the rest is immutable (the engine is driven by its own thread and its thread-safe calls).
    private final class Recording: @unchecked Sendable {
        let engine: CompositionEngine
        let output: String
        let origin: Microseconds
        let record: RecordingRecord
        var stopping = false
        var finished: Result<LiveRecordingSummary, MediaError>?
        init(engine: CompositionEngine, output: String, origin: Microseconds, record: RecordingRecord) {
            self.engine = engine; self.output = output; self.origin = origin; self.record = record
        }
    }
    private var recording: Recording?
    private var starting = false
    public private(set) var layout: LayoutDocument
    private var trackFiles: [TrackFile] = []
    /// Track files of participants who left, closing on their writer threads.
    private var leftWriters: [(writer: TrackFileWriter, id: String, name: String)] = []
    private var sequence = 0
    /// Where the latest recording started on the room clock (track files are placed against it).
    private var lastOrigin: Microseconds = 0
    private let clock: @Sendable () -> Microseconds
    public let latency: Microseconds
    public private(set) var presentation: RoomPresentation

    public init(name: String, layout: LayoutDocument, clock: @escaping @Sendable () -> Microseconds, latency: Microseconds = 400_000,
                presentation: RoomPresentation = RoomPresentation(), onFailure: (@Sendable (MediaError) -> Void)? = nil) {
        self.name = name
        self.layout = layout
        self.clock = clock
        self.latency = latency
        self.presentation = presentation
        self.onFailure = onFailure
    }

    /// Called (on the recording's thread) when a recording stops by itself on an error.
    private let onFailure: (@Sendable (MediaError) -> Void)?

    public var watermarkDocument: JSONValue { lock.withLock { presentation.watermarkDocument } }

    public var isRecording: Bool { lock.withLock { recording != nil } }

    /// The recording in progress: its file and how long it has run.
    public var recordingState: (path: String, duration: Microseconds)? {
        let now = clock()
        return lock.withLock { recording.flatMap { $0.finished == nil ? ($0.output, max(0, now - $0.origin)) : nil } }
    }

    /// Starts recording to `output` now, with everyone present. Throws `conflict` when already recording.
    public func start(output: String, settings: EncoderSettings) throws(MediaError) {
        let presentation = lock.withLock { self.presentation }
        let fonts = presentation.fontPath
        let text = try? TextRenderer(fontPath: fonts)
        var overlays: [any FrameOverlay] = []
        for mark in presentation.watermarks {
            overlays.append(WatermarkOverlay(item: mark.item, image: mark.image, text: text))
        }
        if let style = presentation.chat {
            let chatText = try TextRenderer(fontPath: style.font ?? fonts)
            overlays.append(ChatOverlay(style: style, text: chatText))
        }
        let busy = lock.withLock { () -> String? in
            if let current = self.recording {
                guard current.finished != nil else { return current.output }
                self.recording = nil          // it failed by itself: a new one may start
            }
            if starting { return "a file" }
            starting = true
            return nil
        }
        if let busy { throw MediaError(.conflict, "room \(name) is already recording to \(busy)") }
        defer { lock.withLock { starting = false } }
        let writer = try CompositeWriter(path: output, settings: settings)
        let engine = try CompositionEngine(layout: layout, canvasSize: settings.size, fps: settings.fps, writer: writer, text: text)
        engine.overlays = overlays
        let record = try RecordingRecord(recording: output, chatLifetime: presentation.chat?.lifetime ?? 30)
        let origin = clock()
        lastOrigin = origin
        let recording = Recording(engine: engine, output: output, origin: origin, record: record)
        lock.withLock {
            self.recording = recording
            record.write("recording", time: 0, ["room": .string(name), "file": .string(output), "layout": layout.source])
            departed.removeAll()
            for (id, p) in participants.sorted(by: { $0.value.sequence < $1.value.sequence }) { enter(id, p, at: origin, into: recording) }
        }
        engine.onSpeakerChange = { speaker, time in
            record.write("speaker", time: time, ["participant": speaker.map { .string($0) } ?? .null])
        }
        let rate = settings.fps.doubleValue
        var previous = CompositionEngine.LoadStep(preset: settings.preset, divisor: 1)
        engine.onLoadChange = { step, time in
            let reason = !step.isHeavier(than: previous) ? "keeping up again"
                : step.divisor > previous.divisor ? "frames were late: fewer frames per second" : "frames were late: a faster encoder preset"
            previous = step
            record.write("load", time: time, ["frame_rate": .number((rate / Double(step.divisor) * 100).rounded() / 100),
                                               "preset": .string(step.preset), "reason": .string(reason)])
        }
        let run = Handoff((engine, writer))
        let clock = self.clock, latency = self.latency, roomName = name
        startThread(name: "room \(name)") { [self] in
            let (engine, writer) = run.take()
            var outcome: Result<LiveRecordingSummary, MediaError>
            do {
                try engine.runLive(origin: origin, latency: latency, now: clock, sleep: { usleep(UInt32(max(1_000, $0))) },
                                   shouldStop: { self.lock.withLock { recording.stopping } })
                engine.flushControls()
                let annotations = record.close()
                outcome = .success(LiveRecordingSummary(recording: try writer.finish(annotations: annotations), participants: engine.statistics,
                                                        tracks: [], maxLag: engine.maxLag, finalLag: engine.lastLag,
                                                        events: record.eventsPath, chat: record.chatPath,
                                                        reducedRate: engine.fps.tickTime(engine.degradedTicks), lowestRate: rate / Double(engine.maxDecimation),
                                                        fasterPreset: engine.fps.tickTime(engine.fasterPresetTicks), fastestPreset: engine.fastestPreset))
            } catch let error as MediaError {
                engine.flushControls()
                _ = record.close()
                outcome = .failure(error)
            } catch {
                engine.flushControls()
                _ = record.close()
                outcome = .failure(MediaError(.codecFailure, "room \(roomName): \(error)"))
            }
            self.lock.withLock { recording.finished = outcome; self.lock.broadcast() }
            // A recording that failed on its own (a full disk, an I/O error) is reported once; the room goes on.
            if case let .failure(error) = outcome, !self.lock.withLock({ recording.stopping }) { self.onFailure?(error) }
        }
    }

    /// Adds a participant to a recording's engine (caller holds `lock`).
    private func enter(_ id: String, _ p: Participant, at time: Microseconds, into recording: Recording) {
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
        let result = lock.withLock { () -> Result<LiveRecordingSummary, MediaError>? in
            guard let recording else { return nil }
            recording.stopping = true
            while recording.finished == nil { lock.wait() }
            self.recording = nil
            return recording.finished
        }
        // The engine and its encoder are gone with the recording: give their memory back.
        if result != nil { releaseFreedMemory() }
        return try result?.get()
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
                                             firstPicture: { [writer] in writer?.noteVideoSize($0) }, now: clock())
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

    // MARK: Control

    /// Where a change first showed: the frame index and time in the recording (nil when not recording).
    public struct Effect: Sendable { public var frame: Int64; public var time: Microseconds }

    /// Runs `change` on the engine before its next frame and returns once that frame is written.
    private func perform(_ change: @escaping @Sendable (CompositionEngine, Microseconds) -> Void) async -> Effect? {
        guard let recording = lock.withLock({ self.recording }) else { return nil }
        return await withCheckedContinuation { continuation in
            let accepted = recording.engine.perform({ engine in change(engine, engine.currentTime) },
                                                    done: { frame, time in continuation.resume(returning: frame < 0 ? nil : Effect(frame: frame, time: time)) })
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    /// Puts `layout` in force from the next output frame on; returns once a frame with it is written.
    public func apply(_ layout: LayoutDocument) async -> Effect? {
        lock.withLock { self.layout = layout }
        let record = lock.withLock { recording?.record }
        return await perform { engine, time in
            engine.apply(layout)
            record?.write("layout", time: time, ["layout": layout.source])
        }
    }

    /// Replaces the room's watermarks from the next output frame on (and for later recordings).
    public func setWatermarks(_ watermarks: [(item: WatermarkItem, image: VideoPicture?)], document: JSONValue) async -> Effect? {
        let fonts = lock.withLock { () -> String in
            presentation.watermarks = watermarks
            presentation.watermarkDocument = document
            return presentation.fontPath
        }
        let record = lock.withLock { recording?.record }
        return await perform { engine, time in
            let text = try? TextRenderer(fontPath: fonts)
            let kept = engine.overlays.filter { !($0 is WatermarkOverlay) }
            engine.overlays = watermarks.map { WatermarkOverlay(item: $0.item, image: $0.image, text: text) } + kept
            record?.write("watermark", time: time, ["watermark": document])
        }
    }

    /// The engine source (tile) of participant `id`: its own id, or its earlier self's when it reconnected.
    public func sourceID(of id: String) -> String? { lock.withLock { participants[id].map { $0.sourceID.isEmpty ? id : $0.sourceID } } }

    /// The settings of participant `id`, or nil when no such participant is here.
    public func settings(of id: String) -> ParticipantSettings? { lock.withLock { participants[id]?.settings } }

    /// Each received track's statistics, by mid.
    public func trackStatistics(of id: String) -> [String: TrackStatistics] {
        let now = clock()
        guard let decoders = lock.withLock({ participants[id]?.decoders }) else { return [:] }
        return decoders.mapValues { $0.statistics(now: now) }
    }

    /// Each participant's tile so far in the recording in progress (refreshed every second).
    public var tileStatistics: [CompositionEngine.SourceStatistics] { lock.withLock { recording?.engine.publishedStatistics ?? [] } }

    /// The recording engine's work so far (nil when not recording).
    public var work: CompositionEngine.Counters? { lock.withLock { recording?.engine.publishedWork } }

    public var participantIDs: [String] { lock.withLock { participants.sorted { $0.value.sequence < $1.value.sequence }.map(\.key) } }

    /// Changes a participant's name, pin, visibility, gain or mute; returns the settings in force, nil if unknown.
    public func update(_ id: String, _ change: (inout ParticipantSettings) -> Void) async -> ParticipantSettings? {
        guard let (settings, sourceID) = lock.withLock({ () -> (ParticipantSettings, String)? in
            guard let p = participants[id] else { return nil }
            change(&p.settings)
            if p.settings.pinned { for (other, q) in participants where other != id { q.settings.pinned = false } }
            return (p.settings, p.sourceID.isEmpty ? id : p.sourceID)
        }) else { return nil }
        let record = lock.withLock { recording?.record }
        _ = await perform { engine, time in
            if let source = engine.source(sourceID) {
                source.descriptor.name = settings.name
                source.gain = settings.gain
                source.muted = settings.muted
            }
            if settings.hidden { engine.hidden.insert(sourceID) } else { engine.hidden.remove(sourceID) }
            if settings.pinned { engine.pinned = sourceID } else if engine.pinned == sourceID { engine.pinned = nil }
            record?.write("participant", time: time, ["participant": .string(id), "name": .string(settings.name), "pinned": .bool(settings.pinned),
                                                       "hidden": .bool(settings.hidden), "gain": .number(Double(settings.gain)), "muted": .bool(settings.muted)])
        }
        return settings
    }

    /// A chat message: shown by the chat overlay, kept in the events file, the WebVTT file and the MP4's text
    /// track. Returns when it is on screen (nil when not recording).
    public func chat(from: String, text: String) async -> Effect? {
        let record = lock.withLock { recording?.record }
        return await perform { engine, time in
            for case let chat as ChatOverlay in engine.overlays { chat.add(ChatOverlay.Message(from: from, text: text, time: time)) }
            record?.chat(from: from, text: text, time: time)
        }
    }

    /// The composite frame most recently written, as JPEG (nil when not recording).
    public func snapshot() async -> [UInt8]? {
        let box = SnapshotBox()
        // Before the next frame is composed the canvas still holds the last one written.
        guard await perform({ engine, _ in box.set(engine.canvas.snapshot().flatMap { try? box.encoder.encode($0) }) }) != nil else { return nil }
        return box.value
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

/// Carries a snapshot from the engine's thread to the caller. `@unchecked Sendable`: written once on the
/// engine's thread before the continuation resumes, read after; the encoder is only used on the engine's thread.
private final class SnapshotBox: @unchecked Sendable {
    let encoder = JPEGEncoder()
    private(set) var value: [UInt8]?
    func set(_ bytes: [UInt8]?) { value = bytes }
}
