import Delivery
import FoundationEssentials
import Rooms

/// GET /recordings/{id}: a recording on disk, its files and how each went to the store.
struct RecordingBody: Encodable {
    struct File: Encodable { var name: String, size: Int64, kind: String, url: String }
    struct Upload: Encodable {
        var file: String, key: String, state: String, error: String?
        enum CodingKeys: String, CodingKey { case file, key, state, error }
    }
    var id: String, room: String, folder: String, recording: Bool, hls: Bool
    var started: Double?, ended: Double?, duration: Double?
    var size: Int64
    var participants: [String]
    var files: [File]
    var uploads: [Upload]

    init(_ entry: RecordingCatalog.Entry, uploads all: [UploadRecord]) {
        id = entry.id; room = entry.room; folder = entry.folder; recording = entry.recording; hls = entry.hls
        started = entry.started; ended = entry.ended; duration = entry.duration
        size = entry.bytes; participants = entry.participants
        files = entry.files.map { File(name: $0.name, size: $0.size, kind: $0.kind, url: "/recordings/\(entry.id)/files/\($0.name)") }
        uploads = all.filter { $0.recording == entry.id }.map {
            Upload(file: String($0.file.split(separator: "/").last ?? ""), key: $0.key, state: $0.state.rawValue, error: $0.state == .failed ? $0.lastError : nil)
        }
    }
}

struct RecordingListBody: Encodable { var recordings: [RecordingBody] }

/// POST /recordings/{id}/links: `{"expires_in": seconds}` (default an hour, at most a week).
struct LinkRequest: Decodable {
    var expiresIn: Int64?
    enum CodingKeys: String, CodingKey, CaseIterable { case expiresIn = "expires_in" }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(CodingKeys.self)
        expiresIn = try c.field(Int64.self, .expiresIn)
        if let seconds = expiresIn, !(1...604_800).contains(seconds) { throw RoomError(.invalid, "must be 1 to 604800 seconds", field: "expires_in") }
    }
}

/// Signed links to each of a recording's files, valid until `expires` (seconds since 1970), no token needed.
struct LinksBody: Encodable {
    struct Link: Encodable { var name: String, url: String }
    var expires: Int64
    var files: [Link]
}
