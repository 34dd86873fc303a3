import ArgumentParser
import FoundationEssentials
import MediaCore
import Publisher

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a pre-encoded VP8 + Opus file to a WHIP endpoint, as a participant would.",
        discussion: "For demos and load tests: `mcu-record publish --whip http://127.0.0.1:8080/rooms/demo/whip --name Alice --file alice.webm`.")

    @Option(name: .long, help: "WHIP endpoint URL (http://).")
    var whip: String

    @Option(name: .long, help: "Participant name.")
    var name: String = "publisher"

    @Option(name: .long, help: "A WebM with VP8 video and Opus audio.")
    var file: String

    @Option(name: .long, help: "Seconds to publish (the file loops); default: the file once.")
    var duration: Double?

    @Option(name: .long, help: "Bearer token (or MCU_TOKEN).")
    var token: String?

    func run() throws {
        unblockStopSignals()
        do {
            let publisher = try WHIPPublisher()
            try publisher.run(whip: whip, name: name, token: token ?? ProcessInfo.processInfo.environment["MCU_TOKEN"], file: file, duration: duration)
            printLine("\(name): published \(file)")
        } catch {
            printError("error: \(error)\n")
            throw ExitCode(1)
        }
    }
}
