import Codecs
import Layout
import MediaCore
import Synchronization
import Text

/// One output clock at the canvas frame rate. At every tick: the newest picture of each source at or
/// before the tick, the layout solved for who is present, one frame composited and handed to the sinks, and the
/// audio of the same span mixed and handed to them. The output rate is constant whatever the inputs do.
public final class CompositionEngine {
    public final class Source {
        public var descriptor: SourceDescriptor
        public fileprivate(set) var buffer: SourceBuffer
        public var gain: Float
        public var muted = false
        /// Shown on its slate instead of its picture (a source reconnecting); nil: its picture.
        public var status: String?
        /// Output frames this source was present for, showed a stale picture in, and had no picture yet in.
        var presentTicks: Int64 = 0, frozenTicks: Int64 = 0, blankTicks: Int64 = 0
        /// Left, and its buffer's memory given back (it stays in the layout's history).
        var released = false
        public init(descriptor: SourceDescriptor, buffer: SourceBuffer, gain: Float = 1) {
            self.descriptor = descriptor; self.buffer = buffer; self.gain = gain
        }
    }

    /// What a source's tile showed over the recording.
    public struct SourceStatistics: Sendable, Equatable {
        public var id: String
        public var name: String
        /// Time in the room (output frames while present).
        public var present: Microseconds
        /// Time its tile held a picture older than `CompositionEngine.freezeThreshold` (stalls, loss, outages).
        public var frozen: Microseconds
        /// Time present with video but no picture yet (waiting for the first keyframe: the slate shows).
        public var blank: Microseconds
    }

    /// A picture this much older than the output frame counts as frozen (a camera below 5 fps, or a stall).
    public static let freezeThreshold: Microseconds = 200_000
    /// A picture this much older than the output frame is replaced by the participant's slate.
    public static let slateAfter: Microseconds = 2_000_000

    public private(set) var layout: LayoutDocument
    public let canvasSize: PixelSize
    public let fps: Rational
    /// Where frames and audio go (a recording file, live outputs, a test's frame collector).
    public let sinks: [any CompositeSink]
    let compositor: VideoCompositor
    let mixer = AudioMixer()
    private var speakers = SpeakerDetector()
    public private(set) var sources: [Source] = []
    public internal(set) var frameIndex: Int64 = 0
    /// Frames composed (fewer than ticks while the sinks take fewer frames under load).
    public internal(set) var framesMade: Int64 = 0
    var audioPosition: Int64 = 0
    /// Room time of tick 0 (files: 0; live rooms: when recording started).
    public internal(set) var origin: Microseconds = 0
    /// Paused: ticks go by (sources are read, audio is mixed, the speaker is followed) but nothing reaches the sinks,
    /// and the output timeline stands still: output frame = tick − `pausedTicks`.
    public internal(set) var paused = false
    public internal(set) var pausedTicks: Int64 = 0
    /// Pauses and resumes to come, at room times (applied at the first tick at or after each).
    var pauseSwitches: [(time: Microseconds, paused: Bool)] = []
    /// The output frame the next tick makes.
    public var outputIndex: Int64 { frameIndex - pausedTicks }
    typealias Control = (change: @Sendable (CompositionEngine) -> Void, done: (@Sendable (Int64, Microseconds) -> Void)?)
    /// What other threads hand the engine (applied at the start of the next tick) and what it publishes to them.
    struct Inbox: Sendable {
        /// Sources given up by the thread that made them; only the engine's thread takes them out.
        var adds: [Handoff<Source>] = []
        var leaves: [(id: String, time: Microseconds)] = []
        var rejoins: [(id: String, buffer: SourceBuffer)] = []
        /// Control changes (layout, pin, names, chat, snapshots): each runs on the engine's thread before the next
        /// frame is composed, and its `done` after that frame is encoded, with the frame's index and time on the
        /// composite's timeline — so a caller learns exactly which frame first showed the change.
        var controls: [Control] = []
        var closed = false
        /// Senders' own audio levels (RFC 6464), by source, queued from the network threads; used for the speaker
        /// slot instead of the decoded level while they keep coming.
        var reportedLevels: [String: [(time: Microseconds, level: Float)]] = [:]
        var statistics: [SourceStatistics] = []
        var counters = Counters()
    }
    let inbox = Mutex(Inbox())
    var frameDone: [@Sendable (Int64, Microseconds) -> Void] = []
    var lastReported: [String: (time: Microseconds, level: Float)] = [:]
    /// Work done so far: frames made, time spent compositing and in the sinks (encoding, µs). Published with the statistics.
    public struct Counters: Sendable, Equatable { public var frames: Int64 = 0; public var compose: Int64 = 0; public var encode: Int64 = 0; public var lag: Microseconds = 0 }
    private var counters = Counters()
    public var publishedWork: Counters { inbox.withLock { $0.counters } }
    private let stopwatch = SystemClock()
    /// `statistics` as of the last second, readable from any thread.
    public var publishedStatistics: [SourceStatistics] { inbox.withLock { $0.statistics } }
    /// A participant forced into the speaker slot; the detector's speaker otherwise.
    public var pinned: String?
    /// Participants left out of the layout (their audio is still mixed unless muted).
    public var hidden: Set<String> = []
    /// A dual-channel mix: the sources of participants with these names on the left, the others on the right.
    public var dualChannelLeft: Set<String>? { didSet { leftChannel = nil } }
    /// Their source ids, worked out again only when the sources change (not per block).
    private var leftChannel: (sources: Int, ids: Set<String>)?

