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

/// One recording of a room: its engine on a thread of its own (`room NAME`), the recording file as the engine's
/// sink, and the events log. It finalizes when asked to stop, or ends by itself on an error (a full disk), which is
/// reported once through `onFailure`. `@unchecked Sendable`: `stopping` and `outcome` are only touched under `lock`;
/// everything else is set at init, and the engine is driven by its thread and its thread-safe calls.
final class RecordingSession: @unchecked Sendable {
    let engine: CompositionEngine
    /// The video file (nil for an audio-only recording) and the audio file (audio-only, or besides the video).
    let sink: RecordingSink?
    /// The live outputs' state (HLS, renditions, pushes), for the API.
    let liveStatus: LiveOutputStatus?
    let audioSink: AudioFileSink?
    let record: RecordingRecord
    let output: String
    /// Room time of the recording's first frame.
    let origin: Microseconds
    private let lock = ConditionLock()
    private var stopping = false
    private var outcome: Result<LiveRecordingSummary, MediaError>?
    /// Pauses: since when (room time) the one in progress, and how long all the finished ones lasted.
    private var pausedSince: Microseconds?
    private var pausedTotal: Microseconds = 0

    /// Opens the file, the encoder and the events log (blocking work: call off the cooperative pool).
    init(output: String, settings: EncoderSettings, layout: LayoutDocument, presentation: RoomPresentation, origin: Microseconds,
         options: RecordingOptions = RecordingOptions(), onPartReady: (@Sendable (PartSummary) -> Void)? = nil) throws(MediaError) {
        let parts = options.parts
        let text = try? TextRenderer(fontPath: presentation.fontPath)
        var overlays: [any FrameOverlay] = presentation.watermarks.map { WatermarkOverlay(item: $0.item, image: $0.image, text: text) }
        if let style = presentation.chat {
            overlays.append(ChatOverlay(style: style, text: try TextRenderer(fontPath: style.font ?? presentation.fontPath)))
        }
        var sinks: [any CompositeSink] = []
        if options.audioOnly == nil {
            let sink = try RecordingSink(path: output, settings: settings, parts: parts, onPartReady: onPartReady)
            if options.hlsFolder != nil || !options.pushURLs.isEmpty {
                sink.liveOutputs = LiveOutputs(hlsFolder: options.hlsFolder, pushURLs: options.pushURLs, segmentDuration: settings.keyframeInterval,
                                               renditions: options.hlsRenditions, recording: settings)
            }
            sinks.append(sink)
            self.sink = sink
            liveStatus = sink.liveOutputs?.status
        } else {
            sink = nil
            liveStatus = nil
        }
        if let format = options.audioOnly ?? options.audioFile {
            let path = options.audioOnly != nil ? output : RecordingSession.stem(output) + "." + format.fileExtension
            let audio = try AudioFileSink(path: path, format: format)
            sinks.append(audio)
            audioSink = audio
        } else {
            audioSink = nil
        }
        engine = try CompositionEngine(layout: layout, canvasSize: settings.size, fps: settings.fps, sinks: sinks, text: text)
        engine.overlays = overlays
        engine.dualChannelLeft = options.audioOnly != nil ? options.dualChannelLeft : nil
        record = try RecordingRecord(recording: output, chatLifetime: presentation.chat?.lifetime ?? 30)
        self.output = output
        self.origin = origin
        let record = self.record
        if parts.map({ !$0.isEmpty }) ?? false {
            record.beginPart(1, at: 0)
            sink?.onPartCut = { number, start, end in
                record.beginPart(number + 1, at: end)
                return record.annotations(from: start, to: end)
            }
        }
        engine.onSpeakerChange = { speaker, time in
            record.write("speaker", time: time, ["participant": speaker.map { .string($0) } ?? .null])
        }
        let rate = settings.fps.doubleValue
        var previous = RecordingSink.LoadStep(preset: settings.preset, divisor: 1)
        sink?.onLoadChange = { step, time in
            let reason = !step.isHeavier(than: previous) ? "keeping up again"
                : step.divisor > previous.divisor ? "frames were late: fewer frames per second" : "frames were late: a faster encoder preset"
            previous = step
            record.write("load", time: time, ["frame_rate": .number((rate / Double(step.divisor) * 100).rounded() / 100),
                                               "preset": .string(step.preset), "reason": .string(reason)])
        }
    }

