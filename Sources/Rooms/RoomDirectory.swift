import Codecs
import Compositor
import FoundationEssentials
import Layout
import Logging
import Metrics
import MediaCore
import Recorder
import RTP
import SDP
import SecureTransport
import Session
import Text
import Transport
#if canImport(Glibc)
import Glibc
#endif

public struct ServerConfiguration: Sendable {
    public var udpHost = "127.0.0.1"
    public var udpPort = 0
    /// Addresses announced as ICE host candidates (NAT or containers: the public one).
    public var announceIPs: [String] = ["127.0.0.1"]
    public var token: String?
    public var layout: LayoutDocument
    public var recordings = "recordings"
    public var size = PixelSize(width: 1280, height: 720)
    public var fps = Rational(30)
    public var preset = "veryfast"
    public var crf = 23
    public var maxParticipants = 25
    public var maxRooms = 16
    /// Media sections one participant may publish (camera, microphone, a screen share, its audio).
    public var maxTracksPerParticipant = 4
    public var latency: Microseconds = 400_000
    /// When set, each participant's tracks are also written here as received (`--tracks`).
    public var tracks: String?
    /// When set, only these rooms accept publishers (the CLI's `--room`).
    public var allowedRooms: Set<String>?
    /// Start recording a room when its first participant joins (and it has not recorded yet); otherwise
    /// recordings start and stop through the API only.
    public var autoRecord = true
    /// Watermarks, chat overlay and fonts of every room's composite.
    public var presentation = RoomPresentation()
    /// Where watermark images given through the API are read from (nothing outside it).
    public var assets = "assets"
    /// New recordings are refused (503) when the recordings' file system has less free space than this.
    public var minFreeBytes: Int64 = 100 << 20
    /// Admission: a new recording is refused (503) when the CPU the recordings use now, plus what one of them
    /// costs on average, would pass this share of the machine's cores.
    public var maxLoad = 0.9

    public init(layout: LayoutDocument) { self.layout = layout }
}

/// Rooms, their participants and the shared UDP transport. The media path never goes through here per packet:
/// the transport's callback finds the room in `routes` under a lock and hands the frame to the room.
/// `@unchecked Sendable`: `rooms` and `routes` are only touched under `lock`.
public final class RoomDirectory: MediaIngest, @unchecked Sendable {
    public struct Participant: Sendable { public var id: String; public var name: String; public var room: String }
    /// How one participant fared: time in the room and frozen in its tile (from the compositor), packets
    /// lost for good, recovered by NACK, and keyframe requests (from its session).
    public struct ParticipantReport: Sendable {
        public var name: String
        public var tile: CompositionEngine.SourceStatistics?
        public var tracks: [PeerSession.TrackReport]
    }
    public struct Summary: Sendable {
        public var room: String
        public var recording: RecordingSummary?
        public var tracks: [TrackFile] = []
        /// Compositor lateness at worst and at the end, in µs.
        public var maxLag: Microseconds = 0
        public var finalLag: Microseconds = 0
        /// Overload: time at a reduced frame rate and the lowest rate.
        public var reducedRate: Microseconds = 0
        public var lowestRate: Double = 0
        /// Overload: time encoded with a faster preset than configured, and the fastest.
        public var fasterPreset: Microseconds = 0
        public var fastestPreset: String?
        public var error: String?
        public var participants: [ParticipantReport]
    }

