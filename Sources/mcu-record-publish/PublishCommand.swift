import ArgumentParser
import Codecs
import CommandSupport
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import MediaCore
import Publisher
import Synchronization

/// `mcu-record publish` (which hands over to this program, installed next to it): its own executable because its
/// HTTP client loads full Foundation, which `mcu-record compose` does without.
@main
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcu-record publish",
        abstract: "Publish to a WHIP endpoint as a participant would: a live test pattern, or a pre-encoded file.",
        discussion: """
        Without --file it sends a live-encoded test pattern (VP8 + Opus): a coloured picture with a frame counter, \
        and once a second a white flash with a beep at the same instant, for checking lip sync. With --file it \
        streams a VP8 + Opus WebM as it is (cheap: for load tests). Ctrl-C ends the session cleanly (WHIP DELETE).
        Example: `mcu-record publish --whip http://127.0.0.1:8080/rooms/demo/whip --name Alice --duration 30`.
        """)

    @Option(name: .long, help: "WHIP endpoint URL (http:// or https://; redirects are followed).")
    var whip: String

    @Option(name: .long, help: "Participant name.")
    var name: String = "publisher"

    @Option(name: .long, help: "A WebM with VP8 video and Opus audio to stream instead of the test pattern.")
    var file: String?

    @Option(name: .long, help: "Seconds to publish (a file loops); default: a file once, the pattern until Ctrl-C.")
    var duration: Double?

    @Option(name: .long, help: "Test pattern size WIDTHxHEIGHT.")
    var size: String = "640x480"

    @Option(name: .long, help: "Test pattern frame rate.")
    var fps: Int = 30

    @Option(name: .long, help: "Test pattern background colour (hex RRGGBB).")
    var colour: String = "2060c0"

    @Option(name: .long, help: "Frequency of the test pattern's beep in Hz.")
    var tone: Double = 1000

    @Option(name: .long, help: "Bearer token (or MCU_TOKEN).")
    var token: String?

    @Option(name: .customLong("resize-every"), help: "Test pattern: change the picture size every so many seconds (churn tests).")
    var resizeEvery: Double?

    @Option(name: .customLong("switch-ssrc-every"), help: "Switch to new SSRCs every so many seconds (churn tests).")
    var switchSSRCEvery: Double?

    @Option(name: .customLong("pause-every"), help: "Stop sending media every so many seconds, for --pause-for seconds (churn tests).")
    var pauseEvery: Double?

    @Option(name: .customLong("pause-for"), help: "How long each pause of --pause-every lasts, in seconds.")
    var pauseFor: Double = 5

    func run() throws {
        CodecLibrary.configureLogging(verbose: false)
        for sig in [SIGINT, SIGTERM] { signal(sig) { _ in publishStopRequested.store(true, ordering: .relaxed) } }
        unblockStopSignals()
        do {
            let source: WHIPPublisher.Source
            if let file {
                source = .file(file)
            } else {
                guard let pictureSize = PixelSize(parsing: size), pictureSize.width % 2 == 0, pictureSize.height % 2 == 0,
                      (16...3840).contains(pictureSize.width), (16...2160).contains(pictureSize.height) else {
                    throw MediaError(.invalidArgument, "--size must be an even WIDTHxHEIGHT up to 3840x2160, not '\(size)'")
                }
                guard (1...60).contains(fps) else { throw MediaError(.invalidArgument, "--fps must be 1…60") }
                guard let background = RGBAColor(hex: colour) else { throw MediaError(.invalidArgument, "--colour must be hex RRGGBB, not '\(colour)'") }
                guard tone > 0 && tone < 20_000 else { throw MediaError(.invalidArgument, "--tone must be between 0 and 20000 Hz") }
                source = .pattern(size: pictureSize, fps: fps, colour: background, tone: tone)
            }
            if let duration, !(duration > 0) { throw MediaError(.invalidArgument, "--duration must be positive") }
            for value in [resizeEvery, switchSSRCEvery, pauseEvery].compactMap({ $0 }) where !(value >= 0.5) {
                throw MediaError(.invalidArgument, "--resize-every, --switch-ssrc-every and --pause-every take seconds, 0.5 or more")
            }
            if let pauseEvery, !(pauseFor > 0 && pauseFor < pauseEvery) {
                throw MediaError(.invalidArgument, "--pause-for must be positive and shorter than --pause-every")
            }
            let publisher = try WHIPPublisher()
            try publisher.run(whip: whip, name: name, token: token ?? ProcessInfo.processInfo.environment["MCU_TOKEN"], source: source,
                              duration: duration, churn: WHIPPublisher.Churn(resizeEvery: resizeEvery, switchSSRCEvery: switchSSRCEvery,
                                                                         pauseEvery: pauseEvery, pauseFor: pauseFor),
                              shouldStop: { publishStopRequested.load(ordering: .relaxed) })
            let s = publisher.statistics
            printLine("\(name): published \(s.videoFrames) video and \(s.audioFrames) audio frames (\(s.packets) packets, "
                      + "\(s.retransmitted) retransmitted, \(s.keyframeRequests) keyframe requests)")
        } catch let error as MediaError {
            throw fail(error)
        } catch {
            printError("error: \(error)\n")
            throw ExitCode(1)
        }
    }
}

/// Set from the signal handler; the publisher ends the session (WHIP DELETE) when it sees it.
let publishStopRequested = Atomic<Bool>(false)
