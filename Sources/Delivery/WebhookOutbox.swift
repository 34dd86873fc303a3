import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1

/// Standard Webhooks signing (standardwebhooks.com): HMAC-SHA256 over `ID.TIMESTAMP.BODY` with the secret's bytes
/// (`whsec_` and base64), sent as `webhook-signature: v1,BASE64`.
public struct WebhookSigner: Sendable {
    let key: [UInt8]

    /// nil when the secret is not `whsec_` followed by base64 (or plain base64).
    public init?(secret: String) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        key = Array(bytes)
    }

    public func signature(id: String, timestamp: Int64, body: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return "v1," + Data(code).base64EncodedString()
    }
}

/// Webhooks delivered at least once: every message is written to the outbox folder before it is sent, and removed
/// only when its receiver answered 2xx, so messages survive a killed recorder and go out after its restart. Each
/// receiver gets its messages in order (a failing one holds its later messages back; others are not held up),
/// retried with exponential backoff (0.5 s doubling, at most 5 min apart) for `retryFor` seconds. The message id
/// stays the same across retries, so receivers deduplicate by it. Nothing here ever waits on media, nor media on it.
public actor WebhookOutbox {
    struct Entry: Codable, Sendable {
        var sequence: Int
        var id: String
        var url: String
        var body: String
        var created: Double
        var attempts = 0
    }

    let folder: String
    let signer: WebhookSigner?
    let retryFor: Double
    let http: HTTPClient
    let logger = Logger(label: "mcu-record.webhook")
    private var queues: [String: [Entry]] = [:]
    private var workers: [String: Task<Void, Never>] = [:]
    private var sequence = 0

    public init(folder: String, signer: WebhookSigner?, retryFor: Double = 3 * 86_400, http: HTTPClient = DeliveryHTTP.client) {
        self.folder = folder
        self.signer = signer
        self.retryFor = retryFor
        self.http = http
    }

    /// Takes up the messages an earlier run left undelivered.
    public func start() throws {
        for (name, bytes) in try DeliveryFiles.loadAll(in: folder) {
            guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(bytes)) else {
                logger.warning("unreadable webhook outbox entry skipped", metadata: ["file": "\(folder)/\(name)"])
                continue
            }
            sequence = max(sequence, entry.sequence)
            queues[entry.url, default: []].append(entry)
        }
        for url in queues.keys {
            queues[url]!.sort { $0.sequence < $1.sequence }
            logger.info("undelivered webhooks taken up", metadata: ["url": "\(url)", "messages": "\(queues[url]!.count)"])
            wake(url)
        }
    }

    /// Queues a message of `type` with `data` for each receiver; returns its id (the same for every receiver).
    @discardableResult
    public func post(type: String, data: [(String, String)], to urls: [String]) async -> String {
        let id = "msg_" + WebhookOutbox.randomID()
        let now = Date().timeIntervalSince1970
        let body = "{\"type\":\(WebhookOutbox.quote(type)),\"timestamp\":\(WebhookOutbox.quote(WebhookOutbox.iso8601(now))),\"data\":{"
            + data.map { "\(WebhookOutbox.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}}"
        for url in Set(urls).sorted() {
            sequence += 1
            let entry = Entry(sequence: sequence, id: id, url: url, body: body, created: now)
            do { try await DeliveryFiles.writeAtomically(Array(try JSONEncoder().encode(entry)), to: path(of: entry)) } catch {
                logger.error("cannot write the webhook outbox (the message is sent, but would not survive a restart)", metadata: ["error": "\(error)"])
            }
            queues[url, default: []].append(entry)
            wake(url)
        }
        return id
    }

    /// Messages not yet delivered, per receiver.
    public var pending: [String: Int] { queues.mapValues(\.count).filter { $0.value > 0 } }

    func path(of entry: Entry) -> String {
        let number = String(entry.sequence)
        return "\(folder)/\(String(repeating: "0", count: max(0, 12 - number.count)))\(number).json"
    }

    private func wake(_ url: String) {
        guard workers[url] == nil, !(queues[url]?.isEmpty ?? true) else { return }
        workers[url] = Task { await run(url) }
    }

    private func run(_ url: String) async {
        while var entry = queues[url]?.first {
            let outcome = await send(entry)
            if outcome == nil {
                queues[url]!.removeFirst()
                await DeliveryFiles.remove(path(of: entry))
                Counter(label: "mcu_webhooks_delivered_total").increment()
                continue
            }
            entry.attempts += 1
            if Date().timeIntervalSince1970 - entry.created > retryFor {
                logger.error("webhook given up", metadata: ["url": "\(url)", "id": "\(entry.id)", "attempts": "\(entry.attempts)", "error": "\(outcome!)"])
                Counter(label: "mcu_webhooks_dropped_total").increment()
                queues[url]!.removeFirst()
                await DeliveryFiles.remove(path(of: entry))
                continue
            }
            queues[url]![0] = entry
            if entry.attempts == 1 || entry.attempts % 10 == 0 {
                logger.warning("webhook not delivered, will retry", metadata: ["url": "\(url)", "id": "\(entry.id)", "attempts": "\(entry.attempts)", "error": "\(outcome!)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(min(300, 0.5 * pow(2, Double(entry.attempts - 1))) * 1e9))
        }
        workers[url] = nil
    }

    /// nil when delivered; otherwise what went wrong.
    private func send(_ entry: Entry) async -> String? {
        var request = HTTPClientRequest(url: entry.url)
        request.method = .POST
        let timestamp = Int64(Date().timeIntervalSince1970)
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "mcu-record")
        request.headers.add(name: "webhook-id", value: entry.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        if let signer { request.headers.add(name: "webhook-signature", value: signer.signature(id: entry.id, timestamp: timestamp, body: entry.body)) }
        request.body = .bytes(ByteBuffer(string: entry.body))
        do {
            let response = try await http.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: 64 << 10)
            return (200..<300).contains(response.status.code) ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }

    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt32, radix: 16) }.map { String(repeating: "0", count: 8 - $0.count) + $0 }.joined()
    }

    static func iso8601(_ time: Double) -> String {
        let stamp = SigV4.timestamp(Int64(time.rounded(.down)))   // 20261130T140000Z
        let c = Array(stamp)
        let ms = Int((time - time.rounded(.down)) * 1000)
        let millis = String(repeating: "0", count: 3 - String(ms).count) + String(ms)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15])).\(millis)Z"
    }

    /// A JSON string literal.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
