import Foundation
import Logging
import MediaCore
import Rooms
import Synchronization

/// What delivery is configured to do.
public struct DeliveryConfiguration: Sendable {
    /// The upload journal and the webhook outbox live here (`RECORDINGS/.delivery`).
    public var stateFolder: String
    /// The recordings folder: object keys are the files' paths under it, after the store's prefix.
    public var recordings: String
    public var s3: S3Configuration?
    public var uploads = Uploader.Settings()
    /// Also upload each recording's events file, chat transcript and track files.
    public var uploadExtras = false
    public var webhooks: [String] = []
    public var webhookSecret: String?
    /// Local recordings older than this many days are removed (once uploaded, when there is a store); nil: kept.
    public var retentionDays: Double?
    public init(stateFolder: String, recordings: String) { self.stateFolder = stateFolder; self.recordings = recordings }
}

/// Turns room events into webhooks and finished recordings into uploads (whose outcomes are webhooks too), in the
/// order they happened. Room events are only handed over (`observe` never waits); the rest runs in its own task.
public final class DeliveryService: Sendable {
    enum Job: Sendable { case room(RoomEvent), upload(Uploader.Outcome), recovered(path: String, duration: Double) }

    public let configuration: DeliveryConfiguration
    public let uploader: Uploader?
    public let outbox: WebhookOutbox?
    public let catalog: RecordingCatalog
    public let links: SignedLinks
    private let jobs: AsyncStream<Job>.Continuation
    private let stream: AsyncStream<Job>
    private let logger = Logger(label: "mcu-record.delivery")
    /// Per-recording webhook receivers, and the recordings already told finished (a failure is told once).
    private let recordings = Mutex<(webhooks: [String: [String]], finished: Set<String>, started: [String: Double])>(([:], [], [:]))
    /// Jobs handed over and not yet handled (upload outcomes included: a shutdown waits for their webhooks too).
    private let queued = JobCount()
    final class JobCount: Sendable { let value = Mutex(0) }

    public init(configuration: DeliveryConfiguration) throws {
        self.configuration = configuration
        (stream, jobs) = AsyncStream.makeStream(of: Job.self)
        var signer: WebhookSigner?
        if let secret = configuration.webhookSecret {
            guard let parsed = WebhookSigner(secret: secret) else {
                throw DeliveryError("the webhook secret must be base64, optionally after whsec_ (as Standard Webhooks secrets are)")
            }
            signer = parsed
        }
        outbox = WebhookOutbox(folder: configuration.stateFolder + "/outbox", signer: signer)
        catalog = RecordingCatalog(root: configuration.recordings)
        links = try SignedLinks.load(at: configuration.stateFolder + "/link-signing.key")
        if let s3 = configuration.s3 {
            let jobs = self.jobs, queued = self.queued
            uploader = Uploader(client: S3Client(configuration: s3), journalFolder: configuration.stateFolder + "/uploads",
                                settings: configuration.uploads, onOutcome: { outcome in
                queued.value.withLock { $0 += 1 }
                jobs.yield(.upload(outcome))
            })
        } else {
            uploader = nil
        }
    }

    /// Takes up what an earlier run left (uploads, undelivered webhooks) and starts handling events.
    public func start() async throws {
        do {
            try await outbox?.start()
            try await uploader?.start()
        } catch {
            throw DeliveryError("cannot use the delivery folder \(configuration.stateFolder): \(error)")
        }
        let stream = self.stream
        Task { for await job in stream { await self.handle(job) } }
        if let days = configuration.retentionDays {
            Task {
                while !Task.isCancelled {
                    await self.applyRetention(days: days)
                    try? await Task.sleep(nanoseconds: 3_600_000_000_000)
                }
            }
        }
    }

    /// Removes local recordings older than `days` (by their end, else their newest file) that are not being written
    /// and, with a store, whose every upload completed.
    public func applyRetention(days: Double) async {
        let catalog = self.catalog, limit = Date().timeIntervalSince1970 - days * 86_400
        let old = await offPool("retention") { catalog.all().filter { !$0.recording && ($0.ended ?? $0.modified) < limit } }
        let uploads = await uploader?.all ?? []
        for entry in old {
            if uploader != nil {
                let mine = uploads.filter { $0.recording == entry.id }
                guard !mine.isEmpty, mine.allSatisfy({ $0.state == .completed }) else {
                    logger.warning("kept past retention: not uploaded yet", metadata: ["recording": "\(entry.id)"])
                    continue
                }
            }
            do {
                try await offPool("retention") { try catalog.delete(entry.id) }
                logger.info("removed after the retention period", metadata: ["recording": "\(entry.id)", "days": "\(days)"])
            } catch {
                logger.warning("cannot remove a recording past retention", metadata: ["recording": "\(entry.id)", "error": "\(error)"])
            }
        }
    }

