import ArgumentParser
import CommandSupport
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import MediaCore

/// `mcu-record --room NAME`: parses the room's options here (so `--help` and argument errors come from
/// `mcu-record` itself), then replaces this process with `mcu-record-server`, installed next to it. The process
/// id stays the same, so supervisors and Ctrl-C reach the room directly.
struct RoomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "room",
        abstract: "Run a live room: participants publish over WHIP, the server records one composite MP4.",
        discussion: """
        `mcu-record --room NAME` starts the server, prints the WHIP URL and the join page, and records until \
        Ctrl-C (or SIGTERM), the idle timeout, or the maximum duration; the file is finalized in every case.
        """)

    @OptionGroup var options: RoomOptions

    func run() throws {
        if let token = options.token { setenv("MCU_TOKEN", token, 1) }
        if let token = options.pullToken { setenv("MCU_PULL_TOKEN", token, 1) }
        if let pin = options.janusPin { setenv("MCU_JANUS_PIN", pin, 1) }
        for (name, value) in options.delivery.secretEnvironment { setenv(name, value, 1) }
        throw handOver(to: "mcu-record-server", what: "the room server", arguments: options.arguments)
    }
}

/// `mcu-record publish …`: the publisher is its own program (`mcu-record-publish`, next to this one), so its HTTP
/// client stays out of `compose`. Every argument goes to it unchanged.
struct PublishForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish to a WHIP endpoint as a participant would: a live test pattern, or a pre-encoded file.",
        discussion: "`mcu-record publish --help` lists the options.")

    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    func run() throws {
        throw handOver(to: "mcu-record-publish", what: "the publisher", arguments: arguments)
    }
}

/// Replaces this process with `program`, installed next to this executable (symlinks resolved). The process id stays
/// the same, so supervisors and Ctrl-C reach it directly. Returns (for throwing) only when that fails.
func handOver(to program: String, what: String, arguments: [String]) -> ExitCode {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
    let me = length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    let directory = me.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    let path = (directory.isEmpty ? "." : directory) + "/" + program
    guard access(path, X_OK) == 0 else {
        return fail(MediaError(.invalidArgument, "cannot run \(what): \(path) is missing or not executable (install \(program) next to mcu-record)"))
    }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    execv(path, argv)
    return fail(MediaError(.invalidArgument, "cannot run \(what) \(path): \(String(cString: strerror(errno)))"))
}
