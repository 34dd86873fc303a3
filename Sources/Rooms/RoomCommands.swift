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

/// What the API can do to a live room while it records: layouts, watermarks, participant settings, chat,
/// snapshots. Each change runs on the engine's thread before its next frame; callers wait without blocking.
extension LiveRoom {
    /// Where a change first showed: the frame index and time in the recording (nil when not recording).
    public struct Effect: Sendable { public var frame: Int64; public var time: Microseconds }

    /// Runs `change` on the engine before its next frame and returns once that frame is written.
    func perform(_ change: @escaping @Sendable (CompositionEngine, Microseconds) -> Void) async -> Effect? {
        guard let recording = state.withLock({ $0.recording }) else { return nil }
        return await withCheckedContinuation { continuation in
            let accepted = recording.engine.perform({ engine in change(engine, engine.currentTime) },
                                                    done: { frame, time in continuation.resume(returning: frame < 0 ? nil : Effect(frame: frame, time: time)) })
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    /// Puts `layout` in force from the next output frame on; returns once a frame with it is written.
    public func apply(_ layout: LayoutDocument) async -> Effect? {
        let record = state.withLock { state in
            state.layout = layout
            return state.recording?.record
        }
        return await perform { engine, time in
            engine.apply(layout)
            record?.write("layout", time: time, ["layout": layout.source])
        }
    }

    /// Replaces the room's watermarks from the next output frame on (and for later recordings).
    public func setWatermarks(_ watermarks: [(item: WatermarkItem, image: VideoPicture?)], document: JSONValue) async -> Effect? {
        let (fonts, record) = state.withLock { state in
            state.presentation.watermarks = watermarks
            state.presentation.watermarkDocument = document
            return (state.presentation.fontPath, state.recording?.record)
        }
        return await perform { engine, time in
            let text = try? TextRenderer(fontPath: fonts)
            let kept = engine.overlays.filter { !($0 is WatermarkOverlay) }
            engine.overlays = watermarks.map { WatermarkOverlay(item: $0.item, image: $0.image, text: text) } + kept
            record?.write("watermark", time: time, ["watermark": document])
        }
    }

    /// The engine source (tile) of participant `id`: its own id, or its earlier self's when it reconnected.
    public func sourceID(of id: String) -> String? { state.withLock { $0.participants[id].map { $0.mainSourceID ?? id } } }

    /// The settings of participant `id`, or nil when no such participant is here.
    public func settings(of id: String) -> ParticipantSettings? { state.withLock { $0.participants[id]?.settings } }

    /// Each received track's statistics, by mid.
    public func trackStatistics(of id: String) -> [String: TrackStatistics] {
        let now = clock()
        guard let decoders = state.withLock({ $0.participants[id]?.decoders }) else { return [:] }
        return decoders.mapValues { $0.statistics(now: now) }
    }

    /// Each participant's tile so far in the recording in progress (refreshed every second).
    public var tileStatistics: [CompositionEngine.SourceStatistics] { state.withLock { $0.recording }?.engine.publishedStatistics ?? [] }

    /// The recording engine's work so far (nil when not recording).
    public var work: CompositionEngine.Counters? { state.withLock { $0.recording }?.engine.publishedWork }

    public var participantIDs: [String] { state.withLock { $0.participants.sorted { $0.value.sequence < $1.value.sequence }.map(\.key) } }

    /// Changes a participant's name, pin, visibility, gain or mute; returns the settings in force, nil if unknown.
    public func update(_ id: String, _ change: (inout ParticipantSettings) -> Void) async -> ParticipantSettings? {
        guard let (settings, sources, record) = state.withLock({ state -> (ParticipantSettings, [(id: String, name: String)], RecordingRecord?)? in
            guard var p = state.participants[id] else { return nil }
            change(&p.settings)
            state.participants[id] = p
            if p.settings.pinned { for other in state.participants.keys where other != id { state.participants[other]?.settings.pinned = false } }
            return (p.settings, p.namedSources, state.recording?.record)
        }) else { return nil }
        _ = await perform { engine, time in
            LiveRoom.apply(settings, to: sources, in: engine)
            record?.write("participant", time: time, ["participant": .string(id), "name": .string(settings.name), "pinned": .bool(settings.pinned),
                                                       "hidden": .bool(settings.hidden), "gain": .number(Double(settings.gain)), "muted": .bool(settings.muted)])
        }
        return settings
    }

    /// A chat message: shown by the chat overlay, kept in the events file, the WebVTT file and the MP4's text
    /// track. Returns when it is on screen (nil when not recording).
    public func chat(from: String, text: String) async -> Effect? {
        let record = state.withLock { $0.recording?.record }
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
}

/// Carries a snapshot from the engine's thread to the caller. `@unchecked Sendable`: written once on the
/// engine's thread before the continuation resumes, read after; the encoder is only used on the engine's thread.
private final class SnapshotBox: @unchecked Sendable {
    let encoder = JPEGEncoder()
    private(set) var value: [UInt8]?
    func set(_ bytes: [UInt8]?) { value = bytes }
}
