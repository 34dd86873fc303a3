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
        let server = Self.serverExecutable()
        guard access(server, X_OK) == 0 else {
            throw fail(MediaError(.invalidArgument, "cannot run the room server: \(server) is missing or not executable "
                                  + "(install mcu-record-server next to mcu-record)"))
        }
        if let token = options.token { setenv("MCU_TOKEN", token, 1) }
        let argv = ([server] + options.arguments).map { strdup($0) } + [nil]
        execv(server, argv)
        let reason = String(cString: strerror(errno))
        throw fail(MediaError(.invalidArgument, "cannot run the room server \(server): \(reason)"))
    }

    /// `mcu-record-server` in the directory of this executable (symlinks resolved).
    static func serverExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
        let me = length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let directory = me.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/mcu-record-server"
    }
}
