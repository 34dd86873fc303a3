import ArgumentParser
import CommandSupport
import Codecs
import FoundationEssentials
import MediaCore
import Recorder
#if canImport(Glibc)
import Glibc
#endif

/// `mcu-record recover`: finalizes recordings a crash left behind (the server also does this at start-up).
struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Finalize recordings left by a crash: NAME.recording.mp4 becomes a regular NAME.mp4 (and NAME.recording.m4a, .wav, .ogg, .mp3 their finished files).",
        discussion: """
        Give the leftover files, or folders to search for them. A file still being written by a running recorder is \
        left alone. The chapters and chat of NAME.events.jsonl are added when it is there. If NAME.mp4 already \
        exists the result is NAME.recovered.mp4.
        """)

    @Argument(help: "NAME.recording.mp4 (or .m4a, .wav, .ogg, .mp3) files, or folders of recordings.")
    var paths: [String]

    func run() throws {
        CodecLibrary.configureLogging(verbose: false)
        var files: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { throw fail(MediaError(.inputUnreadable, "no such file or folder", at: path)) }
            files += info.st_mode & S_IFMT == S_IFDIR ? Recovery.leftovers(in: path) : [path]
        }
        if files.isEmpty { printLine("nothing to recover"); return }
        var failed = false
        for file in files {
            let outcome = Recovery.recover(file)
            if let path = outcome.path {
                printLine("recovered \(file) → \(path) (\(decimal(Double(outcome.duration) / 1e6, 1)) s)")
            } else {
                printError("error: \(file): \(outcome.error ?? "cannot recover")\n")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
