import ArgumentParser
import CommandSupport
import Codecs
import FoundationEssentials
import Hummingbird
import Layout
import Logging
import Recorder
import Text
import MediaCore
import Rooms
import Metrics
import NIOPosix
import Output
import Delivery
import Prometheus
import Pull
import Server
import ServiceLifecycle
import Transport

/// The live-room server. It is its own executable so that the HTTP stack (Hummingbird, which loads full
/// Foundation and ICU) stays out of `mcu-record compose`: a file composition keeps the smaller memory footprint.
/// `mcu-record --room NAME` runs this program in its own place.
@main
struct RoomServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcu-record-server",
        abstract: "Run a live room: participants publish over WHIP, the server records one composite MP4.",
        discussion: """
        Usually started as `mcu-record --room NAME`. Prints the WHIP URL and the join page, and records until \
        Ctrl-C (or SIGTERM), the idle timeout, or the maximum duration; the file is finalized in every case.
        """,
        version: "0.1.0")

    @OptionGroup var options: RoomOptions

    func run() async throws {
        let (room, layout, output, http, size) = (options.room, options.layout, options.output, options.http, options.size)
        let (udpHost, udpPort, announceIP, token) = (options.udpHost, options.udpPort, options.announceIP, options.token)
        let (idle, maxDuration, preset, crf) = (options.idleTimeout, options.maxDuration, options.preset, options.crf)
        CodecLibrary.configureLogging(verbose: false)
        unblockStopSignals()
        let service: RoomDirectory
        let delivery: DeliveryService
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
            guard let rate = Rational(parsing: options.fps), rate.doubleValue >= 1, rate.doubleValue <= 120 else {
                throw MediaError(.invalidArgument, "--fps must be a frame rate between 1 and 120, not '\(options.fps)'")
            }
            configuration.fps = rate
            configuration.preset = preset
            guard (1...51).contains(crf) else { throw MediaError(.invalidArgument, "--crf must be 1…51 (lossless 0 needs a profile the MP4 does not use)") }
            configuration.crf = crf
            configuration.recordings = output
            configuration.tracks = options.tracks
            configuration.udpHost = udpHost
            configuration.udpPort = udpPort
            configuration.announceIPs = announceIP.isEmpty ? [udpHost == "0.0.0.0" ? "127.0.0.1" : udpHost] : announceIP
            configuration.token = token ?? ProcessInfo.processInfo.environment["MCU_TOKEN"]
            if let room {
                guard RoomDirectory.isValidRoomName(room) else { throw MediaError(.invalidArgument, "--room: 1-64 letters, digits, '-' or '_'") }
                configuration.allowedRooms = [room]
            }
            configuration.autoRecord = !options.manualRecording
            configuration.assets = options.assets
            guard (1...1000).contains(options.maxParticipants), (1...1000).contains(options.maxRooms) else {
                throw MediaError(.invalidArgument, "--max-participants and --max-rooms must be 1-1000")
            }
            configuration.maxParticipants = options.maxParticipants
            configuration.maxRooms = options.maxRooms
            guard options.minFreeSpace >= 0 else { throw MediaError(.invalidArgument, "--min-free-space is in MiB, 0 or more") }
            configuration.minFreeBytes = Int64(options.minFreeSpace) << 20
            guard options.maxLoad > 0, options.maxLoad <= 100 else { throw MediaError(.invalidArgument, "--max-load is a share of the cores, above 0 (at most 100)") }
            configuration.maxLoad = options.maxLoad
            configuration.hls = options.hls
            guard options.hlsRendition.isEmpty || options.hls else { throw MediaError(.invalidArgument, "--hls-rendition needs --hls") }
            for height in options.hlsRendition where height < 16 || height % 2 != 0 || height >= configuration.size.height {
                throw MediaError(.invalidArgument, "--hls-rendition \(height): a rendition is an even number of lines, at least 16 and below the recording's \(configuration.size.height)")
            }
            configuration.hlsRenditions = options.hlsRendition
            try RoomServer.configureAudio(options, &configuration)
            for url in options.rtmp where !(url.hasPrefix("rtmp://") || url.hasPrefix("rtmps://")) {
                throw MediaError(.invalidArgument, "--rtmp takes an rtmp:// or rtmps:// URL, not '\(url)'")
            }
            configuration.rtmp = options.rtmp
            if options.maxPartDuration != nil || options.maxPartSize != nil {
                guard options.maxPartDuration.map({ (5...86_400).contains($0) }) ?? true, options.maxPartSize.map({ $0 >= 1 }) ?? true else {
                    throw MediaError(.invalidArgument, "--max-part-duration must be 5 to 86400 seconds, --max-part-size at least 1 MB")
                }
                configuration.parts = PartPolicy(maxDuration: options.maxPartDuration.map { Microseconds($0 * 1e6) },
                                                 maxBytes: options.maxPartSize.map { Int64($0 * 1e6) })
            }
            guard options.videoBitsPerPixel > 0, options.videoBitsPerPixel <= 10, options.minVideoBitrate >= 30,
                  options.maxVideoBitrate >= options.minVideoBitrate, options.maxVideoBitrate <= 100_000 else {
                throw MediaError(.invalidArgument, "--video-bits-per-pixel must be above 0 (at most 10); --min-video-bitrate at least 30 kbit/s, "
                                 + "and --max-video-bitrate at least that (at most 100000)")
            }
            configuration.videoBitrate.bitsPerPixel = options.videoBitsPerPixel
            configuration.videoBitrate.floor = options.minVideoBitrate * 1000
            configuration.videoBitrate.ceiling = options.maxVideoBitrate * 1000
            if let file = options.watermark {
                let document = try loadWatermarks(file)
                configuration.presentation.watermarkDocument = document.source
                do { configuration.presentation.watermarks = try RoomPresentation.load(document) } catch {
                    throw error.located(in: file)
                }
            }
            if let file = options.chatOverlay {
                let style = try loadChatOverlay(file)
                if style.font == nil, !FileManager.default.isReadableFile(atPath: TextRenderer.defaultFontPath) {
                    throw MediaError(.fontUnavailable, "the default font \(TextRenderer.defaultFontPath) is missing (install fonts-dejavu-core)", at: "\(file): font")
                }
                configuration.presentation.chat = style
            }
            do { service = try RoomDirectory(configuration: configuration) } catch { throw MediaError(.codecFailure, "cannot create the DTLS certificate: \(error)") }
            do { delivery = try DeliveryService(configuration: try options.delivery.configuration(recordings: output)) } catch let error as MediaError { throw error } catch {
                throw MediaError(.invalidArgument, "\(error)")
            }
            do { try await delivery.start() } catch { throw MediaError(.outputUnwritable, "\(error)") }
            service.observe { delivery.observe($0) }
        } catch let error as MediaError {
            throw fail(error)
        }
        // What a crash of an earlier run left in the recordings folder is finalized before anything new starts.
        for leftover in Recovery.leftovers(in: output) {
            let outcome = Recovery.recover(leftover)
            if let path = outcome.path {
                printLine("recovered \(leftover) → \(path) (\(decimal(Double(outcome.duration) / 1e6, 1)) s)")
                delivery.recovered(path: path, duration: Double(outcome.duration) / 1e6)
            } else {
                printError("warning: cannot recover \(leftover): \(outcome.error ?? "unknown error")\n")
            }
        }
        let transport: UDPTransport
        do {
            transport = try await UDPTransport.bind(host: udpHost, port: udpPort, group: MultiThreadedEventLoopGroup.singleton, ingest: service)
        } catch {
            throw fail(MediaError(.invalidArgument, "cannot bind UDP \(udpHost):\(udpPort): \(error)"))
        }
        service.attach(transport)
        if let room { try? service.createRoom(room) }
        let pulls = PullDirectory(directory: service, stunServer: options.stun)
        if !options.pull.isEmpty {
            guard let room else { throw fail(MediaError(.invalidArgument, "--pull needs --room (the room the pulled participants join)")) }
            let token = options.pullToken ?? ProcessInfo.processInfo.environment["MCU_PULL_TOKEN"]
            for (index, target) in options.pull.enumerated() {
                guard target.hasPrefix("whep+") else {
                    throw fail(MediaError(.invalidArgument, "--pull takes whep+http://… or whep+https://…, not '\(target)'"))
                }
                do {
                    let source = try await pulls.addWHEP(room: room, name: "whep\(options.pull.count > 1 ? "-\(index + 1)" : "")",
                                                         url: String(target.dropFirst(5)), token: token)
                    printLine("pulling \(source.url) into \(room) (\(source.current.offerer ?? "?") offer)")
                } catch {
                    await pulls.stopAll()
                    _ = await service.stopAll()
                    await transport.close()
                    throw fail(MediaError(.invalidArgument, "--pull \(target): \(error)"))
                }
            }
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let sampler = RoomMetrics(service: service)
        if options.janus != nil || options.janusRoom != nil {
            guard let room, let url = options.janus, let janusRoom = options.janusRoom else {
                throw fail(MediaError(.invalidArgument, "--janus needs --janus-room and --room (and --janus-room needs --janus)"))
            }
            let pin = options.janusPin ?? ProcessInfo.processInfo.environment["MCU_JANUS_PIN"]
            do {
                let source = try await pulls.addJanus(room: room, url: url, janusRoom: UInt64(janusRoom).map { .number(Double($0)) } ?? .string(janusRoom),
                                                      pin: pin, apiSecret: nil, token: nil)
                printLine("recording Janus room \(janusRoom) at \(url) into \(room) (\(source.current.publishers.count) publisher(s))")
            } catch {
                await pulls.stopAll()
                _ = await service.stopAll()
                await transport.close()
                throw fail(MediaError(.invalidArgument, "--janus \(url) --janus-room \(janusRoom): \(error)"))
            }
        }
        let app = Application(router: HTTPServer.router(service: service, pulls: pulls, delivery: delivery, metrics: { registry.emitToBuffer() }),
                              configuration: .init(address: .hostname(host, port: port), serverName: "mcu-record"),
                              onServerRunning: { channel in
                                  let bound = channel.localAddress?.port ?? port
                                  let shown = room ?? "{room}"
                                  printLine("room \(shown): WHIP http://\(host):\(bound)/rooms/\(shown)/whip")
                                  printLine("join page:  http://\(host):\(bound)/rooms/\(shown)")
                                  printLine("control:    http://\(host):\(bound)/")
                                  printLine("media:      udp \(transport.localPort)")
                              })
        let monotonic = SystemClock()
        let limits = RunLimits(started: monotonic.now(), maxDuration: maxDuration.map { Microseconds($0 * 1_000_000) },
                               idleTimeout: Microseconds(idle * 1_000_000))
        // The HTTP server runs until SIGINT/SIGTERM or until the watchdog ends the room; either way it shuts down
        // gracefully (connections drained, nothing cancelled mid-request, no errors logged for a normal stop).
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint],
                                                         logger: Logger(label: "mcu-record.server")))
        let watchdog = Task {
            var limits = limits, ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 250_000_000)
                ticks += 1
                if ticks % 4 == 1 {
                    service.sampleLoad()
                    await sampler.sample()
                    await offPool("sweep rooms") { service.sweep(now: monotonic.now()) }
                }
                let presence = service.presence
                switch limits.check(now: monotonic.now(), present: presence.now, everJoined: presence.ever) {
                case .maxDuration?: printError("maximum duration reached\n")
                case .idle?: printError("room idle for \(Int(idle)) s\n")
                case nil: continue
                }
                await services.triggerGracefulShutdown()
                return
            }
        }
        defer { watchdog.cancel() }
        try await services.run()
        watchdog.cancel()
        await pulls.stopAll()
        let summaries = await service.stopAll()
        await transport.close()
        if summaries.isEmpty { printLine("nobody joined; nothing recorded") }
        for s in summaries {
            if let r = s.recording {
                printLine("recorded \(s.room): \(r.path) (\(decimal(Double(r.duration) / 1e6, 1)) s, \(s.participants.count) participant(s), \(decimal(Double(r.bytes) / 1e6, 1)) MB)")
                printLine("  \(r.videoFrames) frames (\(decimal(Double(r.videoFrames) / max(0.001, Double(r.duration) / 1e6), 2)) fps), "
                          + "compositor lag max \(s.maxLag / 1000) ms, at the end \(s.finalLag / 1000) ms")
                if s.fasterPreset > 0, let preset = s.fastestPreset {
                    printLine("  overloaded: a faster x264 preset for \(decimal(Double(s.fasterPreset) / 1e6, 1)) s (up to \(preset))")
                }
                if s.reducedRate > 0 {
                    printLine("  overloaded: fewer frames per second for \(decimal(Double(s.reducedRate) / 1e6, 1)) s (down to \(decimal(s.lowestRate, 1)) fps)")
                }
            } else {
                printLine("room \(s.room): recording failed: \(s.error ?? "unknown error")")
            }
            for p in s.participants { printLine("  " + RoomServer.describe(p)) }
            if !s.tracks.isEmpty, let tracks = options.tracks { RoomServer.reportTracks(s, folder: tracks) }
        }
        await RoomServer.finishDelivery(delivery, wait: options.delivery.uploadWait)
    }

    /// Lists the track files, writes them as a JSON manifest next to them, and prints the command that
    /// re-renders the room from them.
    static func reportTracks(_ s: RoomDirectory.Summary, folder: String) {
        var manifest = "{\n  \"room\": \(jsonString(s.room)),\n  \"recording\": \(jsonString(s.recording?.path ?? "")),\n  \"tracks\": ["
        var command = "mcu-record compose --layout grid"
        for (i, t) in s.tracks.enumerated() {
            let start = decimal(Double(t.start) / 1e6, 3)
            printLine("  track \(t.name): \(t.path) from \(start) s, \(t.frames) frames" + (t.error.map { " (\($0))" } ?? ""))
            manifest += (i == 0 ? "\n" : ",\n") + "    {\"name\": \(jsonString(t.name)), \"file\": \(jsonString(t.path)), \"start\": \(start), \"frames\": \(t.frames)}"
            command += " --input 'file=\(t.path),start=\(start),name=\(t.name.replacingOccurrences(of: "'", with: "").replacingOccurrences(of: ",", with: " "))'"
        }
        manifest += "\n  ]\n}\n"
        let base = (s.recording?.path).map { String($0.split(separator: "/").last ?? "") } ?? s.room
        let path = "\(folder)/\(base.hasSuffix(".mp4") ? String(base.dropLast(4)) : base).tracks.json"
        if FileManager.default.createFile(atPath: path, contents: Data(manifest.utf8)) {
            printLine("  tracks manifest: \(path)")
        } else {
            printError("warning: cannot write \(path)\n")
        }
        if let recording = s.recording?.path, recording.hasSuffix(".mp4"), FileManager.default.fileExists(atPath: String(recording.dropLast(4)) + ".events.jsonl") {
            command += " --events \(String(recording.dropLast(4))).events.jsonl"
        }
        printLine("  re-render: \(command) --output \(s.room)-again.mp4")
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// One summary line per participant: `Alice: in the room 14.2 s, frozen 0.3 s, video lost 12 packets (…)`.
    static func describe(_ p: RoomDirectory.ParticipantReport) -> String {
        var parts: [String] = []
        if let tile = p.tile {
            parts.append("in the room \(decimal(Double(tile.present) / 1e6, 1)) s")
            parts.append("frozen \(decimal(Double(tile.frozen) / 1e6, 1)) s")
            if tile.blank > 0 { parts.append("no picture yet \(decimal(Double(tile.blank) / 1e6, 1)) s") }
        }
        for track in p.tracks {
            let st = track.statistics
            parts.append("\(track.kind) \(st.received) packets, lost \(st.lost), recovered by NACK \(st.recovered)"
                         + (st.retransmitted > 0 ? " (\(st.retransmitted) by RTX)" : "") + ", keyframe requests \(st.keyframeRequests)")
        }
        return "\(p.name): " + (parts.isEmpty ? "no media" : parts.joined(separator: "; "))
    }
}
