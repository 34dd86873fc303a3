import Foundation
import MediaCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Delivery against real servers: moto's S3 server (signatures checked against IAM keys), a webhook receiver that
/// verifies with the `standardwebhooks` package, the network to the store cut, the recorder killed.
@Suite(.serialized, .timeLimit(.minutes(10))) struct DeliveryTests {
    static func journal(_ folder: String) -> [[String: Any]] {
        let uploads = folder + "/.delivery/uploads"
        return ((try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? []).filter { $0.hasSuffix(".json") }.compactMap {
            FileManager.default.contents(atPath: uploads + "/" + $0).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
    }

    /// Waits (at most `seconds`) until the journal entry of the `.mp4` satisfies `condition`; the entry then.
    static func waitForUpload(_ folder: String, within seconds: Double, _ condition: ([String: Any]) -> Bool) async throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let entry = journal(folder).first(where: { ($0["file"] as? String)?.hasSuffix(".mp4") == true }), condition(entry) { return entry }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return nil
    }

    static func newSecret() -> String {
        "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// A 3-minute recording goes up in parts; the network to the store is cut mid-upload (retried, completed after
    /// it is back); the recorder is killed mid-upload (the next start completes it without sending stored parts
    /// again). The stored object is the local file, byte for byte, encrypted at rest as asked.
    @Test func threeMinuteRecordingIsUploadedThroughAnOutageAndAKill() async throws {
        let moto = try MotoServer(auth: true)
        defer { moto.stop() }
        let gate = try TCPGate(to: moto.port)
        defer { gate.cut() }
        let folder = Paths.temporary("upload-\(UInt32.random(in: 0...UInt32.max))")
        let credentialsFile = Paths.temporary("credentials-\(UInt32.random(in: 0...UInt32.max))")
        let credentials = try moto.setup(bucket: "calls", credentialsFile: credentialsFile)
        let store = ["--output", folder, "--s3-bucket", "calls", "--s3-endpoint", "http://127.0.0.1:\(gate.port)", "--s3-path-style",
                     "--s3-credentials", credentialsFile, "--s3-prefix", "rec/", "--s3-sse", "AES256", "--upload-part-size", "256K"]
        let room = try RoomProcess(room: "long", extra: store + ["--upload-max-rate", "96K"])
        defer { room.process.stopIfRunning() }
        let publisher = try publishPattern(room, "Ada", room: "long", colour: "d04030", seconds: 200)
        defer { publisher.terminate() }
        _ = try await waitForParticipants(room, "long", count: 1)
        try await Task.sleep(nanoseconds: 180_000_000_000)
        kill(room.process.processIdentifier, SIGINT)

        // Two parts stored, then the network to the store is cut: the upload waits and retries.
        let before = try #require(try await DeliveryTests.waitForUpload(folder, within: 60) { ($0["parts"] as? [Any])?.count ?? 0 >= 2 },
                                  "no parts uploaded: \(DeliveryTests.journal(folder))")
        gate.cut()
        let failing = try await DeliveryTests.waitForUpload(folder, within: 20) { ($0["last_error"] as? String)?.contains("cannot reach the store") == true }
        #expect(failing != nil, "the cut was not noticed: \(DeliveryTests.journal(folder))")
        #expect(failing?["state"] as? String != "completed")
        try await Task.sleep(nanoseconds: 3_000_000_000)
        try gate.open()
        let partsAtCut = (before["parts"] as? [Any])?.count ?? 0
        let resumed = try await DeliveryTests.waitForUpload(folder, within: 60) { ($0["parts"] as? [Any])?.count ?? 0 >= partsAtCut + 2 }
        #expect(resumed != nil, "no parts after the network came back: \(DeliveryTests.journal(folder))")

        // Killed mid-upload.
        kill(room.process.processIdentifier, SIGKILL)
        room.process.finish(within: 10)
        let atKill = try #require(DeliveryTests.journal(folder).first { ($0["file"] as? String)?.hasSuffix(".mp4") == true })
        let storedAtKill = (atKill["parts"] as? [Any])?.count ?? 0
        let size = try #require(atKill["size"] as? Int)
        let total = (size + 256 * 1024 - 1) / (256 * 1024)
        #expect(atKill["state"] as? String != "completed", "the upload finished before the kill (\(total) parts): make the test's rate lower")
        #expect(total >= 6, "a 3-minute recording of \(size) bytes")

        // The next start takes it up from the parts the store has.
        let next = try RoomProcess(room: nil, extra: store)
        let done = try await DeliveryTests.waitForUpload(folder, within: 120) { $0["state"] as? String == "completed" }
        #expect(done != nil, "not completed after the restart: \(DeliveryTests.journal(folder))")
        let (status, body, _) = try await httpData("GET", "\(next.base)/uploads")
        #expect(status == 200)
        let listed = (object(body)["uploads"] as? [[String: Any]] ?? []).first { ($0["file"] as? String)?.hasSuffix(".mp4") == true }
        #expect(listed?["state"] as? String == "completed")
        _ = next.stop()
        let log = (try? String(contentsOfFile: next.logPath, encoding: .utf8)) ?? ""
        let resumeLine = log.split(separator: "\n").first { $0.contains("resuming upload") }
        #expect(resumeLine?.contains("parts stored=\(storedAtKill) of \(total)") == true || resumeLine?.contains("\(storedAtKill) of \(total)") == true,
                "resume: \(resumeLine ?? "none") (stored at the kill: \(storedAtKill))")

        let local = try #require(done?["file"] as? String)
        let key = try #require(done?["key"] as? String)
        #expect(key.hasPrefix("rec/long-") && key.hasSuffix(".mp4"))
        let downloaded = Paths.temporary("downloaded-\(UInt32.random(in: 0...UInt32.max)).mp4")
        let head = try moto.get(bucket: "calls", key: key, to: downloaded, credentials: credentials)
        #expect(FileManager.default.contents(atPath: downloaded) == FileManager.default.contents(atPath: local), "the stored object differs from the local file")
        #expect((head["etag"] as? String)?.hasSuffix("-\(total)\"") == true, "multipart ETag: \(head)")
        #expect(head["sse"] as? String == "AES256")
        let pictures = try decodePictures(downloaded)
        #expect(Double(pictures.count) / 30 > 170, "\(pictures.count) frames in the stored object")
        print("uploaded \(size) bytes in \(total) parts; \(storedAtKill) were stored at the kill")
    }

    /// Wrong credentials: the store's refusal arrives as `upload.failed` (at the recording's own webhook, given when
    /// it was started through the API), and the local file stays.
    @Test func wrongCredentialsFailTheUploadAndKeepTheFile() async throws {
        let moto = try MotoServer(auth: true)
        defer { moto.stop() }
        let folder = Paths.temporary("wrong-\(UInt32.random(in: 0...UInt32.max))")
        let credentialsFile = Paths.temporary("credentials-\(UInt32.random(in: 0...UInt32.max))")
        _ = try moto.setup(bucket: "calls", credentialsFile: credentialsFile)
        try "[default]\naws_access_key_id = AKIANOTAREALKEY00000\naws_secret_access_key = nope\n".write(toFile: credentialsFile, atomically: true, encoding: .utf8)
        let secret = DeliveryTests.newSecret()
        let receiver = try WebhookReceiver(secret: secret, log: Paths.temporary("hooks-\(UInt32.random(in: 0...UInt32.max)).jsonl"))
        defer { receiver.stop() }
        let room = try RoomProcess(room: "wrong", extra: ["--output", folder, "--manual-recording", "--s3-bucket", "calls", "--s3-endpoint", moto.endpoint,
                                                          "--s3-path-style", "--s3-credentials", credentialsFile, "--webhook-secret", secret],
                                   errorsExpected: true)
        defer { room.process.stopIfRunning() }
        let (status, started, _) = try await httpData("POST", "\(room.base)/rooms/wrong/recording",
                                                      body: Data("{\"webhook_url\": \"\(receiver.url)\"}".utf8), contentType: "application/json")
        #expect(status == 201, "\(String(decoding: started, as: UTF8.self))")
        let (refused, problem, _) = try await httpData("POST", "\(room.base)/rooms/other/recording", body: Data("{\"webhook_url\": \"ftp://x\"}".utf8),
                                                       contentType: "application/json")
        #expect(refused == 400 && String(decoding: problem, as: UTF8.self).contains("webhook_url"))
        let publisher = try publishPattern(room, "Bo", room: "wrong", colour: "30a050", seconds: 5)
        defer { publisher.terminate() }
        _ = try await waitForParticipants(room, "wrong", count: 1)
        try await Task.sleep(nanoseconds: 4_000_000_000)
        let (stopped, finished, _) = try await httpData("DELETE", "\(room.base)/rooms/wrong/recording")
        #expect(stopped == 200)
        let file = try #require(object(finished)["file"] as? String)
        #expect(receiver.wait(for: "upload.failed", within: 30), "received: \(receiver.received)")
        let failure = receiver.received.first { $0["type"] as? String == "upload.failed" }?["data"] as? [String: Any]
        #expect((failure?["error"] as? String)?.contains("InvalidAccessKeyId") == true, "\(failure ?? [:])")
        #expect(failure?["file"] as? String == file)
        #expect(FileManager.default.fileExists(atPath: file), "the local file must stay")
        let types = receiver.received.compactMap { $0["type"] as? String }
        #expect(Array(types.prefix(3)) == ["recording.started", "participant.joined", "recording.finished"], "\(types)")
        #expect(!receiver.received.contains { $0["invalid"] != nil })
        let output = room.stop()
        #expect(output.contains("upload failed: \(file)"), "\(output)")
    }

    /// Every event reaches a receiver that fails its first 3 deliveries, exactly once after deduplication by id and
    /// in order per recording, including events of a recorder killed before it could deliver them.
    @Test func webhooksSurviveFailuresAndAKill() async throws {
        let folder = Paths.temporary("hooks-\(UInt32.random(in: 0...UInt32.max))")
        let secret = DeliveryTests.newSecret()
        let receiver = try WebhookReceiver(secret: secret, log: Paths.temporary("hooks-\(UInt32.random(in: 0...UInt32.max)).jsonl"), start: false)
        defer { receiver.stop() }
        let options = ["--output", folder, "--webhook", receiver.url, "--webhook-secret", secret]
        let first = try RoomProcess(room: "hooks", extra: options)
        defer { first.process.stopIfRunning() }
        let ann = try publishPattern(first, "Ann", room: "hooks", colour: "d04030", seconds: 3)
        defer { ann.terminate() }
        _ = try await waitForParticipants(first, "hooks", count: 1)
        ann.waitUntilExit()
        // started, joined, left: in the outbox, as the receiver is down.
        let outbox = folder + "/.delivery/outbox"
        let deadline = Date().addingTimeInterval(10)
        while ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter({ $0.hasSuffix(".json") }).count < 3, Date() < deadline {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.finish(within: 10)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter { $0.hasSuffix(".json") }.count >= 3)

        try receiver.start(failing: 3)
        let second = try RoomProcess(room: "hooks", extra: options)
        defer { second.process.stopIfRunning() }
        let ben = try publishPattern(second, "Ben", room: "hooks", colour: "3070d0", seconds: 3)
        defer { ben.terminate() }
        _ = try await waitForParticipants(second, "hooks", count: 1)
        ben.waitUntilExit()
        _ = second.stop()
        #expect(receiver.wait(for: "room.finished", within: 30), "\(receiver.received)")

        let received = receiver.received
        #expect(!received.contains { $0["invalid"] != nil }, "signatures refused: \(received)")
        #expect(received.compactMap { $0["attempt"] as? Int }.min() ?? 0 > 3, "the first 3 deliveries were refused")
        var seen = Set<String>(), events: [(type: String, data: [String: Any])] = []
        for delivery in received {
            guard let id = delivery["id"] as? String, seen.insert(id).inserted else { continue }
            events.append((delivery["type"] as? String ?? "", delivery["data"] as? [String: Any] ?? [:]))
        }
        let recordings = events.compactMap { $0.type == "recording.started" ? $0.data["recording_id"] as? String : nil }
        #expect(recordings.count == 2, "\(events.map(\.type))")
        for (index, recording) in recordings.enumerated() {
            let mine = events.filter { ($0.data["recording_id"] as? String) == recording }
            #expect(mine.map(\.type) == ["recording.started", "participant.joined", "participant.left", "recording.finished"],
                    "recording \(index + 1): \(mine.map(\.type))")
            #expect(mine.first { $0.type == "participant.joined" }?.data["name"] as? String == (index == 0 ? "Ann" : "Ben"))
            #expect(mine.last?.data["status"] as? String == (index == 0 ? "recovered" : "completed"))
        }
        #expect(events.last?.type == "room.finished")
    }
}