    private func leftChannelIDs() -> Set<String>? {
        guard let names = dualChannelLeft else { return nil }
        if let cached = leftChannel, cached.sources == sources.count { return cached.ids }
        let ids = Set(sources.filter { names.contains($0.descriptor.name) }.map(\.descriptor.id))
        leftChannel = (sources.count, ids)
        return ids
    }
    /// Drawn over (or under) the tiles of every frame: watermarks, chat.
    public var overlays: [any FrameOverlay] = []
    /// Called on the engine's thread when the tiles change (joins, leaves, a new layout, a new speaker): each
    /// shown source's largest tile. What a sender needs to send follows from it.
    public var onTilesChanged: (([String: PixelSize]) -> Void)?
    /// Called on the engine's thread when the speaker in force changes (detected or pinned), with the time.
    public var onSpeakerChange: ((String?, Microseconds) -> Void)?
    private var lastSpeaker: String?
    public private(set) var lastSolved: SolvedLayout?
    /// Live runs: the most and the last a frame was made after its due time (clock past tick + latency). A lag
    /// that keeps growing means the machine cannot keep up in real time.
    public internal(set) var maxLag: Microseconds = 0
    public internal(set) var lastLag: Microseconds = 0

    public init(layout: LayoutDocument, canvasSize: PixelSize, fps: Rational, sinks: [any CompositeSink],
                text: TextRenderer?, backgroundImage: VideoPicture? = nil) throws(MediaError) {
        guard !sinks.isEmpty else { throw MediaError(.invalidArgument, "a composition needs at least one output") }
        self.layout = layout
        self.canvasSize = canvasSize
        self.fps = fps
        self.sinks = sinks
        compositor = try VideoCompositor(size: canvasSize, background: layout.canvas.background,
                                         backgroundImage: backgroundImage, text: text)
    }

    public func add(_ source: Source) { sources.append(source); sharpenScreens([source]) }

    /// Screen shares are scaled with the sharper kernel even live: their small text must stay legible, and there is
    /// rarely more than one.
    private func sharpenScreens(_ added: [Source]) {
        for source in added where source.descriptor.role == .screen { compositor.sharpSources.insert(source.descriptor.id) }
    }

    /// Thread-safe: a source that joins while the engine runs (it appears at the next tick).
    public func join(_ source: sending Source) {
        let handoff = Handoff(source)
        inbox.withLock { $0.adds.append(handoff) }
    }

    /// Thread-safe: a source that left comes back (a participant reconnecting) with new media: it keeps its place in
    /// the layout's order, so it gets its tile back.
    public func rejoin(id: String, buffer: SourceBuffer) {
        inbox.withLock { $0.rejoins.append((id, buffer)) }
    }

    /// Thread-safe: the source leaves the timeline at `time` (it stays in the layout's history, as Twilio needs).
    public func leave(id: String, at time: Microseconds) {
        inbox.withLock { $0.leaves.append((id, time)) }
    }

    /// Thread-safe: runs `change` on the engine's thread before the next frame, then `done` once that frame is
    /// written (frame index, time from the start of the recording).
    /// Returns false (and runs nothing) once the engine has stopped.
    @discardableResult
    public func perform(_ change: @escaping @Sendable (CompositionEngine) -> Void,
                        done: (@Sendable (Int64, Microseconds) -> Void)? = nil) -> Bool {
        inbox.withLock { inbox in
            guard !inbox.closed else { return false }
            inbox.controls.append((change, done))
            return true
        }
    }

