import Foundation

/// The test process's working directory, removed when the process exits (set `MCU_KEEP_TEST_FILES=1` to keep it).
/// A run writes gigabytes of recordings; left behind, they fill the disk and fail every later run.
public enum TestScratch {
    /// `name` inside the scratch directory.
    public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    public static let directory: URL = {
        let fm = FileManager.default
        let keep = ProcessInfo.processInfo.environment["MCU_KEEP_TEST_FILES"] != nil
        if !keep { removeDirectoriesOfEndedRuns() }
        let dir = fm.temporaryDirectory.appendingPathComponent("\(prefix)\(getpid())")
        try? fm.createDirectory(at: dir, withIntermediateDirectories: true)
        if !keep {
            atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("mcu-record-tests-\(getpid())")) }
        }
        return dir
    }()

    private static let prefix = "mcu-record-tests-"

    /// Directories of runs killed before they could clean up (their process is gone).
    private static func removeDirectoriesOfEndedRuns() {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: fm.temporaryDirectory.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? fm.removeItem(at: fm.temporaryDirectory.appendingPathComponent(name))
        }
    }
}
