import Foundation
import MediaCore

/// Debian's Janus (1.1) with a configuration of the test's own: the HTTP API on a free loopback port, the VideoRoom
/// plugin with room 1234 (open) and 4321 (PIN 9999), nothing else loaded. Stopped in the test's `defer`.
final class JanusServer {
    let folder: String
    let port: Int
    var url: String { "http://127.0.0.1:\(port)/janus" }
    private(set) var peer: LoggedPeer?
    private var starts = 0

    init() throws {
        let janus = try executable("janus", package: "janus")
        _ = janus
        port = try LossyRelay.freePort()
        folder = Paths.temporary("janus-\(port)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lib = "/usr/lib/x86_64-linux-gnu/janus"
        let unused = ["audiobridge", "echotest", "lua", "duktape", "nosip", "recordplay", "sip", "streaming", "textroom", "videocall", "voicemail"]
        let files = [
            "janus.jcfg": """
            general: { configs_folder = "\(folder)", plugins_folder = "\(lib)/plugins", transports_folder = "\(lib)/transports",
                       events_folder = "\(lib)/events", loggers_folder = "\(lib)/loggers", debug_level = 4, session_timeout = 60 }
            certificates: {}
            media: { rtp_port_range = "30000-39999" }
            nat: {}
            plugins: { disable = "\(unused.map { "libjanus_\($0).so" }.joined(separator: ","))" }
            transports: { disable = "libjanus_websockets.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so" }
            loggers: { disable = "libjanus_jsonlog.so" }
            events: {}
            """,
            "janus.transport.http.jcfg": """
            general: { base_path = "/janus", http = true, port = \(port), ip = "127.0.0.1", https = false }
            admin: { admin_http = false, admin_https = false }
            cors: {}
            """,
            // No room bitrate: Janus would send REMB to publishers, and aiortc's encoder does not survive one.
            "janus.plugin.videoroom.jcfg": """
            general: {}
            room-1234: { description = "open", publishers = 6, fir_freq = 3, audiolevel_event = true, videocodec = "vp8", audiocodec = "opus" }
            room-4321: { description = "locked", publishers = 6, pin = "9999", videocodec = "vp8", audiocodec = "opus" }
            """,
        ]
        for (name, text) in files { try text.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8) }
        try start()
    }

    /// Starts Janus and waits (at most 20 s) for its HTTP API to answer.
    func start() throws {
        starts += 1
        let peer = try LoggedPeer(try executable("janus", package: "janus"), ["-F", folder, "-C", "\(folder)/janus.jcfg", "-o"], log: "janus-\(port)-\(starts).txt")
        self.peer = peer
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if peer.printed.contains("HTTP webserver started") { return }
            guard peer.process.isRunning else { break }
            usleep(100_000)
        }
        peer.stop()
        throw MediaError(.invalidArgument, "Janus did not start: \(peer.printed.suffix(800))")
    }

    /// Kills Janus without a goodbye (a crash, a restarted container).
    func kill() {
        guard let peer else { return }
        Glibc.kill(peer.process.processIdentifier, SIGKILL)
        peer.stop()
    }

    func stop() { peer?.stop() }
}
