import Foundation
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

extension Process {
    /// Waits for the process to end, at most `seconds`; past that it is terminated, then killed. Returns whether it
    /// ended by itself. No test waits on a child forever.
    @discardableResult
    func finish(within seconds: Double = 180) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(20_000) }
        guard isRunning else { return true }
        terminate()
        let grace = Date().addingTimeInterval(3)
        while isRunning && Date() < grace { usleep(20_000) }
        if isRunning { kill(processIdentifier, SIGKILL) }
        waitUntilExit()
        return false
    }

    /// For `defer`: ends the process if it still runs (a test that failed half-way leaves nothing behind).
    func stopIfRunning() {
        guard isRunning else { return }
        finish(within: 0)
    }
}

/// A program found on PATH, or a clear error naming what to install (`make test` installs it).
func executable(_ name: String, package: String) throws -> String {
    for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let path = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw MediaError(.invalidArgument, "\(name) is not on PATH: install the Debian package \(package) (make test does)")
}

/// Runs a program to its end (at most `seconds`), its output collected through files so that neither pipe can
/// fill up and stall it.
func run(_ executable: String, _ arguments: [String], within seconds: Double = 300) throws -> (status: Int32, stdout: String, stderr: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outPath = folder.appendingPathComponent("out"), errPath = folder.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outPath.path, contents: nil)
    FileManager.default.createFile(atPath: errPath.path, contents: nil)
    let out = try FileHandle(forWritingTo: outPath), err = try FileHandle(forWritingTo: errPath)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let ended = process.finish(within: seconds)
    try? out.close(); try? err.close()
    let stdout = (try? String(contentsOf: outPath, encoding: .utf8)) ?? ""
    var stderr = (try? String(contentsOf: errPath, encoding: .utf8)) ?? ""
    if !ended { stderr += "\n(killed after \(Int(seconds)) s)" }
    return (process.terminationStatus, stdout, stderr)
}

/// A peer program (a Python script, a server) whose stdout and stderr go to a log file the test reads while it
/// runs: nothing to drain, nothing to block on. Stopped in the test's `defer`.
final class LoggedPeer {
    let process = Process()
    let log: String

    init(_ executable: String, _ arguments: [String], log name: String, environment: [String: String] = [:]) throws {
        log = Paths.temporary(name)
        FileManager.default.createFile(atPath: log, contents: nil)
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// What it printed so far.
    var printed: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits (at most `seconds`) for a line starting with `prefix`; its remainder, nil on timeout or exit.
    func line(startingWith prefix: String, within seconds: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = printed.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) { return String(line.dropFirst(prefix.count)) }
            guard process.isRunning else { return nil }
            usleep(50_000)
        }
        return nil
    }

    func stop() { process.stopIfRunning() }
}
