import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Files written aside as `NAME.recording.EXT` while a recording runs (its writer holding a lock on it), and put in
/// place as `NAME.EXT` when complete: a file without `.recording.` in its name is always whole.
public enum PartialFiles {
    /// The extensions written this way: the video recording and every audio format.
    public static let extensions = ["mp4", "m4a", "ogg", "mp3", "wav"]

    /// `talk.m4a` → `talk.recording.m4a`.
    public static func partialPath(for path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return path + ".recording" }
        return String(path[..<dot]) + ".recording" + String(path[dot...])
    }

    /// `talk.recording.m4a` → `talk.m4a`; nil for any other name.
    public static func finalPath(for partial: String) -> String? {
        for ext in extensions where partial.hasSuffix(".recording." + ext) {
            return String(partial.dropLast(".recording.".count + ext.count)) + "." + ext
        }
        return nil
    }

    /// Held by the writer while it writes (`flock`): recovery leaves a locked file alone, and the kernel drops the lock
    /// when the process dies, however it dies. -1 when the file cannot be opened.
    public static func lock(_ path: String) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 { flock(descriptor, LOCK_EX | LOCK_NB) }
        return descriptor
    }

    /// Renames `source` to `path` durably: the file synced first, its folder after, so a power cut leaves one of the two.
    public static func place(_ source: String, at path: String, sync: (Int32) -> Int32 = { fsync($0) }) throws(MediaError) {
        guard syncFile(source, sync: sync) else {
            throw MediaError(.outputUnwritable, "cannot sync the finished recording to disk", underlying: String(cString: strerror(errno)), at: path)
        }
        guard rename(source, path) == 0 else {
            throw MediaError(.outputUnwritable, "cannot move the finished recording into place", underlying: String(cString: strerror(errno)), at: path)
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard syncFile(directory, sync: sync) else {
            throw MediaError(.outputUnwritable, "cannot sync the recording's folder", underlying: String(cString: strerror(errno)), at: directory)
        }
    }

    /// A writer's file after a failure: the trailer if the header went out, closed, a fragmented MP4 cut back to its
    /// last whole fragment (so it plays up to there), and its lock let go (`lock` becomes -1): a leftover for `Recovery`.
    static func abandon(_ output: UnsafeMutablePointer<AVFormatContext>?, headerWritten: Bool, path: String, fragmented: Bool, lock: inout Int32) {
        if let output, output.pointee.pb != nil {
            if headerWritten { av_write_trailer(output) }
            avio_closep(&output.pointee.pb)
            if fragmented { FragmentedMP4.trimToWholeFragments(path) }
        }
        if lock >= 0 { close(lock); lock = -1 }
    }

    static func syncFile(_ path: String, sync: (Int32) -> Int32) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return sync(descriptor) == 0
    }
}
