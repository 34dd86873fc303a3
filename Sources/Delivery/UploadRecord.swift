import Foundation

/// One file's way to the store, as the upload journal keeps it (`NAME.json` in the journal folder, rewritten
/// atomically at every step): a recorder killed at any moment finds at its next start what is left to do.
public struct UploadRecord: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Waiting for its turn, or for the store to come back.
        case pending
        case uploading
        /// Stored and checked: the object's size and checksum equal the local file's.
        case completed
        /// Refused by the store, or given up after retrying; the local file is kept.
        case failed
    }
    public var id: String
    public var file: String
    public var key: String
    public var recording: String
    public var room: String
    public var size: Int
    public var state: State = .pending
    /// The multipart upload under way and the parts the store confirmed.
    public var uploadID: String?
    public var parts: [S3Client.Part] = []
    public var partSize: Int
    public var attempts = 0
    public var lastError: String?
    public var etag: String?
    /// Seconds since 1970: queued, first failure of the current streak, done.
    public var created: Double
    public var failingSince: Double?
    public var finished: Double?
    /// Webhook URLs of its recording (besides the server's).
    public var webhooks: [String] = []
    /// The local file was removed once the upload was verified.
    public var localRemoved = false

    public init(id: String, file: String, key: String, recording: String, room: String, size: Int, partSize: Int, created: Double,
                webhooks: [String] = []) {
        self.id = id; self.file = file; self.key = key; self.recording = recording; self.room = room; self.size = size
        self.partSize = partSize; self.created = created; self.webhooks = webhooks
    }

    enum CodingKeys: String, CodingKey {
        case id, file, key, recording, room, size, state, parts, attempts, etag, created, webhooks
        case uploadID = "upload_id", partSize = "part_size", lastError = "last_error", failingSince = "failing_since"
        case finished, localRemoved = "local_removed"
    }
}

/// The journal's folder: one file per upload.
struct UploadJournal: Sendable {
    let folder: String

    func path(of id: String) -> String { "\(folder)/\(id).json" }

    func save(_ record: UploadRecord) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await DeliveryFiles.writeAtomically(Array(try encoder.encode(record)), to: path(of: record.id))
    }

    /// Every record, oldest first; unreadable files are skipped and named.
    func load() throws -> (records: [UploadRecord], unreadable: [String]) {
        var records: [UploadRecord] = [], unreadable: [String] = []
        for (name, bytes) in try DeliveryFiles.loadAll(in: folder) {
            if let record = try? JSONDecoder().decode(UploadRecord.self, from: Data(bytes)) { records.append(record) } else { unreadable.append(name) }
        }
        return (records.sorted { $0.created == $1.created ? $0.id < $1.id : $0.created < $1.created }, unreadable)
    }

    func remove(_ id: String) async { await DeliveryFiles.remove(path(of: id)) }
}