    /// Starts the engine's thread. When no thread can be had the session is finished at once (its files closed).
    func run(room: String, clock: @escaping @Sendable () -> Microseconds, latency: Microseconds,
             onFailure: (@Sendable (MediaError) -> Void)?) throws(MediaError) {
        do {
            try startThread(name: "room \(room)") { [self] in
                let result = record(room: room, clock: clock, latency: latency)
                let stopped = lock.withLock { () -> Bool in
                    outcome = result
                    lock.broadcast()
                    return stopping
                }
                // A recording that failed on its own (a full disk, an I/O error) is reported once; the room goes on.
                if case let .failure(error) = result, !stopped { onFailure?(error) }
            }
        } catch {
            _ = record.close()
            lock.withLock { outcome = .failure(error) }
            throw error
        }
    }

    /// The engine's thread: frames until asked to stop, then the file finalized.
    private func record(room: String, clock: @escaping @Sendable () -> Microseconds, latency: Microseconds) -> Result<LiveRecordingSummary, MediaError> {
        do throws(MediaError) {
            // Sleeps until the next tick is due; `stop` wakes it at once.
            try engine.runLive(origin: origin, latency: latency, now: clock,
                               sleep: { due in self.lock.withLock { if !self.stopping { self.lock.wait(microseconds: max(1_000, due)) } } },
                               shouldStop: { self.lock.withLock { self.stopping } })
            engine.flushControls()
            let annotations = record.close()
            let rate = engine.fps.doubleValue
            guard let sink else {
                let file = try audioSink!.finish()
                return .success(LiveRecordingSummary(recording: file, participants: engine.statistics, tracks: [], maxLag: engine.maxLag,
                                                     finalLag: engine.lastLag, events: record.eventsPath, chat: record.chatPath))
            }
            let file = try sink.finish(annotations: annotations)
            var summary = LiveRecordingSummary(recording: file, parts: sink.finishedParts, participants: engine.statistics,
                                               tracks: [], maxLag: engine.maxLag, finalLag: engine.lastLag,
                                               events: record.eventsPath, chat: record.chatPath,
                                               reducedRate: engine.fps.tickTime(sink.degradedTicks), lowestRate: rate / Double(sink.maxDecimation),
                                               fasterPreset: engine.fps.tickTime(sink.fasterPresetTicks), fastestPreset: sink.fastestPreset)
            summary.audioFile = try audioSink?.finish().path
            return .success(summary)
        } catch {
            // Commands still queued run (and land in the events log) before it closes; their callers are answered.
            engine.flushControls()
            _ = record.close()
            sink?.abandon()
            audioSink?.abandon()
            return .failure(error)
        }
    }

    /// Room time `now` on the recording's output timeline (pauses left out; within a pause, where it began).
    func recordingTime(at now: Microseconds) -> Microseconds {
        lock.withLock { max(0, (pausedSince ?? now) - origin - pausedTotal) }
    }

    var pause: (since: Microseconds?, total: Microseconds) { lock.withLock { (pausedSince, pausedTotal) } }

    /// Marks a pause from `now`; false when already paused. The engine is told by the caller.
    func beginPause(at now: Microseconds) -> Bool {
        lock.withLock {
            guard pausedSince == nil else { return false }
            pausedSince = now
            return true
        }
    }

    /// Ends the pause at `now`: how long it lasted (nil when not paused).
    func endPause(at now: Microseconds) -> Microseconds? {
        lock.withLock {
            guard let since = pausedSince else { return nil }
            pausedSince = nil
            pausedTotal += max(0, now - since)
            return max(0, now - since)
        }
    }

    /// `talk.mp4` → `talk`.
    static func stem(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return path }
        return String(path[..<dot])
    }

    /// Ended, by a stop or by itself.
    var isFinished: Bool { lock.withLock { outcome != nil } }

    /// Asks the engine to stop, waits for the file to be finalized (blocking: call off the cooperative pool) and
    /// returns what was written.
    func stop() -> Result<LiveRecordingSummary, MediaError> {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while outcome == nil { lock.wait() }
            return outcome!
        }
    }
}
