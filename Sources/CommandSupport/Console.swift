import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import MediaCore

/// A line to standard output, unbuffered: supervisors and log collectors read it through a pipe at once.
public func printLine(_ text: String) {
    write(to: 1, text + "\n")
}

/// Unbuffered write to standard error (fd 2 needs no shared FILE state).
public func printError(_ text: String) {
    write(to: 2, text)
}

private func write(to fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

/// Prints the error and picks the exit status: 2 for a bad argument or layout, 1 for anything else.
public func fail(_ error: MediaError) -> ExitCode {
    printError("error: \(error)\n")
    return ExitCode(error.code == .invalidArgument || error.code == .invalidLayout ? 2 : 1)
}

/// A parent (supervisor, test runner) may have left SIGINT/SIGTERM blocked; a blocked stop signal would never
/// arrive and a recording could not be stopped cleanly.
public func unblockStopSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}