    /// Thread-safe: a sender's audio level for its audio at `time` (room time), linear (1 = full scale).
    public func reportLevel(id: String, level: Float, at time: Microseconds) {
        inbox.withLock { inbox in
            if inbox.reportedLevels[id, default: []].count >= 100 { inbox.reportedLevels[id]!.removeFirst(50) }
            inbox.reportedLevels[id, default: []].append((time, level))
        }
    }

    /// Levels for the speaker detector over the block at `time`: the sender's reported level where a recent one
    /// exists, else the decoded one.
    func speakerLevels(_ inputs: [AudioMixer.Input], at time: Microseconds) -> [String: Float] {
        let end = time + 20_000
        let fresh = inbox.withLock { inbox -> [String: (time: Microseconds, level: Float)] in
            var latest: [String: (time: Microseconds, level: Float)] = [:]
            for (id, queue) in inbox.reportedLevels {
                guard let index = queue.lastIndex(where: { $0.time <= end }) else { continue }
                latest[id] = queue[index]
                inbox.reportedLevels[id]!.removeFirst(index + 1)
            }
            return latest
        }
        for (id, value) in fresh { lastReported[id] = value }
        var levels: [String: Float] = [:]
        for input in inputs {
            if let reported = lastReported[input.id], time - reported.time < 100_000 {
                levels[input.id] = reported.level
            } else {
                levels[input.id] = mixer.levels[input.id] ?? 0
            }
        }
        return levels
    }

    /// After the last frame: runs what is still queued (its `done` gets frame -1: it never showed) and refuses
    /// anything later, so no caller waits forever on a stopped engine.
    public func flushControls() {
        let controls = inbox.withLock { inbox -> [Control] in
            inbox.closed = true
            defer { inbox.controls.removeAll() }
            return inbox.controls
        }
        for control in controls { control.change(self); control.done?(-1, currentTime) }
        for done in frameDone { done(-1, currentTime) }
        frameDone.removeAll()
    }

    func applyChanges() {
        let (handoffs, leaves, controls, rejoins) = inbox.withLock { inbox in
            defer { inbox.adds.removeAll(); inbox.leaves.removeAll(); inbox.controls.removeAll(); inbox.rejoins.removeAll() }
            return (inbox.adds, inbox.leaves, inbox.controls, inbox.rejoins)
        }
        let adds = handoffs.map { $0.take() }
        for rejoin in rejoins {
            guard let source = sources.last(where: { $0.descriptor.id == rejoin.id }) else { continue }
            source.descriptor.end = nil
            source.buffer = rejoin.buffer
            source.released = false
        }
        for control in controls {
            control.change(self)
            if let done = control.done { frameDone.append(done) }
        }
        sources += adds
        sharpenScreens(adds)
        for leave in leaves {
            for source in sources where source.descriptor.id == leave.id && source.descriptor.end == nil {
                source.descriptor.end = leave.time
                source.buffer.cancel()
            }
        }
    }

    /// Each output frame shows every source's picture nearest to its time (the newest one at or before half a
    /// frame later), as ffmpeg's fps filter rounds: a picture is never more than half a frame early or late
    /// against the audio, instead of up to a whole frame late.
    var halfFrame: Microseconds { fps.tickTime(1) / 2 }

    /// Takes effect at the next tick.
    public func apply(_ layout: LayoutDocument) {
        self.layout = layout
        compositor.background = layout.canvas.background
    }

    /// Time on the output timeline (pauses left out).
    public var currentTime: Microseconds { fps.tickTime(outputIndex) }
    public var activeSpeaker: String? { speakers.speaker }

    /// The speaker slot: the pinned participant while present, else the detected speaker.
    private func speakerInForce(at time: Microseconds) -> String? {
        if let pinned, sources.contains(where: { $0.descriptor.id == pinned && $0.descriptor.isPresent(at: time) && !hidden.contains(pinned) }) {
            return pinned
        }
        return speakers.speaker
    }

    /// The source of participant `id` that is still in the room.
    public func source(_ id: String) -> Source? { sources.first { $0.descriptor.id == id && $0.descriptor.end == nil } }

    /// Changes at set times on the output timeline for paced runs (`schedule(at:_:)`).
    var scheduled: [(time: Microseconds, change: (CompositionEngine) -> Void)] = []

    /// Each source's largest tile in `solved`.
    static func tileSizes(_ solved: SolvedLayout) -> [String: PixelSize] {
        var sizes: [String: PixelSize] = [:]
        for tile in solved.tiles {
            guard let id = tile.sourceID else { continue }
            let area = tile.rect.width * tile.rect.height
            if let known = sizes[id], known.width * known.height >= area { continue }
            sizes[id] = PixelSize(width: tile.rect.width, height: tile.rect.height)
        }
        return sizes
    }

