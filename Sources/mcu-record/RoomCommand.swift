import ArgumentParser
import Codecs
import FoundationEssentials
import Hummingbird
import Layout
import MediaCore
import NIOPosix
import Server
import Transport

struct RoomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "room",
        abstract: "Run a live room: participants publish over WHIP, the server records one composite MP4.",
        discussion: """
        `mcu-record --room NAME` starts the server, prints the WHIP URL and the join page, and records until \
        Ctrl-C (or SIGTERM), the idle timeout, or the maximum duration; the file is finalized in every case.
        """)

    @Option(name: .long, help: "Room name (letters, digits, '-' and '_').")
    var room: String

    @Option(name: .long, help: "Layout preset or layout JSON file.")
    var layout: String = "grid"

    @Option(name: .long, help: "Folder for recordings.")
    var output: String = "recordings"

    @Option(name: .long, help: "HTTP address for WHIP and the pages, HOST:PORT.")
    var http: String = "127.0.0.1:8080"

    @Option(name: .customLong("udp-port"), help: "The one UDP port for all media (0 picks a free one).")
    var udpPort: Int = 0

    @Option(name: .customLong("udp-host"), help: "Address the UDP port binds to.")
    var udpHost: String = "127.0.0.1"

    @Option(name: .customLong("announce-ip"), help: "Address announced in ICE candidates (repeat for several; default: the UDP bind address).")
    var announceIP: [String] = []

    @Option(name: .long, help: "Bearer token required on every request (or MCU_TOKEN).")
    var token: String?

    @Option(name: .customLong("idle-timeout"), help: "Stop after this many seconds with nobody in the room (after someone joined).")
    var idleTimeout: Double = 60

    @Option(name: .customLong("max-duration"), help: "Stop after this many seconds in all.")
    var maxDuration: Double?

    @Option(name: .long, help: "Canvas size WIDTHxHEIGHT.")
    var size: String = "1280x720"

    @Option(name: .long, help: "x264 preset.")
    var preset: String = "veryfast"

    @Option(name: .long, help: "x264 constant rate factor.")
    var crf: Int = 23

    func run() async throws {
        CodecLibrary.configureLogging(verbose: false)
        unblockStopSignals()
        let service: RoomService
        let host: String, port: Int
        do {
            guard let parts = Optional(http.split(separator: ":")), parts.count == 2, let p = Int(parts[1]), (0...65535).contains(p) else {
                throw MediaError(.invalidArgument, "--http must be HOST:PORT, not '\(http)'")
            }
            host = String(parts[0]); port = p
            guard let canvas = PixelSize(parsing: size), canvas.width % 2 == 0, canvas.height % 2 == 0 else {
                throw MediaError(.invalidArgument, "--size must be an even WIDTHxHEIGHT, not '\(size)'")
            }
            var configuration = ServerConfiguration(layout: try loadLayout(layout))
            configuration.size = canvas
            configuration.preset = preset
            configuration.crf = crf
            configuration.recordings = output
            configuration.udpHost = udpHost
            configuration.udpPort = udpPort
            configuration.announceIPs = announceIP.isEmpty ? [udpHost == "0.0.0.0" ? "127.0.0.1" : udpHost] : announceIP
            configuration.token = token ?? ProcessInfo.processInfo.environment["MCU_TOKEN"]
            configuration.allowedRooms = [room]
            guard RoomService.isValidRoomName(room) else { throw MediaError(.invalidArgument, "--room: 1-64 letters, digits, '-' or '_'") }
            do { service = try RoomService(configuration: configuration) } catch { throw MediaError(.codecFailure, "cannot create the DTLS certificate: \(error)") }
        } catch let error as MediaError {
            throw fail(error)
        }
        let transport: UDPTransport
        do {
            transport = try await UDPTransport.bind(host: udpHost, port: udpPort, group: MultiThreadedEventLoopGroup.singleton) { id, output in
                service.handle(sessionID: id, output: output)
            }
        } catch {
            throw fail(MediaError(.invalidArgument, "cannot bind UDP \(udpHost):\(udpPort): \(error)"))
        }
        service.attach(transport)
        let room = self.room
        let app = Application(router: HTTPServer.router(service: service),
                              configuration: .init(address: .hostname(host, port: port), serverName: "mcu-record"),
                              onServerRunning: { channel in
                                  let bound = channel.localAddress?.port ?? port
                                  printLine("room \(room): WHIP http://\(host):\(bound)/rooms/\(room)/whip")
                                  printLine("join page:  http://\(host):\(bound)/rooms/\(room)")
                                  printLine("media:      udp \(transport.localPort)")
                              })
        let started = Date()
        let idle = idleTimeout, maxDuration = self.maxDuration
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            group.addTask {
                var emptySince: Date?
                while !Task.isCancelled {
                    try await Task.sleep(nanoseconds: 250_000_000)
                    if let maxDuration, Date().timeIntervalSince(started) >= maxDuration { printError("maximum duration reached\n"); return }
                    let presence = service.presence
                    if presence.ever && presence.now == 0 {
                        emptySince = emptySince ?? Date()
                        if Date().timeIntervalSince(emptySince!) >= idle { printError("room idle for \(Int(idle)) s\n"); return }
                    } else {
                        emptySince = nil
                    }
                }
            }
            // Whichever ends first (a signal stops the server; the watchdog returns) ends the room.
            _ = try await group.next()
            group.cancelAll()
        }
        let summaries = service.stopAll()
        await transport.close()
        if summaries.isEmpty { printLine("nobody joined; nothing recorded") }
        for s in summaries {
            if let r = s.recording {
                printLine("recorded \(s.room): \(r.path) (\(decimal(Double(r.duration) / 1e6, 1)) s, \(s.participants) participant(s), \(decimal(Double(r.bytes) / 1e6, 1)) MB)")
            } else {
                printLine("room \(s.room): recording failed: \(s.error ?? "unknown error")")
            }
        }
    }
}