    public let configuration: ServerConfiguration
    public let certificate: DTLSCertificate
    private let lock = ConditionLock()
    private final class Room {
        let live: LiveRoom
        var participants: Set<String> = []
        var everyone: [Participant] = []
        var stamp = 0
        var recorded = false
        var lastRecording: LiveRecordingSummary?
        var error: String?
        init(live: LiveRoom) { self.live = live }
    }
    private var rooms: [String: Room] = [:]
    /// Final session statistics, kept until the room's summary is made.
    private var trackReports: [String: [PeerSession.TrackReport]] = [:]
    private var routes: [String: Participant] = [:]
    private var transport: UDPTransport?
    private let logger = Logger(label: "mcu-record.room")
    /// Last time a keyframe wait or loss burst was logged per participant: at most one line per 5 s each.
    private var lastNoisyLog: [String: Microseconds] = [:]

    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        certificate = try DTLSCertificate()
    }

    public func attach(_ transport: UDPTransport) { lock.withLock { self.transport = transport } }

    /// Called on the transport's event loop for every session output that is not a datagram.
    public func ingest(sessionID: String, _ output: PeerSession.Output) {
        if case let .report(tracks) = output {
            lock.withLock { if routes[sessionID] != nil { trackReports[sessionID] = tracks } }
            return
        }
        guard let route = lock.withLock({ routes[sessionID] }), let room = lock.withLock({ rooms[route.room]?.live }) else { return }
        switch output {
        case let .frame(mid, _, _, frame, time):
            room.frame(id: sessionID, mid: mid, data: frame.data, keyframe: frame.keyframe, time: time)
        case let .audioLevel(_, dBov, time):
            room.audioLevel(id: sessionID, dBov: dBov, time: time)
        case .connected:
            logger.info("connected", metadata: ["room": "\(route.room)", "participant": "\(route.name)"])
        case let .closed(reason):
            logger.info("left", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "reason": "\(reason)"])
            leave(sessionID: sessionID)
        case let .lossBurst(mid, packets):
            room.note("loss", ["participant": .string(sessionID), "track": .string(mid), "packets": .number(Double(packets))])
            if shouldLog(sessionID) {
                logger.warning("loss burst", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)", "packets": "\(packets)"])
            }
        case let .keyframeRequested(mid):
            room.note("keyframe-wait", ["participant": .string(sessionID), "track": .string(mid)])
            if shouldLog(sessionID) {
                logger.notice("waiting for a keyframe", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)"])
            }
        default:
            break
        }
    }

    private func shouldLog(_ sessionID: String) -> Bool {
        let now = SystemClock().now()
        return lock.withLock {
            if let last = lastNoisyLog[sessionID], now - last < 5_000_000 { return false }
            lastNoisyLog[sessionID] = now
            return true
        }
    }

    public static func isValidRoomName(_ name: String) -> Bool {
        (1...64).contains(name.unicodeScalars.count)
            && name.unicodeScalars.allSatisfy { $0.isASCII && (("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
    }

    /// WHIP: answer the offer, create the session, join the room (starting its recording). Returns the answer
    /// and the session id for the Location URL.
    public func publish(room: String, name: String?, offer: String) async throws -> (answer: String, sessionID: String) {
        guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        if let allowed = configuration.allowedRooms, !allowed.contains(room) { throw RoomError(.notFound, "no room \(room) here") }
        guard let transport = lock.withLock({ self.transport }) else { throw RoomError(.unavailable, "media transport not ready") }
        let ufrag = RoomDirectory.random(8), pwd = RoomDirectory.random(24), sessionID = RoomDirectory.random(32)
        let options = AnswerOptions(iceUfrag: ufrag, icePwd: pwd, fingerprint: certificate.fingerprint,
                                    candidates: configuration.announceIPs.map { ($0, transport.localPort) }, sessionID: UInt64.random(in: 1...UInt64(Int64.max)))
        let negotiation: Negotiation
        do { negotiation = try SDPAnswerer.answer(offer: offer, options: options) } catch {
            throw RoomError(.invalid, error.reason)
        }
        guard negotiation.tracks.count <= configuration.maxTracksPerParticipant else {
            throw RoomError(.invalid, "an offer may carry at most \(configuration.maxTracksPerParticipant) media tracks, not \(negotiation.tracks.count)")
        }
        let participantName = String((name ?? "participant").prefix(64))
        let live = try lock.withLock { () throws -> LiveRoom in
            if let existing = rooms[room], existing.participants.count >= configuration.maxParticipants {
                throw RoomError(.conflict, "room \(room) is full (\(configuration.maxParticipants) participants)")
            }
            return try roomLocked(room).live
        }
        if configuration.autoRecord, lock.withLock({ rooms[room].map { !$0.recorded } ?? false }) {
            do { _ = try startRecording(room: room) } catch let error as RoomError where error.kind == .conflict {}
        }
        var trackFile: String?
        if let folder = configuration.tracks {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw RoomError(.failed, "cannot create the tracks folder \(folder)")
            }
            let stamp = lock.withLock { rooms[room]?.stamp ?? Int(Date().timeIntervalSince1970) }
            let safeName = String(participantName.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? Character($0) : "_" }.prefix(32))
            trackFile = "\(folder)/\(room)-\(stamp)-\(safeName)-\(sessionID.prefix(6))"
        }
        try live.join(id: sessionID, name: participantName, tracks: negotiation.tracks.map { ($0.mid, $0.kind, $0.codec) }, trackFile: trackFile,
                      needKeyframe: { mid in transport.requestKeyframe(sessionID: sessionID, mid: mid) })
        lock.withLock {
            let participant = Participant(id: sessionID, name: participantName, room: room)
            routes[sessionID] = participant
            rooms[room]?.participants.insert(sessionID)
            rooms[room]?.everyone.append(participant)
        }
        let certificate = self.certificate
        do {
            try await transport.add(sessionID: sessionID, ufrag: ufrag) {
                try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: ufrag, localPassword: pwd, now: transport.now())
            }
        } catch {
            leave(sessionID: sessionID)
            throw RoomError(.invalid, "cannot set up the session: \(error)")
        }
        logger.info("joined", metadata: ["room": "\(room)", "participant": "\(participantName)",
                                         "tracks": "\(negotiation.tracks.map { "\($0.kind) \($0.codec)" }.joined(separator: ", "))"])
        return (negotiation.answer, sessionID)
    }

    /// WHIP DELETE: the participant leaves.
    public func end(room: String, sessionID: String) async throws {
        guard lock.withLock({ routes[sessionID]?.room == room }) else { throw RoomError(.notFound, "no such session in room \(room)") }
        await lock.withLock { transport }?.remove(sessionID: sessionID, reason: "the participant left (WHIP DELETE)")   // report and `.closed` first
        leave(sessionID: sessionID)
    }

    private func leave(sessionID: String) {
        lock.withLock {
            guard let route = routes.removeValue(forKey: sessionID) else { return }
            lastNoisyLog[sessionID] = nil
            rooms[route.room]?.participants.remove(sessionID)
            rooms[route.room]?.live.leave(id: sessionID)
        }
    }

    public var roomNames: [String] { lock.withLock { rooms.keys.sorted() } }

    /// The room, made if it does not exist yet (caller holds `lock`).
    private func roomLocked(_ name: String) throws -> Room {
        if let existing = rooms[name] { return existing }
        guard RoomDirectory.isValidRoomName(name) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        if let allowed = configuration.allowedRooms, !allowed.contains(name) { throw RoomError(.notFound, "no room \(name) here") }
        guard rooms.count < configuration.maxRooms else { throw RoomError(.unavailable, "too many rooms (\(configuration.maxRooms))") }
        guard let transport else { throw RoomError(.unavailable, "media transport not ready") }
        let logger = self.logger
        let room = Room(live: LiveRoom(name: name, layout: configuration.layout, clock: { transport.now() }, latency: configuration.latency,
                                       presentation: configuration.presentation, onFailure: { [weak self] error in
            logger.error("recording failed", metadata: ["room": "\(name)", "error": "\(error)"])
            Counter(label: "mcu_recording_failures_total", dimensions: [("room", name)]).increment()
            self?.recordFailure(room: name, error: error)
        }))
        rooms[name] = room
        return room
    }

    /// Makes the room (the API or the CLI can create rooms before anyone joins).
    public func createRoom(_ name: String) throws { _ = try lock.withLock { try roomLocked(name) } }

    private func existing(_ name: String) throws -> Room {
        guard let room = lock.withLock({ rooms[name] }) else { throw RoomError(.notFound, "no room \(name)") }
        return room
    }

    // MARK: Load

    private var cpuSample: (wall: Microseconds, cpu: Microseconds)?
    /// Cores the process uses, smoothed over a few seconds.
    public private(set) var cpuLoad: Double {
        get { lock.withLock { _cpuLoad } }
        set { lock.withLock { _cpuLoad = newValue } }
    }
    private var _cpuLoad = 0.0

    /// Measures the process's CPU use since the last call (the server calls it every second).
    public func sampleLoad() {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Microseconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        let wall = SystemClock().now()
        lock.withLock {
            if let last = cpuSample, wall > last.wall {
                let cores = Double(cpu - last.cpu) / Double(wall - last.wall)
                _cpuLoad = _cpuLoad == 0 ? cores : _cpuLoad * 0.6 + cores * 0.4
            }
            cpuSample = (wall, cpu)
        }
        Gauge(label: "mcu_cpu_cores_used").record(cpuLoad)
    }

    /// Refuses (503) a new recording the machine has no room for, judged by what the running ones cost.
    private func admit(room name: String) throws {
        let active = lock.withLock { rooms.values.filter { $0.live.isRecording }.count }
        guard active > 0 else { return }
        let load = cpuLoad, cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let perRoom = load / Double(active)
        if load + perRoom > cores * configuration.maxLoad {
            Counter(label: "mcu_recordings_refused_total", dimensions: [("reason", "load")]).increment()
            throw RoomError(.unavailable, "no capacity for another recording: \(active) use \(decimal(load, 2)) of \(Int(cores)) cores, "
                               + "another would need about \(decimal(perRoom, 2))")
        }
    }

    private func recordFailure(room name: String, error: MediaError) {
        lock.withLock { rooms[name]?.error = "recording stopped: \(error)" }
    }

    /// Free bytes for unprivileged writers on the file system holding `path` (nil when unknown).
    public static func freeBytes(at path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Starts recording the room (making it if needed), in `folder` under the recordings folder when given: the
    /// path of the new file. 409 when already recording, 503 when the disk is below the free-space floor.
    public func startRecording(room name: String, folder: String? = nil) throws -> String {
        if let folder, !RoomDirectory.isValidRoomName(folder) {
            throw RoomError(.invalid, "folder names are 1-64 letters, digits, '-' or '_' (one level under the recordings folder)", field: "folder")
        }
        let directory = configuration.recordings + (folder.map { "/" + $0 } ?? "")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let free = RoomDirectory.freeBytes(at: directory), free < configuration.minFreeBytes {
            throw RoomError(.unavailable, "only \(free >> 20) MiB free where recordings go (the floor is \(configuration.minFreeBytes >> 20) MiB)")
        }
        try admit(room: name)
        let room = try lock.withLock { try roomLocked(name) }
        var stamp = Int(Date().timeIntervalSince1970)
        var output = "\(directory)/\(name)-\(stamp).mp4"
        while FileManager.default.fileExists(atPath: output) || FileManager.default.fileExists(atPath: CompositeWriter.partialPath(for: output)) {
            stamp += 1
            output = "\(directory)/\(name)-\(stamp).mp4"
        }
        do throws(MediaError) {
            try room.live.start(output: output, settings: EncoderSettings(size: configuration.size, fps: configuration.fps,
                                                                          preset: configuration.preset, crf: configuration.crf))
        } catch {
            if error.code == .conflict { throw RoomError(.conflict, error.message) }
            throw RoomError(.failed, "cannot start the recording: \(error)")
        }
        lock.withLock { room.recorded = true; room.stamp = stamp; room.error = nil }
        logger.info("recording", metadata: ["room": "\(name)", "file": "\(output)"])
        return output
    }

    /// Stops the room's recording and finalizes the file. 409 when it is not recording.
    public func stopRecording(room name: String) throws -> LiveRecordingSummary {
        let room = try existing(name)
        let summary: LiveRecordingSummary?
        do { summary = try room.live.stopRecording() } catch {
            lock.withLock { room.error = "\(error)" }
            throw RoomError(.failed, "the recording failed: \(error)")
        }
        guard let summary else { throw RoomError(.conflict, "room \(name) is not recording") }
        lock.withLock { room.lastRecording = summary }
        logger.info("recorded", metadata: ["room": "\(name)", "file": "\(summary.recording.path)"])
        return summary
    }

    public func layout(room name: String) throws -> LayoutDocument { try existing(name).live.layout }

    public func watermarks(room name: String) throws -> JSONValue { try existing(name).live.watermarkDocument }

    /// Replaces a room's watermarks (a watermark document; images by relative path inside the assets folder).
    public func setWatermarks(room name: String, bytes: [UInt8]) async throws -> JSONValue {
        let room = try existing(name)
        let document: WatermarkDocument
        do throws(MediaError) { document = try WatermarkDocument.parse(bytes: bytes) } catch {
            throw RoomError(.invalid, error.message, field: error.location)
        }
        var marks: [(item: WatermarkItem, image: VideoPicture?)] = []
        for (i, item) in document.items.enumerated() {
            var image: VideoPicture?
            if case let .image(path, _) = item.content {
                let field = "items[\(i)].image"
                let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                guard !path.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !path.contains("\0") else {
                    throw RoomError(.invalid, "must be a path inside the assets folder (relative, without ..)", field: field)
                }
                let resolved = configuration.assets + "/" + path
                guard FileManager.default.isReadableFile(atPath: resolved) else {
                    throw RoomError(.invalid, "no such image in the assets folder", field: field)
                }
                do throws(MediaError) { image = try Composer.loadImage(resolved) } catch {
                    throw RoomError(.invalid, "not a readable image: \(error.message)", field: field)
                }
            }
            marks.append((item, image))
        }
        _ = await room.live.setWatermarks(marks, document: document.source)
        return document.source
    }

    /// Puts a layout in force; returns once a frame with it is written (frame index and time, nil when not recording).
    public func applyLayout(room name: String, _ layout: LayoutDocument) async throws -> LiveRoom.Effect? {
        let room = try existing(name)
        let effect = await room.live.apply(layout)
        logger.info("layout", metadata: ["room": "\(name)", "layout": "\(layout.name ?? "custom")"])
        return effect
    }

    public func update(room name: String, participant id: String, _ change: @escaping (inout ParticipantSettings) -> Void) async throws -> ParticipantSettings {
        let room = try existing(name)
        guard let settings = await room.live.update(id, change) else { throw RoomError(.notFound, "no participant \(id) in room \(name)") }
        return settings
    }

    public func chat(room name: String, from: String, text: String) async throws -> LiveRoom.Effect? {
        try await existing(name).live.chat(from: from, text: text)
    }

    public func snapshot(room name: String) async throws -> [UInt8] {
        guard let jpeg = try await existing(name).live.snapshot() else { throw RoomError(.conflict, "room \(name) is not recording: no composite to show") }
        return jpeg
    }

    /// What the API shows of a room.
    public func describe(room name: String) async throws -> JSONValue {
        let room = try existing(name)
        let (everyone, present, lastRecording, error) = lock.withLock { (room.everyone, room.participants, room.lastRecording, room.error) }
        let tiles = Dictionary(room.live.tileStatistics.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let transport = lock.withLock { self.transport }
        var participants: [JSONValue] = []
        for p in everyone where present.contains(p.id) {
            guard let settings = room.live.settings(of: p.id) else { continue }
            let decoded = room.live.trackStatistics(of: p.id)
            let reports = await transport?.reports(sessionID: p.id) ?? []
            var tracks: [JSONValue] = []
            for report in reports {
                let st = report.statistics, d = decoded[report.mid]
                var fields: [(String, JSONValue)] = [("mid", .string(report.mid)), ("kind", .string(report.kind)), ("codec", d.map { .string($0.codec) } ?? .null)]
                if report.kind == "video" {
                    fields += [("width", d?.width.map { .number(Double($0)) } ?? .null), ("height", d?.height.map { .number(Double($0)) } ?? .null),
                               ("fps", .number(((d?.framesPerSecond ?? 0) * 10).rounded() / 10))]
                }
                let lossRate = st.received + st.lost > 0 ? Double(st.lost) / Double(st.received + st.lost) : 0
                fields += [("bitrate", .number((d?.bitrate ?? 0).rounded())), ("packets", .number(Double(st.received))), ("lost", .number(Double(st.lost))),
                           ("loss", .number((lossRate * 10_000).rounded() / 10_000)), ("nacked", .number(Double(st.nacked))),
                           ("recovered", .number(Double(st.recovered))), ("keyframe_requests", .number(Double(st.keyframeRequests)))]
                tracks.append(.object(fields))
            }
            let tile = tiles[room.live.sourceID(of: p.id) ?? p.id]
            participants.append(.object([
                ("id", .string(p.id)), ("name", .string(settings.name)), ("pinned", .bool(settings.pinned)), ("hidden", .bool(settings.hidden)),
                ("gain", .number(Double(settings.gain))), ("muted", .bool(settings.muted)),
                ("frozen", .number(Double(tile?.frozen ?? 0) / 1e6)), ("tracks", .array(tracks)),
            ]))
        }
        var recording: JSONValue = .object([("active", .bool(false))])
        if let state = room.live.recordingState {
            let size = (try? FileManager.default.attributesOfItem(atPath: CompositeWriter.partialPath(for: state.path))[.size] as? Int) ?? 0
            recording = .object([("active", .bool(true)), ("file", .string(state.path)), ("duration", .number(Double(state.duration / 1000) / 1000)),
                                 ("size", .number(Double(size)))])
        }
        var fields: [(String, JSONValue)] = [("name", .string(name)), ("participants", .array(participants)), ("layout", room.live.layout.source),
                                             ("recording", recording)]
        if let last = lastRecording { fields.append(("last_recording", RoomDirectory.describe(last))) }
        if let error { fields.append(("error", .string(error))) }
        return .object(fields)
    }

    /// What the metrics sampler reads: rooms, their engines' work, every session's track statistics.
    public func metricsSnapshot() async -> MetricsSnapshot {
        let (all, sessions, transport) = lock.withLock { (rooms.map { ($0.key, $0.value) }, routes.values.map { $0 }, self.transport) }
        var snapshot = MetricsSnapshot()
        for (name, room) in all {
            let state = room.live.recordingState
            let bytes = state.flatMap { try? FileManager.default.attributesOfItem(atPath: CompositeWriter.partialPath(for: $0.path))[.size] as? Int } ?? 0
            snapshot.rooms.append(.init(name: name, participants: lock.withLock { room.participants.count }, recording: state != nil,
                                        recordingID: state?.path ?? "", work: room.live.work, bytesWritten: bytes))
        }
        for participant in sessions {
            guard let room = lock.withLock({ rooms[participant.room] }) else { continue }
            let decoded = room.live.trackStatistics(of: participant.id)
            for report in await transport?.reports(sessionID: participant.id) ?? [] {
                snapshot.tracks.append(.init(session: participant.id, mid: report.mid, kind: report.kind, statistics: report.statistics,
                                             decoded: decoded[report.mid]))
            }
        }
        return snapshot
    }

    public static func describe(_ s: LiveRecordingSummary) -> JSONValue {
        var fields: [(String, JSONValue)] = [("file", .string(s.recording.path)), ("duration", .number(Double(s.recording.duration / 1000) / 1000)),
                                             ("size", .number(Double(s.recording.bytes))), ("frames", .number(Double(s.recording.videoFrames))),
                                             ("lag", .object([("max", .number(Double(s.maxLag / 1000))), ("final", .number(Double(s.finalLag / 1000)))]))]
        if s.reducedRate > 0 {
            fields.append(("reduced_frame_rate", .object([("seconds", .number(Double(s.reducedRate / 1000) / 1000)), ("lowest", .number(s.lowestRate))])))
        }
        if s.fasterPreset > 0, let preset = s.fastestPreset {
            fields.append(("faster_preset", .object([("seconds", .number(Double(s.fasterPreset / 1000) / 1000)), ("fastest", .string(preset))])))
        }
        if let events = s.events { fields.append(("events", .string(events))) }
        if let chat = s.chat { fields.append(("chat", .string(chat))) }
        return .object(fields)
    }

    /// Participants present in all rooms, and whether anyone ever joined.
    public var presence: (now: Int, ever: Bool) {
        lock.withLock { (rooms.values.reduce(0) { $0 + $1.participants.count }, rooms.values.contains { !$0.everyone.isEmpty }) }
    }

    public func participantCount(room: String) -> Int { lock.withLock { rooms[room]?.participants.count ?? 0 } }

    /// Ends every session, stops every room's recording and finalizes the files.
    public func stopAll() async -> [Summary] {
        let sessions = lock.withLock { Array(routes.keys) }
        if let transport = lock.withLock({ transport }) {
            for id in sessions { await transport.remove(sessionID: id) }
        }
        let all = lock.withLock { () -> [(String, Room)] in
            defer { rooms.removeAll(); routes.removeAll() }
            return rooms.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        return all.compactMap { name, room in
            var summary = Summary(room: name, recording: nil, error: nil, participants: [])
            var tiles: [String: CompositionEngine.SourceStatistics] = [:]
            do {
                if let recorded = try room.live.stopRecording() ?? lock.withLock({ room.lastRecording }) {
                    summary.recording = recorded.recording
                    summary.maxLag = recorded.maxLag
                    summary.finalLag = recorded.finalLag
                    summary.reducedRate = recorded.reducedRate
                    summary.lowestRate = recorded.lowestRate
                    summary.fasterPreset = recorded.fasterPreset
                    summary.fastestPreset = recorded.fastestPreset
                    for tile in recorded.participants { tiles[tile.id] = tile }
                } else if room.everyone.isEmpty {
                    _ = room.live.close()
                    return nil                        // made, never used
                } else {
                    summary.error = lock.withLock { room.error } ?? "not recording"
                }
            } catch {
                summary.error = "\(error)"
            }
            summary.tracks = room.live.close()
            summary.participants = lock.withLock {
                room.everyone.map { p in ParticipantReport(name: p.name, tile: tiles[p.id], tracks: trackReports.removeValue(forKey: p.id) ?? []) }
            }
            return summary
        }
    }

    /// 128 bits or more of randomness as letters and digits.
    static func random(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

}

