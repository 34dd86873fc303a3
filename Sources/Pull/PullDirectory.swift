import Layout
import Logging
import Rooms
import Synchronization
import Transport

/// The WHEP and Janus sources of every room: added by the API or the CLI, each supervising its own connection.
public final class PullDirectory: Sendable {
    let directory: RoomDirectory
    /// A STUN server (`host:port`) for our server-reflexive candidate, when the recorder is behind NAT.
    let stunServer: String?
    private let sources = Mutex<[String: WHEPSource]>([:])
    private let janus = Mutex<[String: JanusSource]>([:])
    private let logger = Logger(label: "mcu-record.pull")

    public init(directory: RoomDirectory, stunServer: String? = nil) {
        self.directory = directory
        self.stunServer = stunServer
    }

    /// Pulls `url` into `room` as participant `name`: returns once the first connection is negotiated, or throws why
    /// it could not be (unreachable, refused, nothing we can receive). `offerer`: who makes the SDP offer.
    public func addWHEP(room: String, name: String?, url: String, token: String?, offerer: WHEPSource.Offerer = .auto) async throws -> WHEPSource {
        guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count <= 2048 else {
            throw RoomError(.invalid, "must be an http:// or https:// URL", field: "url")
        }
        let source = WHEPSource(id: RoomDirectory.newID(), room: room, name: String((name ?? "whep").prefix(64)), url: url, token: token,
                                offerer: offerer, stunServer: stunServer, directory: directory)
        do { try await source.start() } catch {
            logger.warning("WHEP source refused", metadata: ["room": "\(room)", "url": "\(url)", "reason": "\(error)"])
            guard let error = error as? PullError else { throw error }
            throw RoomError(error.permanent ? .invalid : .badGateway, error.description)
        }
        sources.withLock { $0[source.id] = source }
        return source
    }

    /// Records Janus VideoRoom `janusRoom` (a number or a string, as the room was made) at the Janus HTTP API `url`
    /// in `room`: returns once joined (no such room, a wrong PIN, Janus unreachable: the error). One per room.
    public func addJanus(room: String, url: String, janusRoom: JSONValue, pin: String?, apiSecret: String?, token: String?) async throws -> JanusSource {
        guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count <= 2048 else {
            throw RoomError(.invalid, "must be the http:// or https:// URL of Janus's HTTP API (…/janus)", field: "url")
        }
        guard !janus.withLock({ $0.values.contains { $0.room == room } }) else {
            throw RoomError(.conflict, "room \(room) already records a Janus room (one per room)")
        }
        let source = JanusSource(id: RoomDirectory.newID(), room: room, url: url.hasSuffix("/") ? String(url.dropLast()) : url, janusRoom: janusRoom,
                                 pin: pin, apiSecret: apiSecret, token: token, directory: directory)
        do { try await source.start() } catch {
            logger.warning("Janus source refused", metadata: ["room": "\(room)", "url": "\(url)", "janus_room": "\(janusRoom.serialized)", "reason": "\(error)"])
            guard let error = error as? PullError else { throw error }
            throw RoomError(error.permanent ? .invalid : .badGateway, error.description)
        }
        janus.withLock { $0[source.id] = source }
        return source
    }

    public func janusSources(room: String) -> [JanusSource] {
        janus.withLock { $0.values.filter { $0.room == room }.sorted { $0.id < $1.id } }
    }

    public func sources(room: String) -> [WHEPSource] {
        sources.withLock { $0.values.filter { $0.room == room }.sorted { $0.id < $1.id } }
    }

    /// Whether `id` is one of this directory's sources in `room`.
    public func has(room: String, id: String) -> Bool {
        sources.withLock { $0[id]?.room == room } || janus.withLock { $0[id]?.room == room }
    }

    /// Stops a source: its sessions end (WHEP DELETE; the Janus session destroyed) and its participants leave.
    public func remove(room: String, id: String) async throws {
        if let source = sources.withLock({ s in s[id].flatMap { $0.room == room ? s.removeValue(forKey: id) : nil } }) {
            await source.stop()
        } else if let source = janus.withLock({ s in s[id].flatMap { $0.room == room ? s.removeValue(forKey: id) : nil } }) {
            await source.stop()
        } else {
            throw RoomError(.notFound, "no source \(id) in room \(room)")
        }
    }

    /// Stops every source (the server is stopping).
    public func stopAll() async {
        for source in sources.withLock({ s in defer { s.removeAll() }; return Array(s.values) }) { await source.stop() }
        for source in janus.withLock({ s in defer { s.removeAll() }; return Array(s.values) }) { await source.stop() }
    }
}
