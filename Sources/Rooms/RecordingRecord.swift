import Codecs
import Layout
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// The record kept beside a recording `NAME.mp4`: `NAME.events.jsonl` (one JSON object per line, `t` in seconds on
/// the composite's timeline: joins, leaves, layouts, speakers, chat, keyframe waits, loss bursts), `NAME.chat.vtt`
/// (WebVTT, from the first chat message on), and the chapters and chat cues the final MP4 carries.
/// Callers on the network's event loop and the engine's thread only queue lines; the record's own thread writes and
/// flushes them one by one, so no caller waits on the disk and a crash keeps everything up to its moment. The queue
/// is bounded by bytes (a stalled disk drops lines and counts them, never grows memory without end).
/// `@unchecked Sendable`: every field is only touched under `lock`; the files only by the writer thread.
final class RecordingRecord: @unchecked Sendable {
    let eventsPath: String
    private(set) var chatPath: String?
    private let base: String
    private let lock = ConditionLock()
    /// An event is kept as its time and the rest of its JSON object, so a part's slice can place it on its own timeline.
    private enum Line { case event(time: Microseconds, rest: String), chat(String), part(number: Int, start: Microseconds) }
    private var pending: [Line] = []
    private var pendingBytes = 0
    static let maxPendingBytes = 1 << 20
    /// Lines dropped because the queue was full, and the time of the latest line asked for: the writer notes the
    /// loss in the file itself before closing it.
    private var droppedLines = 0
    private var latestTime: Microseconds = 0
    private var annotations = RecordingAnnotations()
    private let chatLifetime: Microseconds
    private var stopping = false, stopped = false

    init(recording: String, chatLifetime: Double) throws(MediaError) {
        base = RecordingSession.stem(recording)
        eventsPath = base + ".events.jsonl"
        self.chatLifetime = Microseconds(chatLifetime * 1_000_000)
        guard let file = fopen(eventsPath, "w") else {
            throw MediaError(.outputUnwritable, "cannot write the events file", underlying: String(cString: strerror(errno)), at: eventsPath)
        }
        let events = Handoff(file)
        do {
            try startThread(name: "events") { [self] in writeLines(events: events.take()) }
        } catch {
            fclose(file)
            lock.withLock { stopped = true }     // nothing to wait for in `close()`
            throw error
        }
    }

    deinit { _ = close() }

    private func writeLines(events: UnsafeMutablePointer<FILE>) {
        var chatFile: UnsafeMutablePointer<FILE>?
        var failed = false
        // The part in progress's slice of the events (parts only), its times from the part's start.
        var slice: (file: UnsafeMutablePointer<FILE>, start: Microseconds)?
        while let line = nextLine() {
            switch line {
            case let .part(number, start):
                if let slice { fclose(slice.file) }
                slice = fopen(RecordingRecord.slicePath(base, number), "w").map { ($0, start) }
            case let .event(time, rest):
                if !failed, fputs(RecordingRecord.line(time, rest), events) < 0 || fflush(events) != 0 { failed = true }
                if let slice { fputs(RecordingRecord.line(max(0, time - slice.start), rest), slice.file); fflush(slice.file) }
            case let .chat(text):
                if chatFile == nil, !failed {
                    let path = base + ".chat.vtt"
                    chatFile = fopen(path, "w")
                    if let chatFile { lock.withLock { chatPath = path }; fputs("WEBVTT\n\n", chatFile) }
                }
                if let chatFile { fputs(text, chatFile); fflush(chatFile) }
            }
        }
        let (dropped, time) = lock.withLock { (droppedLines, latestTime) }
        if dropped > 0, !failed {
            let line = JSONValue.object([("t", .number((Double(time) / 1000).rounded() / 1000)), ("event", .string("dropped")),
                                         ("lines", .number(Double(dropped))), ("reason", .string("the disk could not keep up"))]).serialized + "\n"
            fputs(line, events)
        }
        fclose(events)
        if let slice { fclose(slice.file) }
        if let chatFile { fclose(chatFile) }
        lock.withLock { stopped = true; lock.broadcast() }
    }

