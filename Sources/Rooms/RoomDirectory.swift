import Codecs
import Synchronization
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


/// Rooms, their participants and the shared UDP transport. The media path never goes through here per packet:
/// the transport's callback finds the room in `routes` under the mutex and hands the frame to the room.
public final class RoomDirectory: MediaIngest, Sendable {
    public struct Participant: Sendable {
        public var id: String; public var name: String; public var room: String
        /// What of its offer was not taken, and why (a camera in a codec we do not decode, simulcast layers).
        public var declined: [String] = []
    }
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
    /// A room as the directory keeps it: its owner and who came.
    struct Room: Sendable {
        let live: LiveRoom
        var participants: Set<String> = []
        var everyone: [Participant] = []
        var stamp = 0
        var recorded = false
        var lastRecording: LiveRecordingSummary?
        /// The file of the latest recording started, and its HLS folder.
        var recordingPath: String?
        var hlsFolder: String?
        var error: String?
        /// When a sweep first found it empty and not recording (monotonic µs); nil while in use.
        var idleSince: Microseconds?
        /// Visitors left out of `everyone` (it keeps the latest `maxVisitorsKept`).
        var visitorsForgotten = 0
    }
    /// Visitors a room remembers for its summary; a room with endless churn must not grow without bound.
    static let maxVisitorsKept = 1000
    static let maxClosedKept = 100
    struct State: Sendable {
        var rooms: [String: Room] = [:]
        var routes: [String: Participant] = [:]
        /// Final session statistics, kept until the room's summary is made.
        var trackReports: [String: [PeerSession.TrackReport]] = [:]
        /// Summaries of rooms freed while the server ran (the latest `maxClosedKept`), for the final report.
        var closedSummaries: [Summary] = []
        var transport: UDPTransport?
        /// Last time a keyframe wait or loss burst was logged per participant: at most one line per 5 s each.
        var lastNoisyLog: [String: Microseconds] = [:]
        /// CPU time at the last load sample, and the smoothed load (cores).
        var cpuSample: (wall: Microseconds, cpu: Microseconds)?
        var cpuLoad = 0.0
        /// Plain RTP sources by id (their participants are in `routes` too).
        var rtpSources: [String: RTPSource] = [:]
        /// Participants pulled from remote servers, by id: they outlive their sessions.
        var pulled: [String: PulledParticipant] = [:]
        /// Who is told of room events (delivery).
        var observer: (@Sendable (RoomEvent) -> Void)?
    }
    let state = Mutex(State())
    let logger = Logger(label: "mcu-record.room")

    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        certificate = try DTLSCertificate()
    }

    public func attach(_ transport: UDPTransport) { state.withLock { $0.transport = transport } }

    /// Called on the transport's event loop for every session output that is not a datagram.
    public func ingest(sessionID: String, _ output: PeerSession.Output) {
        if case let .report(tracks) = output {
            state.withLock { if $0.routes[sessionID] != nil { $0.trackReports[sessionID] = tracks } }
            return
        }
        guard let (route, room) = state.withLock({ state in state.routes[sessionID].flatMap { r in state.rooms[r.room].map { (r, $0.live) } } }) else { return }
        switch output {
        case let .frame(mid, _, _, frame, time):
            room.frame(id: sessionID, mid: mid, data: frame.data, keyframe: frame.keyframe, time: time)
        case let .audioLevel(mid, dBov, time):
            room.audioLevel(id: sessionID, mid: mid, dBov: dBov, time: time)
        case .connected:
            logger.info("connected", metadata: ["room": "\(route.room)", "participant": "\(route.name)"])
        case let .closed(reason):
            if dropped(sessionID, reason: reason) {
                room.note("source-dropped", ["participant": .string(sessionID), "reason": .string(reason)])
                logger.warning("source dropped", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "reason": "\(reason)"])
                return
            }
            logger.info("left", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "reason": "\(reason)"])
            leave(sessionID: sessionID, reason: reason)
        case let .lossBurst(mid, packets):
            room.note("loss", ["participant": .string(sessionID), "track": .string(mid), "packets": .number(Double(packets))])
            if shouldLog(sessionID) {
                logger.warning("loss burst", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)", "packets": "\(packets)"])
            }
        case let .trackDelayed(mid, late):
            room.note("track-delayed", ["participant": .string(sessionID), "track": .string(mid), "seconds": .number(Double(late) / 1e6)])
            let metadata: Logger.Metadata = ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)"]
            if late > 0 {
                logger.warning("track arrives later than the room waits: placed \(Double(late / 1_000) / 1_000) s late (out of sync by that much) rather than dropped", metadata: metadata)
            } else {
                logger.notice("track back in sync", metadata: metadata)
            }
        case let .layerChanged(mid, rid, size):
            room.note("simulcast-layer", ["participant": .string(sessionID), "track": .string(mid), "rid": .string(rid)]
                      .merging(size.map { ["width": .number(Double($0.width)), "height": .number(Double($0.height))] } ?? [:]) { a, _ in a })
            logger.info("simulcast layer \(rid)\(size.map { " (\($0))" } ?? "")",
                        metadata: ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)"])
        case let .unexpectedSender(address, count):
            room.note("unexpected-sender", ["participant": .string(sessionID), "address": .string("\(address)"), "packets": .number(Double(count))])
            logger.warning("packets from an unexpected address dropped (the source takes its first sender's only)",
                           metadata: ["room": "\(route.room)", "participant": "\(route.name)", "address": "\(address)", "packets": "\(count)"])
        case let .keyframeRequested(mid):
            room.note("keyframe-wait", ["participant": .string(sessionID), "track": .string(mid)])
            if shouldLog(sessionID) {
                logger.notice("waiting for a keyframe", metadata: ["room": "\(route.room)", "participant": "\(route.name)", "track": "\(mid)"])
            }
        default:
            break
        }
    }

    func shouldLog(_ sessionID: String) -> Bool {
        let now = SystemClock().now()
        return state.withLock { state in
            if let last = state.lastNoisyLog[sessionID], now - last < 5_000_000 { return false }
            state.lastNoisyLog[sessionID] = now
            return true
        }
    }

    public static func isValidRoomName(_ name: String) -> Bool {
        (1...64).contains(name.unicodeScalars.count)
            && name.unicodeScalars.allSatisfy { $0.isASCII && (("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
    }

    /// WHIP: answer the offer, create the session, join the room (starting its recording). Returns the answer
    /// and the session id for the Location URL.
    public func publish(room: String, name: String?, offer: String, screens: Set<String> = []) async throws -> (answer: String, sessionID: String) {
        guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        if let allowed = configuration.allowedRooms, !allowed.contains(room) { throw RoomError(.notFound, "no room \(room) here") }
        guard let transport = state.withLock({ $0.transport }) else { throw RoomError(.unavailable, "media transport not ready") }
        let ufrag = RoomDirectory.random(8), pwd = RoomDirectory.random(24), sessionID = RoomDirectory.random(32)
        var options = AnswerOptions(iceUfrag: ufrag, icePwd: pwd, fingerprint: certificate.fingerprint,
                                    candidates: configuration.announceIPs.map { ($0, transport.localPort) }, sessionID: UInt64.random(in: 1...UInt64(Int64.max)))
        if configuration.audioOnly != nil { options.kinds = ["audio"] }
        let negotiation: Negotiation
        do { negotiation = try SDPAnswerer.answer(offer: offer, options: options) } catch {
            throw RoomError(.invalid, error.reason)
        }
        guard negotiation.tracks.count <= configuration.maxTracksPerParticipant else {
            throw RoomError(.invalid, "an offer may carry at most \(configuration.maxTracksPerParticipant) media tracks, not \(negotiation.tracks.count)")
        }
        // Screen shares: marked in the offer (a=content:slides, "screen" in the msid) or by the publisher (`?screen=MID`).
        let screenMids = screens.union(negotiation.tracks.filter(\.isScreen).map(\.mid))
        let certificate = self.certificate
        try await admit(room: room, name: name, sessionID: sessionID, tracks: negotiation.tracks, declined: negotiation.declined,
                        screens: screenMids, transport: transport) {
            try await transport.add(sessionID: sessionID, ufrag: ufrag) {
                try PeerSession(negotiation: negotiation, certificate: certificate, localUfrag: ufrag, localPassword: pwd, now: transport.now())
            }
        }
        return (negotiation.answer, sessionID)
    }

    /// WHIP DELETE: the participant leaves.
    public func end(room: String, sessionID: String) async throws {
        guard state.withLock({ $0.routes[sessionID]?.room == room }) else { throw RoomError(.notFound, "no such session in room \(room)") }
        await state.withLock { $0.transport }?.remove(sessionID: sessionID, reason: "the participant left (WHIP DELETE)")   // report and `.closed` first
        leave(sessionID: sessionID, reason: "the participant left (WHIP DELETE)")
    }

    func leave(sessionID: String, reason: String = "left", announce: Bool = true) {
        let left = state.withLock { state -> Participant? in
            guard let route = state.routes.removeValue(forKey: sessionID) else { return nil }
            state.lastNoisyLog[sessionID] = nil
            state.rtpSources[sessionID] = nil
            state.rooms[route.room]?.participants.remove(sessionID)
            state.rooms[route.room]?.live.leave(id: sessionID)
            return route
        }
        if let left, announce {
            emit(.participantLeft(room: left.room, recording: currentRecording(of: left.room), participant: left.id, name: left.name, reason: reason))
        }
    }

    public var roomNames: [String] { state.withLock { $0.rooms.keys.sorted() } }

    /// Frees rooms that have been empty and not recording for `configuration.roomGrace` (call it every second with
    /// a monotonic clock): their names and slots under `--max-rooms` become free again. What they recorded stays in
    /// the final report. Finalizing is disk work: call off the cooperative pool.
    public func sweep(now: Microseconds) {
        let grace = configuration.roomGrace
        let expired = state.withLock { state -> [(String, Room)] in
            var expired: [(String, Room)] = []
            for name in state.rooms.keys {
                guard var room = state.rooms[name] else { continue }
                if room.participants.isEmpty, !room.live.isRecording {
                    let since = room.idleSince ?? now
                    room.idleSince = since
                    if now - since >= grace { expired.append((name, room)) }
                } else {
                    room.idleSince = nil
                }
                state.rooms[name] = room
            }
            for (name, _) in expired { state.rooms[name] = nil }
            return expired
        }
        for (name, room) in expired {
            let summary = summarize(name, room)
            state.withLock { state in
                if let summary { state.closedSummaries.append(summary) }
                if state.closedSummaries.count > RoomDirectory.maxClosedKept { state.closedSummaries.removeFirst() }
            }
            logger.info("room freed", metadata: ["room": "\(name)", "reason": "empty and not recording"])
            if summary != nil { emit(.roomFinished(room: name)) }
        }
    }

    /// The room, made if it does not exist yet (under the mutex: `state` is the locked state).
    func makeRoom(_ name: String, _ state: inout State) throws(RoomError) -> Room {
        if let existing = state.rooms[name] { return existing }
        guard RoomDirectory.isValidRoomName(name) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        if let allowed = configuration.allowedRooms, !allowed.contains(name) { throw RoomError(.notFound, "no room \(name) here") }
        guard state.rooms.count < configuration.maxRooms else { throw RoomError(.unavailable, "too many rooms (\(configuration.maxRooms))") }
        guard let transport = state.transport else { throw RoomError(.unavailable, "media transport not ready") }
        let logger = self.logger
        let room = Room(live: LiveRoom(name: name, layout: configuration.layout, clock: { transport.now() }, latency: configuration.latency,
                                       presentation: configuration.presentation, videoBitrate: configuration.videoBitrate,
                                       decodeVideo: configuration.audioOnly == nil, onFailure: { [weak self] error in
            logger.error("recording failed", metadata: ["room": "\(name)", "error": "\(error)"])
            Counter(label: "mcu_recording_failures_total", dimensions: [("room", name)]).increment()
            self?.recordFailure(room: name, error: error)
        }))
        state.rooms[name] = room
        return room
    }

    /// Makes the room (the API or the CLI can create rooms before anyone joins).
    public func createRoom(_ name: String) throws { _ = try state.withLock { state throws(RoomError) in try makeRoom(name, &state) } }

    func existing(_ name: String) throws -> Room {
        guard let room = state.withLock({ $0.rooms[name] }) else { throw RoomError(.notFound, "no room \(name)") }
        return room
    }

    /// 128 bits or more of randomness as letters and digits.
    static func random(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

}
