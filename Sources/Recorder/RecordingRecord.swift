import Codecs
import Layout
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// The record kept beside a recording `NAME.mp4`: `NAME.events.jsonl` (one JSON object per line, `t` in seconds on
/// the composite's timeline: joins, leaves, layouts, speakers, chat, keyframe waits, loss bursts), `NAME.chat.vtt`
/// (WebVTT, from the first chat message on), and the chapters and chat cues the final MP4 carries. Lines are
/// flushed one by one, so a crash keeps everything up to its moment.
/// `@unchecked Sendable`: every field is only touched under `lock`.
final class RecordingRecord: @unchecked Sendable {
    let eventsPath: String
    private(set) var chatPath: String?
    private let base: String
    private let lock = ConditionLock()
    private var events: UnsafeMutablePointer<FILE>?
    private var chatFile: UnsafeMutablePointer<FILE>?
    private var annotations = RecordingAnnotations()
    private let chatLifetime: Microseconds
    private var failed = false

    init(recording: String, chatLifetime: Double) throws(MediaError) {
        base = recording.hasSuffix(".mp4") ? String(recording.dropLast(4)) : recording
        eventsPath = base + ".events.jsonl"
        self.chatLifetime = Microseconds(chatLifetime * 1_000_000)
        guard let file = fopen(eventsPath, "w") else {
            throw MediaError(.outputUnwritable, "cannot write the events file", underlying: String(cString: strerror(errno)), at: eventsPath)
        }
        events = file
    }

    deinit { _ = close() }

    func write(_ kind: String, time: Microseconds, _ fields: [String: JSONValue]) {
        var entries: [(String, JSONValue)] = [("t", .number((Double(time) / 1000).rounded() / 1000)), ("event", .string(kind))]
        entries += fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let line = JSONValue.object(entries).serialized + "\n"
        lock.withLock {
            guard let events, !failed else { return }
            if fputs(line, events) < 0 || fflush(events) != 0 { failed = true }
            if kind == "layout" || kind == "recording", case let .object(layout)? = fields["layout"] {
                let title = layout.first { $0.0 == "name" }.flatMap { if case let .string(s) = $0.1 { s } else { nil } } ?? "layout"
                annotations.addChapter(at: time, title: title)
            }
        }
    }

    /// A chat message at `time`: an event, a WebVTT cue and a cue of the MP4's text track.
    func chat(from: String, text: String, time: Microseconds) {
        write("chat", time: time, ["from": .string(from), "text": .string(text)])
        let end = time + chatLifetime
        lock.withLock {
            annotations.cues.append(.init(start: time, end: end, text: from.isEmpty ? text : "\(from): \(text)"))
            if chatFile == nil, !failed {
                let path = base + ".chat.vtt"
                chatFile = fopen(path, "w")
                if let chatFile { chatPath = path; fputs("WEBVTT\n\n", chatFile) }
            }
            guard let chatFile else { return }
            let voice = from.isEmpty ? "" : "<v \(RecordingRecord.escape(from))>"
            fputs("\(RecordingRecord.vttTime(time)) --> \(RecordingRecord.vttTime(end))\n\(voice)\(RecordingRecord.escape(text))\n\n", chatFile)
            fflush(chatFile)
        }
    }

    /// Closes the files; the chapters and cues for the final MP4.
    func close() -> RecordingAnnotations {
        lock.withLock {
            if let events { fclose(events); self.events = nil }
            if let chatFile { fclose(chatFile); self.chatFile = nil }
            return annotations
        }
    }

    static func vttTime(_ time: Microseconds) -> String {
        let ms = max(0, time / 1000)
        func pad(_ n: Int64, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(n).count)) + String(n) }
        return "\(pad(ms / 3_600_000, 2)):\(pad(ms / 60_000 % 60, 2)):\(pad(ms / 1000 % 60, 2)).\(pad(ms % 1000, 3))"
    }

    /// WebVTT cue text: `&`, `<` and `>` escaped, line breaks kept within the cue.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\n", "\r\n", "\r": out += " "
            default: out.append(c)
            }
        }
        return out
    }
}
