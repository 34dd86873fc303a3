import Foundation
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// The Python of the test peers (`scripts/peers-venv.sh`, which `make test` runs).
let peersPython = Paths.root.appendingPathComponent(".build-venv/bin/python").path
func peerScript(_ name: String) -> String { Paths.root.appendingPathComponent("Tests/peers/\(name)").path }

/// A TCP port free on 127.0.0.1 right now.
func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 } }
    guard bound else { throw MediaError(.invalidArgument, "no free TCP port") }
    return Int(UInt16(bigEndian: a.sin_port))
}

/// Waits (at most `seconds`) until something accepts TCP connections on 127.0.0.1:`port`.
func waitForTCP(_ port: Int, within seconds: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian), sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
                            sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        let connected = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
        close(fd)
        if connected { return true }
        usleep(100_000)
    }
    return false
}

/// moto's standalone S3 (and IAM) server on loopback. With `auth`, requests must be signed with keys of an IAM user
/// (`setup` makes one): a wrong key or signature is refused as AWS would.
final class MotoServer {
    let port: Int
    let peer: LoggedPeer
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(auth: Bool) throws {
        port = try freeTCPPort()
        // Parts down to 64 KiB, so that tests see multipart uploads of small recordings.
        var environment = ["S3_UPLOAD_PART_MIN_SIZE": "65536"]
        if auth { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" }
        peer = try LoggedPeer(Paths.root.appendingPathComponent(".build-venv/bin/moto_server").path, ["-H", "127.0.0.1", "-p", String(port)],
                              log: "moto-\(port).log", environment: environment)
        guard waitForTCP(port) else {
            peer.stop()
            throw MediaError(.invalidArgument, "moto did not start: \(peer.printed)")
        }
    }

    /// Makes an IAM user with S3 rights and the bucket; its credentials, as an AWS credentials file.
    func setup(bucket: String, credentialsFile: String) throws -> (key: String, secret: String) {
        let result = try run(peersPython, [peerScript("s3_tool.py"), endpoint, "setup", bucket], within: 60)
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String],
              let key = json["access_key"], let secret = json["secret_key"] else {
            throw MediaError(.invalidArgument, "moto setup failed: \(result.stderr)")
        }
        try "[default]\naws_access_key_id = \(key)\naws_secret_access_key = \(secret)\n".write(toFile: credentialsFile, atomically: true, encoding: .utf8)
        return (key, secret)
    }

    /// Downloads an object to `path`; its ETag, size and server-side encryption.
    func get(bucket: String, key: String, to path: String, credentials: (key: String, secret: String)) throws -> [String: Any] {
        let result = try run(peersPython, [peerScript("s3_tool.py"), endpoint, "get", bucket, key, path, credentials.key, credentials.secret], within: 60)
        guard result.status == 0 else { throw MediaError(.invalidArgument, "download of \(key) failed: \(result.stderr)") }
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func stop() { peer.stop() }
}

/// The network path to a server, cut and restored by the test (`tcp_gate.py`).
final class TCPGate {
    let port: Int, target: Int
    private var peer: LoggedPeer?

    init(to target: Int) throws {
        self.target = target
        port = try freeTCPPort()
        try open()
    }

    func open() throws {
        peer = try LoggedPeer(peersPython, [peerScript("tcp_gate.py"), String(port), String(target)], log: "gate-\(port).log")
        guard peer?.line(startingWith: "listening") != nil else { throw MediaError(.invalidArgument, "the TCP gate did not start: \(peer?.printed ?? "")") }
    }

    func cut() { peer?.stop(); peer = nil }
}

/// `webhook_receiver.py`: verifies every delivery with the `standardwebhooks` package, logs the good ones.
final class WebhookReceiver {
    let port: Int
    let log: String
    let secret: String
    private var peer: LoggedPeer?

    init(port: Int? = nil, secret: String, log: String, start: Bool = true) throws {
        self.port = try port ?? freeTCPPort()
        self.secret = secret
        self.log = log
        if start { try self.start() }
    }

    var url: String { "http://127.0.0.1:\(port)/hooks" }

    func start(failing: Int = 0) throws {
        peer = try LoggedPeer(peersPython, [peerScript("webhook_receiver.py"), String(port), secret, log, "--fail", String(failing)], log: "hooks-\(port).log")
        guard waitForTCP(port) else { throw MediaError(.invalidArgument, "the webhook receiver did not start: \(peer?.printed ?? "")") }
    }

    /// The deliveries it accepted, in arrival order (each `{"id", "type", "data", "attempt"}`, or `{"invalid"}`).
    var received: [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Waits (at most `seconds`) until a delivery of `type` (matching `where`) has arrived.
    func wait(for type: String, within seconds: Double = 30, where matches: ([String: Any]) -> Bool = { _ in true }) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if received.contains(where: { $0["type"] as? String == type && matches(($0["data"] as? [String: Any]) ?? [:]) }) { return true }
            usleep(100_000)
        }
        return false
    }

    func stop() { peer?.stop(); peer = nil }
}