    private func nextLine() -> Line? {
        lock.withLock {
            while pending.isEmpty && !stopping { lock.wait() }
            guard !pending.isEmpty else { return nil }
            let line = pending.removeFirst()
            pendingBytes -= RecordingRecord.size(of: line)
            return line
        }
    }

    /// Queues a line for the writer thread (caller holds `lock`).
    private func enqueue(_ line: Line) {
        guard !stopping else { return }
        let size = RecordingRecord.size(of: line)
        guard pendingBytes + size <= RecordingRecord.maxPendingBytes else { droppedLines += 1; return }
        pending.append(line)
        pendingBytes += size
        lock.broadcast()
    }

    private static func size(of line: Line) -> Int {
        switch line {
        case let .event(_, text), let .chat(text): text.utf8.count + 16
        case .part: 16
        }
    }

    /// `{"t": seconds, …rest`.
    private static func line(_ time: Microseconds, _ rest: String) -> String {
        "{\"t\":" + JSONValue.number((Double(time) / 1000).rounded() / 1000).serialized + "," + rest
    }

    static func slicePath(_ base: String, _ number: Int) -> String {
        let digits = String(number)
        return "\(base)-part\(String(repeating: "0", count: max(0, 3 - digits.count)))\(digits).events.jsonl"
    }

    /// Parts: the events from `time` on also go to part `number`'s own events file, timed from its start.
    func beginPart(_ number: Int, at time: Microseconds) {
        lock.withLock {
            guard !stopping else { return }
            pending.append(.part(number: number, start: time))
            lock.broadcast()
        }
    }

    /// The chapters and captions between `start` and `end`, on a timeline that begins at `start` (a part's); the
    /// chapter in force at `start` opens it.
    func annotations(from start: Microseconds, to end: Microseconds) -> RecordingAnnotations {
        lock.withLock {
            var slice = RecordingAnnotations()
            if let opening = annotations.chapters.last(where: { $0.start <= start }) { slice.addChapter(at: 0, title: opening.title) }
            for chapter in annotations.chapters where chapter.start > start && chapter.start < end { slice.addChapter(at: chapter.start - start, title: chapter.title) }
            for cue in annotations.cues where cue.end > start && cue.start < end {
                slice.cues.append(.init(start: max(0, cue.start - start), end: min(end, cue.end) - start, text: cue.text))
            }
            return slice
        }
    }

    func write(_ kind: String, time: Microseconds, _ fields: [String: JSONValue]) {
        var entries: [(String, JSONValue)] = [("event", .string(kind))]
        entries += fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let rest = String(JSONValue.object(entries).serialized.dropFirst()) + "\n"
        lock.withLock {
            latestTime = max(latestTime, time)
            enqueue(.event(time: time, rest: rest))
            if kind == "layout" || kind == "recording", case let .object(layout)? = fields["layout"] {
                let title = layout.first { $0.0 == "name" }.flatMap { if case let .string(s) = $0.1 { s } else { nil } } ?? "layout"
                annotations.addChapter(at: time, title: title)
            }
            // A resumed recording gets a chapter where it goes on (the pause itself left nothing to show).
            if kind == "resume", case let .number(seconds)? = fields["paused_for"] {
                annotations.addChapter(at: time, title: "resumed after a pause of \(decimal(seconds, 1)) s")
            }
        }
    }

    /// A chat message at `time`: an event, a WebVTT cue and a cue of the MP4's text track.
    func chat(from: String, text: String, time: Microseconds) {
        write("chat", time: time, ["from": .string(from), "text": .string(text)])
        let end = time + chatLifetime
        let voice = from.isEmpty ? "" : "<v \(RecordingRecord.escape(from))>"
        let cue = "\(RecordingRecord.vttTime(time)) --> \(RecordingRecord.vttTime(end))\n\(voice)\(RecordingRecord.escape(text))\n\n"
        lock.withLock {
            annotations.cues.append(.init(start: time, end: end, text: from.isEmpty ? text : "\(from): \(text)"))
            enqueue(.chat(cue))
        }
    }

    /// Writes what is queued, closes the files (waiting for the writer thread: call off the cooperative pool) and
    /// returns the chapters and cues for the final MP4.
    func close() -> RecordingAnnotations {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while !stopped { lock.wait() }
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
