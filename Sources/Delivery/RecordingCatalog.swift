import Codecs
import Foundation

/// The recordings on this server's disk, found by their files: a recording `ROOM-STAMP` is `ROOM-STAMP.mp4` (or its
/// parts `ROOM-STAMP-partNNN.mp4`), its events, chat and metadata (`ROOM-STAMP.meta.json`, written when it finished),
/// its HLS folder, in the recordings folder or one folder below. Reads the file system: call off the cooperative pool.
public struct RecordingCatalog: Sendable {
    public struct File: Sendable, Equatable {
        public var name: String
        public var size: Int64
        /// recording, part, audio, events, part-events, chat, metadata
        public var kind: String
        public init(name: String, size: Int64, kind: String) { self.name = name; self.size = size; self.kind = kind }
    }
    public struct Entry: Sendable {
        public var id: String
        public var room: String
        /// The folder under the recordings folder ("" at the top).
        public var folder: String
        public var files: [File]
        /// Still being written (its fragmented file is locked by a live writer).
        public var recording: Bool
        public var hls: Bool
        /// From the metadata: seconds since 1970, seconds, names.
        public var started: Double?, ended: Double?, duration: Double?
        public var participants: [String]
        public var bytes: Int64 { files.reduce(0) { $0 + $1.size } }
        /// When it was last written (the newest file).
        public var modified: Double
        public init(id: String, room: String, folder: String, files: [File], recording: Bool, hls: Bool, started: Double? = nil,
                    ended: Double? = nil, duration: Double? = nil, participants: [String], modified: Double) {
            self.id = id; self.room = room; self.folder = folder; self.files = files; self.recording = recording; self.hls = hls
            self.started = started; self.ended = ended; self.duration = duration; self.participants = participants; self.modified = modified
        }
    }

    public let root: String
    public init(root: String) { self.root = root }

    static func isValidID(_ id: String) -> Bool {
        (1...128).contains(id.count) && !id.hasPrefix(".") && id.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
    }

    /// The recording a file belongs to, and what the file is; nil for files of no recording.
    static func classify(_ name: String) -> (id: String, kind: String)? {
        func stem(_ suffix: String) -> String? { name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : nil }
        func withoutPart(_ s: String) -> (String, Bool) {
            guard let range = s.range(of: "-part", options: .backwards), s[range.upperBound...].allSatisfy(\.isNumber), !s[range.upperBound...].isEmpty else { return (s, false) }
            return (String(s[..<range.lowerBound]), true)
        }
        if PartialFiles.finalPath(for: name) != nil || name.hasSuffix(".finalizing") || name.hasSuffix(".tmp") { return nil }
        if let s = stem(".mp4") { let (id, part) = withoutPart(s); return (id, part ? "part" : "recording") }
        if let s = stem(".events.jsonl") { let (id, part) = withoutPart(s); return (id, part ? "part-events" : "events") }
        if let s = stem(".chat.vtt") { return (s, "chat") }
        for ext in [".m4a", ".ogg", ".mp3", ".wav"] where name.hasSuffix(ext) && !name.hasSuffix(".recording" + ext) { return (stem(ext)!, "audio") }
        if let s = stem(".meta.json") { return (s, "metadata") }
        return nil
    }

    /// Every recording, newest first.
    public func all() -> [Entry] {
        var entries: [String: Entry] = [:]
        let fm = FileManager.default
        var folders = [""]
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where !name.hasPrefix(".") && !name.hasSuffix(".hls") {
            var isFolder: ObjCBool = false
            if fm.fileExists(atPath: root + "/" + name, isDirectory: &isFolder), isFolder.boolValue { folders.append(name) }
        }
        for folder in folders {
            let path = folder.isEmpty ? root : root + "/" + folder
            for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] {
                let full = path + "/" + name
                let attributes = try? fm.attributesOfItem(atPath: full)
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                let key: String
                var entry: Entry
                if let complete = PartialFiles.finalPath(for: name) {
                    let id = String(complete[..<(complete.lastIndex(of: ".") ?? complete.endIndex)])
                    let base = RecordingCatalog.classify(complete)?.id ?? id
                    key = folder + "/" + base
                    entry = entries[key] ?? RecordingCatalog.empty(base, folder)
                    entry.recording = entry.recording || RecordingCatalog.isLocked(full)
                } else if name.hasSuffix(".hls") {
                    key = folder + "/" + String(name.dropLast(4))
                    entry = entries[key] ?? RecordingCatalog.empty(String(name.dropLast(4)), folder)
                    entry.hls = true
                } else if let (id, kind) = RecordingCatalog.classify(name), RecordingCatalog.isValidID(id) {
                    key = folder + "/" + id
                    entry = entries[key] ?? RecordingCatalog.empty(id, folder)
                    entry.files.append(File(name: name, size: (attributes?[.size] as? NSNumber)?.int64Value ?? 0, kind: kind))
                    if kind == "metadata", let data = fm.contents(atPath: full), let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                        entry.room = meta["room"] as? String ?? entry.room
                        entry.started = meta["started"] as? Double
                        entry.ended = meta["ended"] as? Double
                        entry.duration = meta["duration"] as? Double
                        entry.participants = meta["participants"] as? [String] ?? []
                    }
                } else {
                    continue
                }
                entry.modified = max(entry.modified, modified)
                entries[key] = entry
            }
        }
        return entries.values.filter { !$0.files.isEmpty || $0.recording }.map { entry in
            var sorted = entry
            sorted.files.sort { $0.name < $1.name }
            return sorted
        }.sorted { ($0.started ?? $0.modified) > ($1.started ?? $1.modified) }
    }

    public func entry(_ id: String) -> Entry? {
        guard RecordingCatalog.isValidID(id) else { return nil }
        return all().first { $0.id == id }
    }

    /// The path of one of a recording's files (only its own files, by name).
    public func path(of id: String, file: String) -> String? {
        guard let entry = entry(id), entry.files.contains(where: { $0.name == file }) else { return nil }
        return folderPath(entry) + "/" + file
    }

    func folderPath(_ entry: Entry) -> String { entry.folder.isEmpty ? root : root + "/" + entry.folder }

    /// Removes a finished recording's files (and its HLS folder). Throws when it is still being written.
    public func delete(_ id: String) throws {
        guard let entry = entry(id) else { throw CatalogError.notFound }
        guard !entry.recording else { throw CatalogError.recording }
        let folder = folderPath(entry)
        for file in entry.files { try FileManager.default.removeItem(atPath: folder + "/" + file.name) }
        if entry.hls { try? FileManager.default.removeItem(atPath: folder + "/" + id + ".hls") }
    }

    public enum CatalogError: Error { case notFound, recording }

    static func empty(_ id: String, _ folder: String) -> Entry {
        let room = id.split(separator: "-").dropLast().joined(separator: "-")
        return Entry(id: id, room: room.isEmpty ? id : room, folder: folder, files: [], recording: false, hls: false, participants: [], modified: 0)
    }

    static func isLocked(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) != 0
    }
}
