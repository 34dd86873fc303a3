import Codecs
import Compositor
import Layout
import MediaCore

/// The steering of a recording read back from its events file (`NAME.events.jsonl`), so a re-render from the
/// per-participant tracks follows the same timeline: layouts, pins, hides, gains, mutes and chat, at their times.
/// Participants are matched by name (a re-render names its inputs after them).
public struct RecordedEvents: Sendable {
    public enum Change: Sendable {
        case layout(LayoutDocument)
        case participant(name: String, settings: ParticipantSettings)
        case chat(from: String, text: String)
    }
    public var changes: [(time: Microseconds, change: Change)] = []

    public init() {}

    /// Reads an events file; a line that is not an event of ours is an error naming its line.
    public static func parse(_ bytes: [UInt8], path: String) throws(MediaError) -> RecordedEvents {
        var events = RecordedEvents()
        var names: [String: String] = [:]
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) else { continue }
            let at = "\(path): line \(index + 1)"
            let value: JSONValue
            do { value = try JSONParser.parse(Array(line)) } catch { throw MediaError(.invalidArgument, "not JSON: \(error.description)", at: at) }
            guard case let .string(kind)? = value["event"], case let .number(seconds)? = value["t"], seconds >= 0, seconds < 1e7 else {
                throw MediaError(.invalidArgument, "an event needs \"event\" and \"t\" (seconds)", at: at)
            }
            let time = Microseconds((seconds * 1_000_000).rounded())
            func string(_ key: String) -> String? { if case let .string(s)? = value[key] { s } else { nil } }
            func bool(_ key: String) -> Bool { if case let .bool(b)? = value[key] { b } else { false } }
            switch kind {
            case "join":
                if let id = string("participant"), let name = string("name") { names[id] = name }
            case "recording", "layout":
                guard let layout = value["layout"], layout != .null else { continue }
                do { events.changes.append((time, .layout(try LayoutParser.parse(json: layout)))) } catch {
                    throw MediaError(.invalidLayout, error.message, at: "\(at): layout.\(error.location ?? "")")
                }
            case "participant":
                guard let id = string("participant") else { continue }
                let name = string("name").map { names[id] ?? $0 } ?? names[id] ?? id
                var settings = ParticipantSettings(name: name)
                settings.pinned = bool("pinned"); settings.hidden = bool("hidden"); settings.muted = bool("muted")
                if case let .number(gain)? = value["gain"] { settings.gain = Float(max(0, min(4, gain))) }
                events.changes.append((time, .participant(name: name, settings: settings)))
            case "chat":
                events.changes.append((time, .chat(from: string("from") ?? "", text: string("text") ?? "")))
            default:
                continue            // leaves, speakers, loss and keyframe notes: facts, not steering
            }
        }
        events.changes.sort { $0.time < $1.time }
        return events
    }

    /// Chapters at the layout changes, and the chat cues, for the re-rendered MP4.
    public func annotations(chatLifetime: Double) -> RecordingAnnotations {
        var annotations = RecordingAnnotations()
        for (time, change) in changes {
            switch change {
            case let .layout(layout):
                annotations.addChapter(at: time, title: layout.name ?? "layout")
            case let .chat(from, text):
                annotations.cues.append(.init(start: time, end: time + Microseconds(chatLifetime * 1_000_000), text: from.isEmpty ? text : "\(from): \(text)"))
            case .participant:
                break
            }
        }
        return annotations
    }

    /// Schedules every change on a paced engine.
    func schedule(on engine: CompositionEngine) {
        for (time, change) in changes {
            switch change {
            case let .layout(layout):
                engine.schedule(at: time) { $0.apply(layout) }
            case let .participant(name, settings):
                engine.schedule(at: time) { engine in
                    guard let source = engine.sources.first(where: { $0.descriptor.name == name }) else { return }
                    let id = source.descriptor.id
                    source.gain = settings.gain
                    source.muted = settings.muted
                    if settings.hidden { engine.hidden.insert(id) } else { engine.hidden.remove(id) }
                    if settings.pinned { engine.pinned = id } else if engine.pinned == id { engine.pinned = nil }
                }
            case let .chat(from, text):
                engine.schedule(at: time) { engine in
                    for case let chat as ChatOverlay in engine.overlays { chat.add(ChatOverlay.Message(from: from, text: text, time: time)) }
                }
            }
        }
    }
}
