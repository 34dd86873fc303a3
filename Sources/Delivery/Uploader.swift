import Crypto
import Foundation
import Logging
import Metrics

/// Uploads finished files to the store, one at a time, in the order they were finished. Every step is in the
/// journal first, so a recorder killed mid-upload resumes it at the next start (the parts the store confirmed are
/// not sent again). A store that cannot be reached is retried with backoff; one that refuses (credentials,
/// permissions, no such bucket) fails the upload at once. Either way the local file stays until the stored object is
/// verified (its size, and its checksum where the store's ETag is one), and recording never waits for any of this.
public actor Uploader {
    public struct Settings: Sendable {
        /// Remove the local file once its upload is verified.
        public var removeAfterUpload = false
        /// Bytes per second at most (so an upload leaves the media its bandwidth); nil: as fast as the store takes.
        public var maxRate: Int?
        /// Give up on a store that stays unreachable this long (seconds).
        public var retryFor: Double = 86_400
        /// Journal entries of completed uploads are kept this long (seconds) for the API.
        public var keepCompleted: Double = 7 * 86_400
        public init() {}
    }
    public enum Outcome: Sendable { case completed(UploadRecord), failed(UploadRecord) }

    public nonisolated let client: S3Client
    let journal: UploadJournal
    let settings: Settings
    let onOutcome: @Sendable (Outcome) -> Void
    let logger = Logger(label: "mcu-record.upload")
    private var records: [String: UploadRecord] = [:]
    private var queue: [String] = []
    private var failures: [String: Int] = [:]
    private var worker: Task<Void, Never>?
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    public init(client: S3Client, journalFolder: String, settings: Settings, onOutcome: @escaping @Sendable (Outcome) -> Void) {
        self.client = client
        self.journal = UploadJournal(folder: journalFolder)
        self.settings = settings
        self.onOutcome = onOutcome
    }

    /// Reads the journal and takes up what an earlier run left unfinished (failed uploads are tried again too).
    public func start() throws {
        let (loaded, unreadable) = try journal.load()
        for name in unreadable { logger.warning("unreadable upload journal entry skipped", metadata: ["file": "\(journal.folder)/\(name)"]) }
        let now = Date().timeIntervalSince1970
        for record in loaded {
            if record.state == .completed, now - (record.finished ?? now) > settings.keepCompleted {
                Task { await journal.remove(record.id) }
                continue
            }
            records[record.id] = record
            if record.state != .completed {
                queue.append(record.id)
                logger.info("upload taken up again", metadata: ["file": "\(record.file)", "key": "\(record.key)", "parts stored": "\(record.parts.count)"])
            }
        }
        publishCounts()
        wake()
    }

    /// Queues a finished file for upload as `key`.
    public func enqueue(file: String, key: String, recording: String, room: String, webhooks: [String] = []) async {
        var id = String(SigV4.encode(key).replacingOccurrences(of: "%", with: "_").suffix(200))
        while records[id] != nil { id += "_" }
        let record = UploadRecord(id: id, file: file, key: key, recording: recording, room: room, size: DeliveryFiles.size(file) ?? 0,
                                  partSize: client.configuration.partSize, created: Date().timeIntervalSince1970, webhooks: webhooks)
        records[id] = record
        do { try await journal.save(record) } catch {
            logger.error("cannot write the upload journal (the upload goes on, but a restart would not take it up)", metadata: ["error": "\(error)"])
        }
        queue.append(id)
        publishCounts()
        wake()
    }

    /// Every upload the journal knows, oldest first.
    public var all: [UploadRecord] { records.values.sorted { $0.created == $1.created ? $0.id < $1.id : $0.created < $1.created } }

    /// Waits until nothing is left to upload, or `timeout` seconds; true when nothing is left.
    public func waitUntilIdle(timeout: Double) async -> Bool {
        if worker == nil { return true }
        let deadline = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
            await self?.releaseWaiters()
        }
        await withCheckedContinuation { idleWaiters.append($0) }
        deadline.cancel()
        return worker == nil
    }

    private func releaseWaiters() {
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func wake() {
        guard worker == nil, !queue.isEmpty else { return }
        worker = Task { await run() }
    }

    private func run() async {
        while let id = queue.first {
            if await attempt(id) {
                queue.removeFirst()
                failures[id] = nil
            } else {
                let streak = failures[id, default: 0] + 1
                failures[id] = streak
                try? await Task.sleep(nanoseconds: UInt64(min(30, 0.5 * pow(2, Double(streak - 1))) * 1e9))
            }
        }
        worker = nil
        releaseWaiters()
    }

    /// One try at an upload: true when it is over (completed or failed for good), false to try again later.
    private func attempt(_ id: String) async -> Bool {
        guard var record = records[id] else { return true }
        record.state = .uploading
        record.attempts += 1
        await save(record)
        do {
            guard let size = DeliveryFiles.size(record.file) else { throw S3Error(status: 0, code: "LocalFileMissing", message: "the local file \(record.file) is gone") }
            record.size = size
            let etag = size <= record.partSize ? try await putWhole(&record) : try await putInParts(&record)
            try await verify(record, etag: etag)
            record.state = .completed
            record.etag = etag
            record.lastError = nil
            record.failingSince = nil
            record.finished = Date().timeIntervalSince1970
            if settings.removeAfterUpload, unlink(record.file) == 0 { record.localRemoved = true }
            await save(record)
            logger.info("uploaded", metadata: ["file": "\(record.file)", "to": "\(client.configuration.location(of: record.key))", "bytes": "\(size)"])
            onOutcome(.completed(record))
            return true
        } catch let error as S3Error where error.isTransient && error.code != "LocalFileMissing" {
            let now = Date().timeIntervalSince1970
            record.state = .pending
            record.lastError = error.description
            record.failingSince = record.failingSince ?? now
            if now - record.failingSince! >= settings.retryFor {
                return await fail(&record, "gave up after \(Int(settings.retryFor)) s of failures: \(error)")
            }
            await save(record)
            logger.warning("upload failed, will retry", metadata: ["file": "\(record.file)", "error": "\(error)"])
            return false
        } catch {
            return await fail(&record, "\(error)")
        }
    }

    private func fail(_ record: inout UploadRecord, _ reason: String) async -> Bool {
        record.state = .failed
        record.lastError = reason
        record.finished = Date().timeIntervalSince1970
        await save(record)
        logger.error("upload failed; the local file is kept", metadata: ["file": "\(record.file)", "reason": "\(reason)"])
        onOutcome(.failed(record))
        return true
    }

    private func save(_ record: UploadRecord) async {
        records[record.id] = record
        publishCounts()
        do { try await journal.save(record) } catch {
            logger.error("cannot write the upload journal", metadata: ["error": "\(error)"])
        }
    }

    private func publishCounts() {
        var counts: [UploadRecord.State: Int] = [.pending: 0, .uploading: 0, .completed: 0, .failed: 0]
        for record in records.values { counts[record.state, default: 0] += 1 }
        for (state, count) in counts { Gauge(label: "mcu_uploads", dimensions: [("state", state.rawValue)]).record(count) }
    }

    private func putWhole(_ record: inout UploadRecord) async throws -> String {
        let bytes = try await DeliveryFiles.read(record.file, offset: 0, count: record.size)
        let etag = try await client.put(key: record.key, bytes: bytes)
        Counter(label: "mcu_upload_bytes_total").increment(by: bytes.count)
        return etag
    }

    private func putInParts(_ record: inout UploadRecord) async throws -> String {
        let count = (record.size + record.partSize - 1) / record.partSize
        func expectedSize(_ number: Int) -> Int { min(record.partSize, record.size - (number - 1) * record.partSize) }
        if let uploadID = record.uploadID {
            // Keep only the parts both the store and the journal know, of the right size: they need not go again.
            if let stored = try await client.listPartsIfAny(key: record.key, uploadID: uploadID) {
                let known = Dictionary(record.parts.map { ($0.number, $0.etag) }, uniquingKeysWith: { a, _ in a })
                record.parts = stored.filter { known[$0.number] == $0.etag && $0.size == expectedSize($0.number) && $0.number <= count }
                logger.info("resuming upload", metadata: ["file": "\(record.file)", "parts stored": "\(record.parts.count) of \(count)"])
            } else {
                logger.warning("the store no longer has the unfinished upload: starting it again", metadata: ["file": "\(record.file)"])
                record.uploadID = nil
            }
        }
        if record.uploadID == nil {
            record.uploadID = try await client.createMultipart(key: record.key)
            record.parts = []
            await save(record)
        }
        let uploadID = record.uploadID!
        let started = Date()
        var sent = 0
        for number in 1...count where !record.parts.contains(where: { $0.number == number }) {
            let bytes = try await DeliveryFiles.read(record.file, offset: (number - 1) * record.partSize, count: expectedSize(number))
            let part = try await client.uploadPart(key: record.key, uploadID: uploadID, number: number, bytes: bytes)
            record.parts.append(part)
            await save(record)
            Counter(label: "mcu_upload_bytes_total").increment(by: bytes.count)
            sent += bytes.count
            if let rate = settings.maxRate {
                let due = Double(sent) / Double(rate) - Date().timeIntervalSince(started)
                if due > 0 { try? await Task.sleep(nanoseconds: UInt64(due * 1e9)) }
            }
        }
        guard let etag = try await client.completeIfAny(key: record.key, uploadID: uploadID, parts: record.parts) else {
            record.uploadID = nil
            record.parts = []
            throw S3Error(status: 0, code: "NoSuchUpload", message: "the store lost the unfinished upload: sending it again")
        }
        return etag
    }

    /// The stored object is the local file: same size, and the same checksum where the store's ETag is one (an MD5,
    /// or for a multipart object the MD5 of the parts' MD5s; not under KMS encryption).
    private func verify(_ record: UploadRecord, etag: String) async throws {
        guard let stored = try await client.head(key: record.key) else {
            throw S3Error(status: 0, code: "NotStored", message: "the store does not show the object after the upload")
        }
        guard stored.size == record.size else {
            throw S3Error(status: 500, code: "SizeMismatch", message: "the stored object has \(stored.size) bytes, the local file \(record.size)")
        }
        guard client.configuration.serverSideEncryption != "aws:kms" else { return }
        let expected: String
        if record.uploadID != nil, record.size > record.partSize {
            var joined: [UInt8] = []
            for part in record.parts.sorted(by: { $0.number < $1.number }) { joined += Uploader.bytes(hex: part.etag) }
            expected = SigV4.hex(Insecure.MD5.hash(data: joined)) + "-\(record.parts.count)"
        } else {
            expected = SigV4.hex(Insecure.MD5.hash(data: try await DeliveryFiles.read(record.file, offset: 0, count: record.size)))
        }
        let trimmed = stored.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard trimmed == expected else {
            throw S3Error(status: 500, code: "ChecksumMismatch", message: "the stored object's ETag is \(trimmed), the local file's \(expected)")
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8.filter { $0 != UInt8(ascii: "\"") })
        func value(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48 }
        return stride(from: 0, to: digits.count - 1, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
    }
}
