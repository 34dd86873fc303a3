import Codecs
import Compositor
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Layout
import MediaCore
import Output
import Text

/// One input of `compose`: a file placed on the timeline.
public struct ComposeInput: Sendable, Hashable {
    public var path: String
    public var start: Microseconds
    public var name: String?
    public var role: SourceDescriptor.Role
    /// Audio gain (1 = unchanged).
    public var gain: Float

    public init(path: String, start: Microseconds = 0, name: String? = nil, role: SourceDescriptor.Role = .camera, gain: Float = 1) {
        self.path = path; self.start = start; self.name = name; self.role = role; self.gain = gain
    }

    /// `PATH`, `PATH@SECONDS`, or `key=value` pairs: `file=PATH,start=12.5,name=Alice,role=screen,gain=0.5`.
    public init(parsing text: String) throws(MediaError) {
        if text.hasPrefix("file=") || text.contains(",file=") {
            var input = ComposeInput(path: "")
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw MediaError(.invalidArgument, "input option '\(pair)' is not key=value") }
                switch parts[0] {
                case "file": input.path = parts[1]
                case "start": input.start = try ComposeInput.seconds(parts[1])
                case "name": input.name = parts[1]
                case "role":
                    guard let role = SourceDescriptor.Role(rawValue: parts[1]) else {
                        throw MediaError(.invalidArgument, "input role must be camera or screen, not '\(parts[1])'")
                    }
                    input.role = role
                case "gain":
                    guard let gain = Float(parts[1]), gain >= 0, gain <= 16 else {
                        throw MediaError(.invalidArgument, "input gain must be a number from 0 to 16, not '\(parts[1])'")
                    }
                    input.gain = gain
                default: throw MediaError(.invalidArgument, "unknown input option '\(parts[0])' (file, start, name, role, gain)")
                }
            }
            guard !input.path.isEmpty else { throw MediaError(.invalidArgument, "input '\(text)' has no file=") }
            self = input
            return
        }
        if let at = text.lastIndex(of: "@"), let seconds = Double(text[text.index(after: at)...]) {
            guard seconds >= 0, seconds.isFinite else { throw MediaError(.invalidArgument, "input start must be ≥ 0 seconds: '\(text)'") }
            self.init(path: String(text[..<at]), start: Microseconds((seconds * 1e6).rounded()))
        } else {
            self.init(path: text)
        }
    }

    static func seconds(_ text: String) throws(MediaError) -> Microseconds {
        guard let value = Double(text), value >= 0, value.isFinite else {
            throw MediaError(.invalidArgument, "start must be a number of seconds ≥ 0, not '\(text)'")
        }
        return Microseconds((value * 1e6).rounded())
    }
}

public struct ComposeJob: Sendable {
    public var layout: LayoutDocument
    public var inputs: [ComposeInput]
    public var output: String
    public var size: PixelSize?
    public var fps: Rational?
    public var preset: String = "veryfast"
    public var crf: Int = 23
    public var bitrate: Int?
    public var fontPath: String = TextRenderer.defaultFontPath
    /// Watermarks and the chat overlay's style, as in a live room.
    public var presentation = RoomPresentation()
    /// A recording's events file to follow (layouts, pins, hides, chat at their times).
    public var events: RecordedEvents?

    public init(layout: LayoutDocument, inputs: [ComposeInput], output: String) {
        self.layout = layout; self.inputs = inputs; self.output = output
    }
}

public struct ComposeProgress: Sendable {
    /// Position on the output timeline.
    public var time: Microseconds
    /// Expected length (the longest input's declared end), if known.
    public var expected: Microseconds?
}

