import Codecs
import FoundationEssentials
import Layout
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Finalizes what a crash left: `NAME.recording.mp4` (fragmented, playable as it is) becomes a regular `NAME.mp4`
/// with its index first, with the chapters and chat of `NAME.events.jsonl` when that file is there; an audio
/// recording's `NAME.recording.m4a` likewise; `.wav` gets the sizes in its header set, `.ogg` and `.mp3` (streams,
/// whole up to their last page or frame) are put in place as they are. A file whose writer is still alive (it holds
/// the file's lock) is left alone; half-written `*.finalizing` copies are removed.
public enum Recovery {
    public struct Outcome: Sendable {
        public var partial: String
        public var path: String?
        public var duration: Microseconds
        public var error: String?
    }


    /// The leftovers in a folder (not being written by anyone).
    public static func leftovers(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var found: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let path = folder + "/" + name
            // A copy cut short; its source is still here.
            if name.hasSuffix(".mp4.finalizing") || name.hasSuffix(".m4a.finalizing") { unlink(path); continue }
            if PartialFiles.finalPath(for: path) != nil, !MP4Finalizer.isBeingWritten(path) { found.append(path) }
        }
        return found.sorted()
    }

    /// Finalizes one leftover. When `NAME.mp4` already exists (the crash came after the final rename), the
    /// leftover is finalized to `NAME.recovered.mp4` instead: nothing is overwritten.
    public static func recover(_ partial: String) -> Outcome {
        guard let complete = PartialFiles.finalPath(for: partial), let dot = complete.lastIndex(of: ".") else {
            return Outcome(partial: partial, path: nil, duration: 0, error: "not a recording in progress (NAME.recording.mp4, or .m4a, .ogg, .mp3, .wav)")
        }
        if MP4Finalizer.isBeingWritten(partial) {
            return Outcome(partial: partial, path: nil, duration: 0, error: "still being written by a running recorder")
        }
        let base = String(complete[..<dot]), ext = String(complete[complete.index(after: dot)...])
        var target = complete
        if access(target, F_OK) == 0 { target = base + ".recovered." + ext }
        if ext != "mp4" && ext != "m4a" { return recoverStream(partial, into: target, ext: ext) }
        var annotations = RecordingAnnotations()
        if let events = FileManager.default.contents(atPath: base + ".events.jsonl").map(Array.init), events.count <= 64 << 20, let parsed = try? RecordedEvents.parse(events, path: base + ".events.jsonl") {
            annotations = parsed.annotations(chatLifetime: 30)
        }
        if ext == "m4a" { annotations = RecordingAnnotations() }                // chapters and captions go with the video
        do {
            let result = try MP4Finalizer.finalize(partial: partial, into: target, annotations: annotations)
            return Outcome(partial: partial, path: target, duration: result.duration, error: nil)
        } catch {
            // Killed inside a fragment, the file may not open at all: cut back to the last whole one, and again.
            guard FragmentedMP4.trimToWholeFragments(partial) > 0,
                  let result = try? MP4Finalizer.finalize(partial: partial, into: target, annotations: annotations) else {
                return Outcome(partial: partial, path: nil, duration: 0, error: "\(error)")
            }
            return Outcome(partial: partial, path: target, duration: result.duration, error: nil)
        }
    }

    /// WAV, Ogg, MP3: written straight through; put in place (WAV with the sizes in its header set).
    static func recoverStream(_ partial: String, into target: String, ext: String) -> Outcome {
        var duration: Int64 = 0
        if ext == "wav" {
            guard let length = WAVHeaderRepair.repair(partial) else {
                return Outcome(partial: partial, path: nil, duration: 0, error: "not a WAV file with a data chunk (left as it is)")
            }
            duration = length
        } else if let reader = try? MediaFileReader(path: partial, wantVideo: false) {
            duration = reader.info.duration ?? 0
        }
        do { try PartialFiles.place(partial, at: target) } catch {
            return Outcome(partial: partial, path: nil, duration: 0, error: "\(error)")
        }
        return Outcome(partial: partial, path: target, duration: duration, error: nil)
    }
}