    /// Hands a room event over (returns at once).
    public func observe(_ event: RoomEvent) {
        queued.value.withLock { $0 += 1 }
        jobs.yield(.room(event))
    }

    /// A recording an earlier run left unfinished, recovered at this start: told finished and uploaded.
    public func recovered(path: String, duration: Double) {
        queued.value.withLock { $0 += 1 }
        jobs.yield(.recovered(path: path, duration: duration))
    }

    /// Waits (at most `timeout` seconds) until every event is handled, every upload done and every webhook delivered.
    /// What is left stays in the journal and the outbox for the next start. True when nothing is left.
    public func drain(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            // Events first (they queue uploads), then uploads (their outcomes queue webhooks), then the webhooks.
            let jobs = queued.value.withLock { $0 }
            let uploading = jobs == 0 ? !(await uploader?.waitUntilIdle(timeout: max(0, deadline.timeIntervalSinceNow)) ?? true) : true
            let sending = await !(outbox?.pending.isEmpty ?? true)
            if jobs == 0, !uploading, !sending, queued.value.withLock({ $0 }) == 0 { return true }
            guard Date() < deadline else { return false }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    private func handle(_ job: Job) async {
        defer { queued.value.withLock { $0 -= 1 } }
        switch job {
        case let .room(event): await handle(event)
        case let .recovered(path, duration):
            let id = RoomDirectory.recordingID(of: path)
            let room = String(id.split(separator: "-").dropLast().joined(separator: "-"))
            await post("recording.finished", recording: id, [("recording_id", q(id)), ("room", q(room)), ("file", q(path)), ("status", q("recovered")),
                                                            ("duration", String(duration))])
            await upload([path], recording: id, room: room)
        case let .upload(.completed(record)):
            await post("upload.completed", recording: record.recording, extra: record.webhooks,
                       [("recording_id", q(record.recording)), ("room", q(record.room)), ("file", q(record.file)), ("bucket", q(configuration.s3?.bucket ?? "")),
                        ("key", q(record.key)), ("location", q(configuration.s3?.location(of: record.key) ?? "")), ("bytes", String(record.size)),
                        ("etag", q(record.etag ?? "")), ("local_removed", String(record.localRemoved))])
        case let .upload(.failed(record)):
            await post("upload.failed", recording: record.recording, extra: record.webhooks,
                       [("recording_id", q(record.recording)), ("room", q(record.room)), ("file", q(record.file)), ("key", q(record.key)),
                        ("error", q(record.lastError ?? "")), ("attempts", String(record.attempts))])
        }
    }

    private func handle(_ event: RoomEvent) async {
        switch event {
        case let .recordingStarted(room, recording, path, webhooks):
            recordings.withLock { $0.webhooks[recording] = webhooks; $0.started[recording] = Date().timeIntervalSince1970 }
            await post("recording.started", recording: recording, [("recording_id", q(recording)), ("room", q(room)), ("file", q(path))])
        case let .recordingFinished(room, recording, path, summary, error):
            guard recordings.withLock({ $0.finished.insert(recording).inserted }) else { return }
            var data = [("recording_id", q(recording)), ("room", q(room)), ("file", q(summary?.recording.path ?? path)),
                        ("status", q(error == nil ? "completed" : "failed"))]
            if let summary {
                data += [("duration", String(Double(summary.recording.duration) / 1e6)), ("bytes", String(summary.recording.bytes)),
                         ("events", summary.events.map(q) ?? "null"), ("chat", summary.chat.map(q) ?? "null")]
            }
            if let error { data.append(("error", q(error + " (what was written is recovered at the next start)"))) }
            if let parts = summary?.parts, !parts.isEmpty {
                data.append(("parts", "[" + parts.map { "{\"number\":\($0.number),\"file\":\(q($0.path)),\"start\":\(Double($0.start) / 1e6),"
                    + "\"duration\":\(Double($0.duration) / 1e6),\"bytes\":\($0.bytes)}" }.joined(separator: ",") + "]"))
            }
            await post("recording.finished", recording: recording, data)
            if let summary { await writeMetadata(room: room, recording: recording, summary: summary) }
            if let summary {
                // Parts went up as each was ready.
                var files = summary.parts.isEmpty ? [summary.recording.path] : []
                if let audio = summary.audioFile { files.append(audio) }
                if configuration.uploadExtras {
                    files += [summary.events, summary.chat].compactMap { $0 } + summary.tracks.map(\.path)
                    // The HLS stream, a VOD now: its playlist last, so a player that finds it finds every segment.
                    let hls = (summary.recording.path as NSString).deletingLastPathComponent + "/" + recording + ".hls"
                    let names = ((try? FileManager.default.contentsOfDirectory(atPath: hls)) ?? []).filter { !$0.hasSuffix(".tmp") }.sorted()
                    files += names.filter { $0 != "index.m3u8" }.map { hls + "/" + $0 } + (names.contains("index.m3u8") ? [hls + "/index.m3u8"] : [])
                }
                await upload(files, recording: recording, room: room)
            }
        case let .partReady(room, recording, part):
            var data = [("recording_id", q(recording)), ("room", q(room)), ("part", String(part.number)), ("file", q(part.path)),
                        ("start", String(Double(part.start) / 1e6)), ("duration", String(Double(part.duration) / 1e6)), ("bytes", String(part.bytes))]
            if let error = part.error { data.append(("error", q(error + " (what was written is recovered at the next start)"))) }
            await post("recording.part_ready", recording: recording, data)
            if part.error == nil {
                var files = [part.path]
                let slice = String(part.path.dropLast(4)) + ".events.jsonl"
                if configuration.uploadExtras { files.append(slice) }
                await upload(files, recording: recording, room: room)
            }
        case let .participantJoined(room, recording, participant, name):
            await post("participant.joined", recording: recording, [("room", q(room)), ("recording_id", recording.map(q) ?? "null"),
                                                                     ("participant_id", q(participant)), ("name", q(name))])
        case let .participantLeft(room, recording, participant, name, reason):
            await post("participant.left", recording: recording, [("room", q(room)), ("recording_id", recording.map(q) ?? "null"),
                                                                   ("participant_id", q(participant)), ("name", q(name)), ("reason", q(reason))])
        case let .roomFinished(room):
            await post("room.finished", recording: nil, [("room", q(room))])
        }
    }

    /// `NAME.meta.json` beside the recording: what the recordings API lists.
    private func writeMetadata(room: String, recording: String, summary: LiveRecordingSummary) async {
        let ended = Date().timeIntervalSince1970, duration = Double(summary.recording.duration) / 1e6
        let started = recordings.withLock { $0.started.removeValue(forKey: recording) } ?? ended - duration
        let names = Array(Set(summary.participants.map(\.name))).sorted()
        let body = "{\"id\":\(q(recording)),\"room\":\(q(room)),\"started\":\(started),\"ended\":\(ended),\"duration\":\(duration),"
            + "\"bytes\":\(summary.recording.bytes),\"parts\":\(summary.parts.count),\"participants\":[\(names.map(q).joined(separator: ","))]}\n"
        let folder = (summary.recording.path as NSString).deletingLastPathComponent
        do { try await DeliveryFiles.writeAtomically(Array(body.utf8), to: folder + "/" + recording + ".meta.json") } catch {
            logger.warning("cannot write the recording's metadata", metadata: ["recording": "\(recording)", "error": "\(error)"])
        }
    }

    private func upload(_ files: [String], recording: String, room: String) async {
        guard let uploader, let s3 = configuration.s3 else { return }
        let webhooks = recordings.withLock { $0.webhooks[recording] } ?? []
        for file in files where FileManager.default.fileExists(atPath: file) {
            await uploader.enqueue(file: file, key: s3.prefix + objectName(of: file), recording: recording, room: room, webhooks: webhooks)
        }
    }

    /// The file's path under the recordings folder (its name when it is elsewhere, like track files).
    func objectName(of file: String) -> String {
        let root = configuration.recordings.hasSuffix("/") ? configuration.recordings : configuration.recordings + "/"
        if file.hasPrefix(root) { return String(file.dropFirst(root.count)) }
        return String(file.split(separator: "/").last ?? Substring(file))
    }

    private func post(_ type: String, recording: String?, extra: [String] = [], _ data: [(String, String)]) async {
        let perRecording = recording.flatMap { id in recordings.withLock { $0.webhooks[id] } } ?? []
        let urls = configuration.webhooks + perRecording + extra
        guard let outbox, !urls.isEmpty else { return }
        await outbox.post(type: type, data: data, to: urls)
    }

    private func q(_ text: String) -> String { WebhookOutbox.quote(text) }
}

public struct DeliveryError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