/// `mcu-record compose`: the room pipeline with files as its sources.
public enum Composer {
    public static func run(_ job: ComposeJob, progress: (ComposeProgress) -> Void = { _ in },
                           warning: @escaping @Sendable (String) -> Void = { _ in },
                           shouldStop: () -> Bool = { false }) throws(MediaError) -> RecordingSummary {
        guard !job.inputs.isEmpty else { throw MediaError(.invalidArgument, "no input given") }
        let canvas = job.layout.canvasSize(override: job.size)
        let fps = job.fps ?? job.layout.canvas.fps ?? LayoutDocument.defaultFPS

        // Open every input first: a bad one stops us before anything is written.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = job.inputs.count >= cores ? 1 : max(1, cores / job.inputs.count)
        var readers: [MediaFileReader] = []
        for input in job.inputs {
            readers.append(try MediaFileReader(path: input.path, offset: input.start, decodeThreads: threads))
        }

        var text: TextRenderer?
        do { text = try TextRenderer(fontPath: job.fontPath) } catch { warning("\(error); slates will show no names") }

        var background: VideoPicture?
        if let imagePath = job.layout.canvas.backgroundImage {
            background = try loadImage(imagePath)
        }

        try prepareOutputDirectory(job.output)
        let settings = EncoderSettings(size: canvas, fps: fps, preset: job.preset, crf: job.crf, bitrate: job.bitrate)
        let recording = try RecordingSink(path: job.output, settings: settings)
        let engine = try CompositionEngine(layout: job.layout, canvasSize: canvas, fps: fps, sinks: [recording],
                                           text: text, backgroundImage: background)
        for mark in job.presentation.watermarks { engine.overlays.append(WatermarkOverlay(item: mark.item, image: mark.image, text: text)) }
        if let style = job.presentation.chat {
            engine.overlays.append(ChatOverlay(style: style, text: try TextRenderer(fontPath: style.font ?? job.fontPath)))
        }
        job.events?.schedule(on: engine)
        let log = WarningLog()
        var sources: [FileSource] = []
        var usedIDs = Set<String>()
        var expected: Microseconds = 0
        for (sequence, (input, reader)) in zip(job.inputs, readers).enumerated() {
            let base = input.name ?? URL(fileURLWithPath: input.path).deletingPathExtension().lastPathComponent
            var id = base, n = 2
            while !usedIDs.insert(id).inserted { id = "\(base)-\(n)"; n += 1 }
            let end = reader.info.duration.map { input.start + $0 }
            expected = max(expected, end ?? 0)
            let descriptor = SourceDescriptor(id: id, name: input.name ?? base, role: input.role, start: input.start, end: end,
                                              hasVideo: reader.hasVideo, hasAudio: reader.hasAudio, sequence: sequence)
            for w in reader.warnings { warning("\(input.path): \(w)") }
            let source = FileSource(reader: reader, label: input.path, start: input.start)
            engine.add(CompositionEngine.Source(descriptor: descriptor, buffer: source.buffer, gain: input.gain))
            sources.append(source)
        }
        readers.removeAll()
        for source in sources { try source.start(warnings: log) }
        defer { for source in sources { source.buffer.cancel() } }

        try engine.runToEnd(progress: { progress(ComposeProgress(time: $0, expected: expected > 0 ? expected : nil)) },
                            shouldStop: shouldStop)
        for source in sources { source.buffer.cancel() }
        for message in log.all { warning(message) }
        return try recording.finish(annotations: job.events?.annotations(chatLifetime: job.presentation.chat?.lifetime ?? 30) ?? RecordingAnnotations())
    }

    /// The first picture of an image (or video) file.
    public static func loadImage(_ path: String) throws(MediaError) -> VideoPicture {
        let reader = try MediaFileReader(path: path, wantAudio: false)
        var picture: VideoPicture?
        while picture == nil, reader.step(onVideo: { picture = $0 }, onAudio: { _ in }) {}
        guard let picture else { throw MediaError(.noDecodableStream, "no picture could be decoded", at: path) }
        return picture
    }

    static func prepareOutputDirectory(_ output: String) throws(MediaError) {
        let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        var info = stat()
        if stat(directory, &info) != 0 {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw MediaError(.outputUnwritable, "cannot create the output folder", underlying: "\(error)", at: directory)
            }
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw MediaError(.outputUnwritable, "is not a folder", at: directory)
        }
        if stat(output, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw MediaError(.outputUnwritable, "is a folder, not a file name", at: output)
        }
    }
}
