import Codecs
import FoundationEssentials
import Layout
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Finalizes what a crash left: `NAME.recording.mp4` (fragmented, playable as it is) becomes a regular `NAME.mp4`
/// with its index first, with the chapters and chat of `NAME.events.jsonl` when that file is there. A file whose
/// writer is still alive (it holds the file's lock) is left alone; half-written `*.finalizing` copies are removed.
public enum Recovery {
    public struct Outcome: Sendable {
        public var partial: String
        public var path: String?
        public var duration: Microseconds
        public var error: String?
    }

    static let partialSuffix = ".recording.mp4"

    /// The leftovers in a folder (not being written by anyone).
    public static func leftovers(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var found: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let path = folder + "/" + name
            if name.hasSuffix(".mp4.finalizing") { unlink(path); continue }      // a copy cut short; its source is still here
            if name.hasSuffix(partialSuffix), !MP4Finalizer.isBeingWritten(path) { found.append(path) }
        }
        return found.sorted()
    }

    /// Finalizes one leftover. When `NAME.mp4` already exists (the crash came after the final rename), the
    /// leftover is finalized to `NAME.recovered.mp4` instead: nothing is overwritten.
    public static func recover(_ partial: String) -> Outcome {
        guard partial.hasSuffix(partialSuffix) else {
            return Outcome(partial: partial, path: nil, duration: 0, error: "not a recording in progress (NAME\(partialSuffix))")
        }
        if MP4Finalizer.isBeingWritten(partial) {
            return Outcome(partial: partial, path: nil, duration: 0, error: "still being written by a running recorder")
        }
        let base = String(partial.dropLast(partialSuffix.count))
        var target = base + ".mp4"
        if access(target, F_OK) == 0 { target = base + ".recovered.mp4" }
        var annotations = RecordingAnnotations()
        if let events = FileManager.default.contents(atPath: base + ".events.jsonl").map(Array.init), events.count <= 64 << 20, let parsed = try? RecordedEvents.parse(events, path: base + ".events.jsonl") {
            annotations = parsed.annotations(chatLifetime: 30)
        }
        do {
            let result = try MP4Finalizer.finalize(partial: partial, into: target, annotations: annotations)
            return Outcome(partial: partial, path: target, duration: result.duration, error: nil)
        } catch {
            return Outcome(partial: partial, path: nil, duration: 0, error: "\(error)")
        }
    }
}
