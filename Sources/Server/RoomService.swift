import Codecs
import Compositor
import FoundationEssentials
import Layout
import Logging
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
    public var latency: Microseconds = 400_000
    /// When set, each participant's tracks are also written here as received (`--tracks`).
    public var tracks: String?
    /// When set, only these rooms accept publishers (the CLI's `--room`).
    public var allowedRooms: Set<String>?

    public init(layout: LayoutDocument) { self.layout = layout }
}

public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    public var description: String { reason }
}

/// Rooms, their participants and the shared UDP transport. The media path never goes through here per packet:
/// the transport's callback finds the room in `routes` under a lock and hands the frame to the room.
/// `@unchecked Sendable`: `rooms` and `routes` are only touched under `lock`.
public final class RoomService: @unchecked Sendable {
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
        public var error: String?
        public var participants: [ParticipantReport]
    }

    public let configuration: ServerConfiguration
    public let certificate: DTLSCertificate
    private let lock = ConditionLock()
    private var rooms: [String: (live: LiveRoom, participants: Set<String>, everyone: [Participant], stamp: Int)] = [:]
    /// Final session statistics, kept until the room's summary is made.
    private var trackReports: [String: [PeerSession.TrackReport]] = [:]
    private var routes: [String: Participant] = [:]
    private var transport: UDPTransport?
    private var text: TextRenderer?
    private let logger = Logger(label: "mcu-record.room")
    /// Last time a keyframe wait or loss burst was logged per participant: at most one line per 5 s each.
    private var lastNoisyLog: [String: Microseconds] = [:]

    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        certificate = try DTLSCertificate()
        text = try? TextRenderer()
    }

    public func attach(_ transport: UDPTransport) { lock.withLock { self.transport = transport } }

    /// Called on the transport's event loop for every session output that is not a datagram.
    public func handle(sessionID: String, output: PeerSession.Output) {
        if case let .report(tracks) = output {
            lock.withLock { if routes[sessionID] != nil { trackReports[sessionID] = tracks } }
            return
        }
        guard let route = lock.withLock({ routes[sessionID] }), let room = lock.withLock({ rooms[route.room]?.live }) else { return }
        switch output {
        case let .frame(mid, _, _, frame, time):
            room.frame(id: sessionID, mid: mid, data: frame.data, keyframe: frame.keyframe, time: time)
        case .connected:
            logger.info("connected", metadata: ["room": "\(route.room)", "participant": "\(route.name)"])
        case let .closed(reason):
            logger.info("left", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "reason": "\(reason)"])
            leave(sessionID: sessionID)
        case let .lossBurst(mid, packets):
            if shouldLog(sessionID) {
                logger.warning("loss burst", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)", "packets": "\(packets)"])
            }
        case let .keyframeRequested(mid):
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
        guard RoomService.isValidRoomName(room) else { throw ServiceError(status: 400, reason: "room names are 1-64 letters, digits, '-' or '_'") }
        if let allowed = configuration.allowedRooms, !allowed.contains(room) { throw ServiceError(status: 404, reason: "no room \(room) here") }
        guard let transport = lock.withLock({ self.transport }) else { throw ServiceError(status: 503, reason: "media transport not ready") }
        let ufrag = RoomService.random(8), pwd = RoomService.random(24), sessionID = RoomService.random(32)
        let options = AnswerOptions(iceUfrag: ufrag, icePwd: pwd, fingerprint: certificate.fingerprint,
                                    candidates: configuration.announceIPs.map { ($0, transport.localPort) }, sessionID: UInt64.random(in: 1...UInt64(Int64.max)))
        let negotiation: Negotiation
        do { negotiation = try SDPAnswerer.answer(offer: offer, options: options) } catch {
            throw ServiceError(status: 400, reason: error.reason)
        }
        let participantName = String((name ?? "participant").prefix(64))
        let live = try lock.withLock { () throws -> LiveRoom in
            if let existing = rooms[room] {
                guard existing.participants.count < configuration.maxParticipants else {
                    throw ServiceError(status: 409, reason: "room \(room) is full (\(configuration.maxParticipants) participants)")
                }
                return existing.live
            }
            guard rooms.count < configuration.maxRooms else { throw ServiceError(status: 503, reason: "too many rooms") }
            let live = LiveRoom(name: room, clock: { transport.now() }, latency: configuration.latency)
            let stamp = Int(Date().timeIntervalSince1970)
            let output = "\(configuration.recordings)/\(room)-\(stamp).mp4"
            try? FileManager.default.createDirectory(atPath: configuration.recordings, withIntermediateDirectories: true)
            do {
                try live.start(layout: configuration.layout, output: output,
                               settings: EncoderSettings(size: configuration.size, fps: configuration.fps, preset: configuration.preset, crf: configuration.crf),
                               text: text)
            } catch { throw ServiceError(status: 500, reason: "cannot start the recording: \(error)") }
            rooms[room] = (live, [], [], stamp)
            logger.info("recording", metadata: ["room": "\(room)", "file": "\(output)"])
            return live
        }
        var trackFile: String?
        if let folder = configuration.tracks {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw ServiceError(status: 500, reason: "cannot create the tracks folder \(folder)")
            }
            let stamp = lock.withLock { rooms[room]?.stamp ?? 0 }
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
            throw ServiceError(status: 400, reason: "cannot set up the session: \(error)")
        }
        logger.info("joined", metadata: ["room": "\(room)", "participant": "\(participantName)",
                                         "tracks": "\(negotiation.tracks.map { "\($0.kind) \($0.codec)" }.joined(separator: ", "))"])
        return (negotiation.answer, sessionID)
    }

    /// WHIP DELETE: the participant leaves.
    public func end(room: String, sessionID: String) async throws {
        guard lock.withLock({ routes[sessionID]?.room == room }) else { throw ServiceError(status: 404, reason: "no such session in room \(room)") }
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

    /// Participants present in all rooms, and whether anyone ever joined.
    public var presence: (now: Int, ever: Bool) {
        lock.withLock { (rooms.values.reduce(0) { $0 + $1.participants.count }, !rooms.isEmpty) }
    }

    public func participantCount(room: String) -> Int { lock.withLock { rooms[room]?.participants.count ?? 0 } }

    /// Ends every session, stops every room's recording and finalizes the files.
    public func stopAll() async -> [Summary] {
        let sessions = lock.withLock { Array(routes.keys) }
        if let transport = lock.withLock({ transport }) {
            for id in sessions { await transport.remove(sessionID: id) }
        }
        let all = lock.withLock { () -> [(String, LiveRoom, [Participant])] in
            defer { rooms.removeAll(); routes.removeAll() }
            return rooms.map { ($0.key, $0.value.live, $0.value.everyone) }
        }
        return all.map { name, live, everyone in
            var summary = Summary(room: name, recording: nil, error: nil, participants: [])
            var tiles: [String: CompositionEngine.SourceStatistics] = [:]
            do {
                let recorded = try live.stop()
                summary.recording = recorded.recording
                summary.tracks = recorded.tracks
                summary.maxLag = recorded.maxLag
                summary.finalLag = recorded.finalLag
                for tile in recorded.participants { tiles[tile.id] = tile }
            } catch {
                summary.error = "\(error)"
            }
            summary.participants = lock.withLock {
                everyone.map { p in ParticipantReport(name: p.name, tile: tiles[p.id], tracks: trackReports.removeValue(forKey: p.id) ?? []) }
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

