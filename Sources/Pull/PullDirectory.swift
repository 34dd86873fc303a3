import Rooms
import Synchronization
import Transport

/// The WHEP sources of every room: added by the API or the CLI, each supervising its own connection.
public final class PullDirectory: Sendable {
    let directory: RoomDirectory
    /// A STUN server (`host:port`) for our server-reflexive candidate, when the recorder is behind NAT.
    let stunServer: String?
    private let sources = Mutex<[String: WHEPSource]>([:])

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
        do { try await source.start() } catch let error as PullError {
            throw RoomError(error.permanent ? .invalid : .badGateway, error.description)
        }
        sources.withLock { $0[source.id] = source }
        return source
    }

    public func sources(room: String) -> [WHEPSource] {
        sources.withLock { $0.values.filter { $0.room == room }.sorted { $0.id < $1.id } }
    }

    public func source(room: String, id: String) -> WHEPSource? { sources.withLock { $0[id] }.flatMap { $0.room == room ? $0 : nil } }

    /// Stops a source: its session ends (WHEP DELETE) and its participant leaves.
    public func remove(room: String, id: String) async throws {
        guard let source = sources.withLock({ s in s[id].flatMap { $0.room == room ? s.removeValue(forKey: id) : nil } }) else {
            throw RoomError(.notFound, "no source \(id) in room \(room)")
        }
        await source.stop()
    }

    /// Stops every source (the server is stopping).
    public func stopAll() async {
        for source in sources.withLock({ s in defer { s.removeAll() }; return Array(s.values) }) { await source.stop() }
    }
}
