import ArgumentParser
import Codecs
import CommandSupport
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Layout
import MediaCore
import Recorder
import Synchronization

@main
struct MCURecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcu-record",
        abstract: "Server-side composite recorder for WebRTC rooms.",
        discussion: """
        `mcu-record compose` renders files (per-participant recordings, test clips) into one composite MP4 \
        with a JSON layout. Layouts: grid, speaker, pip, presentation, single, or a file (see Layouts/README.md).
        """,
        version: "0.1.0",
        subcommands: [RoomCommand.self, Compose.self, PublishForward.self, RecoverCommand.self],
        defaultSubcommand: RoomCommand.self)

    /// `publish` goes to its own program before any parsing here, so its `--help` and its errors are its own.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "publish" { Self.exit(withError: handOver(to: "mcu-record-publish", what: "the publisher", arguments: Array(arguments.dropFirst()))) }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand { try await asynchronous.run() } else { try command.run() }
        } catch {
            Self.exit(withError: error)
        }
    }
}

/// Set from the signal handler; read by the compositor loop.
let stopRequested = Atomic<Bool>(false)

func installStopSignals() {
    for sig in [SIGINT, SIGTERM] {
        signal(sig) { _ in stopRequested.store(true, ordering: .relaxed) }
    }
    unblockStopSignals()
}

struct Compose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compose input files into one composite MP4 (H.264 + AAC).",
        discussion: """
        Inputs start at 0 s unless placed later: `--input late.webm@12.5`, or with options \
        `--input file=screen.webm,start=3,name=Slides,role=screen,gain=0.5`.
        The file is written crash-safe as NAME.recording.mp4 and finalized into NAME.mp4 at the end; \
        Ctrl-C stops early and still finalizes what was composed.
        """)

    @Option(name: .long, help: "Layout preset (grid, speaker, pip, presentation, single) or layout JSON file.")
    var layout: String = "grid"

    @Option(name: [.short, .long], help: "Input file, optionally @START seconds or key=value options. Repeat for each input.")
    var input: [String] = []

    @Option(name: [.short, .long], help: "Output MP4 path.")
    var output: String

    @Option(name: .long, help: "Canvas size WIDTHxHEIGHT (overrides the layout).")
    var size: String?

    @Option(name: .long, help: "Output frame rate, e.g. 30 or 30000/1001 (overrides the layout).")
    var fps: String?

    @Option(name: .long, help: "x264 preset (ultrafast … veryslow).")
    var preset: String = "veryfast"

    @Option(name: .long, help: "x264 constant rate factor (0-51, lower is better).")
    var crf: Int = 23

    @Option(name: .long, help: "Video bitrate in kbit/s instead of CRF.")
    var bitrate: Int?

    @Option(name: .long, help: "Font for slates and labels.")
    var font: String = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

    @Option(name: .long, help: "Watermark file (JSON: images and texts, see Layouts/README.md).")
    var watermark: String?

    @Option(name: .customLong("chat-overlay"), help: "Chat overlay file (JSON); with --events, the recording's chat shows again.")
    var chatOverlay: String?

    @Option(name: .long, help: "A live recording's events file (NAME.events.jsonl): follow its layouts, pins, hides and chat.")
    var events: String?

    @Flag(name: .long, help: "Print progress lines even when stderr is not a terminal.")
    var progress = false

    @Flag(name: .shortAndLong, help: "No progress or warnings.")
    var quiet = false

    func run() throws {
        CodecLibrary.configureLogging(verbose: false)
        do {
            guard !input.isEmpty else { throw MediaError(.invalidArgument, "give at least one --input") }
            var job = ComposeJob(layout: try loadLayout(layout), inputs: try input.map { i throws(MediaError) in try ComposeInput(parsing: i) },
                                 output: output)
            if let size {
                guard let parsed = PixelSize(parsing: size), parsed.width >= 16, parsed.height >= 16, parsed.width <= 7680, parsed.height <= 4320 else {
                    throw MediaError(.invalidArgument, "--size must be WIDTHxHEIGHT between 16x16 and 7680x4320, not '\(size)'")
                }
                job.size = parsed
            }
            if let fps {
                guard let rate = Rational(parsing: fps), rate.doubleValue >= 1, rate.doubleValue <= 120 else {
                    throw MediaError(.invalidArgument, "--fps must be a frame rate between 1 and 120, not '\(fps)'")
                }
                job.fps = rate
            }
            guard (1...51).contains(crf) else { throw MediaError(.invalidArgument, "--crf must be 1…51 (lossless 0 needs a profile the MP4 does not use)") }
            job.crf = crf
            job.preset = preset
            job.bitrate = bitrate.map { $0 * 1000 }
            job.fontPath = font
            if let file = watermark {
                job.presentation.watermarks = try RoomPresentation.load(try loadWatermarks(file))
            }
            if let file = chatOverlay { job.presentation.chat = try loadChatOverlay(file) }
            if let file = events {
                guard let data = FileManager.default.contents(atPath: file) else { throw MediaError(.inputUnreadable, "cannot read the events file", at: file) }
                job.events = try RecordedEvents.parse(Array(data), path: file)
            }
            guard job.output.lowercased().hasSuffix(".mp4") else {
                throw MediaError(.invalidArgument, "--output must name an .mp4 file")
            }
            installStopSignals()
            let quiet = self.quiet
            let interactive = isatty(STDERR_FILENO) == 1
            let showProgress = !quiet && (interactive || progress)
            let started = Date()
            var lastPrint = Date.distantPast
            let summary = try Composer.run(job, progress: { p in
                guard showProgress, Date().timeIntervalSince(lastPrint) >= (interactive ? 0.25 : 1) else { return }
                lastPrint = Date()
                let elapsed = max(0.001, Date().timeIntervalSince(started))
                let seconds = Double(p.time) / 1e6
                let speed = seconds / elapsed
                var line = "time=\(decimal(seconds, 2)) speed=\(decimal(speed, 2))x"
                if let expected = p.expected, expected > 0 {
                    line = "\(decimal(min(100, 100 * Double(p.time) / Double(expected)), 0))% " + line
                }
                printError(interactive ? "\r\(line)   " : "progress \(line)\n")
            }, warning: { message in
                if !quiet { printError("warning: \(message)\n") }
            }, shouldStop: { stopRequested.load(ordering: .relaxed) })
            if showProgress && interactive { printError("\rdone time=\(decimal(Double(summary.duration) / 1e6, 2))           \n") }
            let elapsed = Date().timeIntervalSince(started)
            if !quiet {
                print("wrote \(summary.path) (\(decimal(Double(summary.duration) / 1e6, 2)) s, \(summary.videoFrames) frames, "
                      + "\(decimal(Double(summary.bytes) / 1e6, 1)) MB) in \(decimal(elapsed, 1)) s "
                      + "(\(decimal(Double(summary.duration) / 1e6 / max(elapsed, 0.001), 2))x real time)")
            }
        } catch let error as MediaError {
            throw fail(error)
        }
    }
}