    /// Per-source tile statistics so far, in join order.
    public var statistics: [SourceStatistics] {
        let frame = fps.tickTime(1)
        return sources.map {
            SourceStatistics(id: $0.descriptor.id, name: $0.descriptor.name, present: $0.presentTicks * frame,
                             frozen: $0.frozenTicks * frame, blank: $0.blankTicks * frame)
        }
    }

    /// Composites and encodes one frame at `time` with the given pictures, then its audio.
    public func tick(time: Microseconds, pictures: [String: VideoPicture]) throws(MediaError) {
        for source in sources where source.descriptor.isPresent(at: time) {
            source.presentTicks += 1
            guard source.descriptor.hasVideo else { continue }
            if let picture = pictures[source.descriptor.id] {
                if time - picture.time > CompositionEngine.freezeThreshold { source.frozenTicks += 1 }
            } else {
                source.blankTicks += 1
            }
        }
        let recordingTime = currentTime
        let speaker = speakerInForce(at: time)
        if speaker != lastSpeaker {
            lastSpeaker = speaker
            onSpeakerChange?(speaker, recordingTime)
        }
        let context = LayoutContext(sources: sources.map(\.descriptor), time: time, speaker: speaker, pinned: pinned, hidden: hidden)
        let solved = LayoutSolver.solve(layout, canvas: canvasSize, context: context)
        if let onTilesChanged, solved != lastSolved { onTilesChanged(CompositionEngine.tileSizes(solved)) }
        lastSolved = solved
        let names = Dictionary(sources.map { ($0.descriptor.id, $0.descriptor.name) }, uniquingKeysWith: { a, _ in a })
        let composeStart = stopwatch.now()
        try compositor.render(solved, picture: { id in
            guard let picture = pictures[id], self.sources.first(where: { $0.descriptor.id == id })?.status == nil else { return nil }
            // A picture this stale is a stopped camera, not a stall: show the slate with its state.
            return time - picture.time > CompositionEngine.slateAfter ? nil : picture
        }, name: { names[$0] ?? $0 }, state: { id in
            guard let source = self.sources.first(where: { $0.descriptor.id == id }) else { return nil }
            if let status = source.status { return status }
            if !source.descriptor.hasVideo { return "camera off" }
            guard let picture = pictures[id] else { return "waiting for video" }
            return time - picture.time > CompositionEngine.slateAfter ? "video stopped" : nil
        }, overlays: overlays, time: recordingTime)
        let encodeStart = stopwatch.now()
        let output = outputIndex
        for sink in sinks where sink.takes(frame: output) { try sink.write(frame: output, canvas: compositor.canvas) }
        counters.compose += encodeStart - composeStart
        counters.encode += stopwatch.now() - encodeStart
        framesMade += 1
        counters.frames = framesMade
        counters.lag = lastLag
        if frameIndex % 30 == 0 {
            let current = statistics, work = counters
            inbox.withLock { $0.statistics = current; $0.counters = work }
        }
        if !frameDone.isEmpty {
            for done in frameDone { done(output, recordingTime) }
            frameDone.removeAll()
        }
        frameIndex += 1
        try mixAudio(until: (origin + fps.tickTime(frameIndex)) * Int64(AudioSamples.sampleRate) / 1_000_000)
    }

    func mixAudio(until target: Int64) throws(MediaError) {
        while audioPosition < target {
            let count = Int(min(Int64(AudioMixer.blockSamples), target - audioPosition))
            let time = audioPosition * 1_000_000 / Int64(AudioSamples.sampleRate)
            let inputs = sources.compactMap { source -> AudioMixer.Input? in
                let d = source.descriptor
                guard d.hasAudio, !source.muted, layout.audioIncludes(d), time >= d.start - 20_000,
                      d.end.map({ time < $0 }) ?? true else { return nil }
                return AudioMixer.Input(id: d.id, buffer: source.buffer, gain: source.gain)
            }
            let mixed = mixer.mix(inputs, position: audioPosition, count: count, leftChannel: leftChannelIDs())
            if count == AudioMixer.blockSamples {
                speakers.update(levels: speakerLevels(inputs, at: time))
            }
            if !paused { for sink in sinks { try sink.write(audioLeft: mixed.left, right: mixed.right) } }
            audioPosition += Int64(count)
        }
    }

    public var canvas: VideoCanvas { compositor.canvas }
}
