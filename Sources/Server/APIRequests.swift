import FoundationEssentials
import Hummingbird
import Layout
import Rooms

// The JSON bodies the API accepts, one Decodable type each. A body is read by the strict parser first (syntax
// errors with their position, duplicate keys, depth), then decoded: a wrong type, a missing or an unknown field
// is a 400 that names the field.

/// `{"folder": NAME, "webhook_url": URL}` (optional body of POST /rooms/{room}/recording).
struct StartRecordingRequest: Decodable {
    var folder: String?
    /// Receives this recording's events besides the server's receivers.
    var webhookURL: String?
    /// Cut this recording into parts of at most so many seconds or MB (instead of the server's setting).
    var maxPartDuration: Double?, maxPartSize: Double?
    /// Also push this recording to an RTMP(S) server.
    var rtmpURL: String?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case folder, webhookURL = "webhook_url", maxPartDuration = "max_part_duration", maxPartSize = "max_part_size", rtmpURL = "rtmp_url"
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(CodingKeys.self)
        folder = try c.field(String.self, .folder)
        webhookURL = try c.field(String.self, .webhookURL)
        maxPartDuration = try c.field(Double.self, .maxPartDuration)
        maxPartSize = try c.field(Double.self, .maxPartSize)
        rtmpURL = try c.field(String.self, .rtmpURL)
        if let url = rtmpURL, !(url.hasPrefix("rtmp://") || url.hasPrefix("rtmps://")) || url.count > 2048 || url.contains(where: { $0.isWhitespace }) {
            throw RoomError(.invalid, "must be an rtmp:// or rtmps:// URL", field: "rtmp_url")
        }
        if let d = maxPartDuration, !(5...86_400).contains(d) { throw RoomError(.invalid, "must be 5 to 86400 seconds", field: "max_part_duration") }
        if let m = maxPartSize, !(1...1_000_000).contains(m) { throw RoomError(.invalid, "must be 1 to 1000000 MB", field: "max_part_size") }
        if let url = webhookURL {
            let scheme = url.hasPrefix("http://") ? 7 : url.hasPrefix("https://") ? 8 : 0
            guard scheme > 0, url.count > scheme, url.count <= 2048, !url.contains(where: { $0.isWhitespace }) else {
                throw RoomError(.invalid, "must be an http:// or https:// URL", field: "webhook_url")
            }
        }
    }
}

/// PATCH /rooms/{room}/participants/{id}: any of the settings.
struct ParticipantChange: Decodable {
    var name: String?, pin: Bool?, hide: Bool?, gain: Double?, mute: Bool?
    enum CodingKeys: String, CodingKey, CaseIterable { case name, pin, hide, gain, mute }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(CodingKeys.self)
        name = try c.field(String.self, .name)
        pin = try c.field(Bool.self, .pin)
        hide = try c.field(Bool.self, .hide)
        gain = try c.field(Double.self, .gain)
        mute = try c.field(Bool.self, .mute)
        if let name, !(1...64).contains(name.count) { throw RoomError(.invalid, "must be a string of 1-64 characters", field: "name") }
        if let gain, !(0...4).contains(gain) { throw RoomError(.invalid, "must be a number from 0 to 4", field: "gain") }
    }
}

/// POST /rooms/{room}/chat.
struct ChatRequest: Decodable {
    var from: String, text: String
    enum CodingKeys: String, CodingKey, CaseIterable { case from, text }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(CodingKeys.self)
        from = try c.field(String.self, .from) ?? ""
        text = try c.decode(String.self, forKey: .text)
        if from.count > 64 { throw RoomError(.invalid, "must be a string of 0-64 characters", field: "from") }
        if !(1...2000).contains(text.count) { throw RoomError(.invalid, "must be a string of 1-2000 characters", field: "text") }
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// The body's object, with any field not in `keys` refused: a misspelt setting must not be ignored.
    func strictContainer<Key: CodingKey & CaseIterable>(_ keys: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let all = try container(keyedBy: AnyKey.self)
        let known = Set(Key.allCases.map(\.stringValue))
        if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw RoomError(.invalid, "unknown field", field: unknown.stringValue)
        }
        return try container(keyedBy: Key.self)
    }
}

extension KeyedDecodingContainer {
    /// An optional field: absent is nil, but present it must have the type (`null` is not a value for it).
    func field<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        contains(key) ? try decode(T.self, forKey: key) : nil
    }
}

/// Reads `request`'s JSON body (415 unless JSON, 413 past `limit`) as a `T`, or a 400 naming the field at fault.
func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T {
    let bytes = try await jsonBody(request, limit: limit)
    do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch let error as DecodingError {
        throw RoomError(.invalid, RequestDecoding.reason(error), field: RequestDecoding.field(error))
    }
}

enum RequestDecoding {
    static func reason(_ error: DecodingError) -> String {
        switch error {
        case let .typeMismatch(type, context):
            if context.codingPath.isEmpty { return "the body must be a JSON object" }
            return "must be " + (type == Bool.self ? "true or false" : type == String.self ? "a string" : type == Double.self ? "a number" : "\(type)")
        case .valueNotFound: return "must not be null"
        case .keyNotFound: return "is required"
        case let .dataCorrupted(context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }

    /// The field as `a.b[2].c`, nil for the body itself.
    static func field(_ error: DecodingError) -> String? {
        var path: [any CodingKey]
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): path = context.codingPath
        case let .keyNotFound(key, context): path = context.codingPath + [key]
        @unknown default: path = []
        }
        guard !path.isEmpty else { return nil }
        return path.enumerated().map { i, key in key.intValue.map { "[\($0)]" } ?? (i == 0 ? key.stringValue : "." + key.stringValue) }.joined()
    }
}
