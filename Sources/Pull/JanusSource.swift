import Foundation
import Layout
import Logging
import Metrics
import Rooms
import SDP
import Synchronization

/// A Janus VideoRoom recorded as a room: the recorder joins it as a participant that never publishes (so Janus
/// tells it who publishes, unpublishes and leaves), subscribes to each publisher (Janus offers, we answer) and
/// makes each one a participant named by its Janus display name. Keep-alives hold the Janus session; when Janus
/// goes away (a restart, a lost session) the tiles show "reconnecting", the source joins again with backoff, and
/// publishers that come back under the same display name are the same participants as before.
public final class JanusSource: Sendable {
    public struct Status: Sendable {
        /// connecting, connected, reconnecting, stopped.
        public var state = "connecting"
        /// Janus sessions made so far (1 + reconnections).
        public var connections = 0
        public var lastError: String?
        /// The display names of the publishers recorded now.
        public var publishers: [String] = []
    }

    enum Input: Sendable {
        case events(session: UInt64, [JSONValue])
        case lost(session: UInt64, String)
        case dropped(participant: String, generation: Int, String)
        /// A second after a drop: subscribe again if the publisher is still there.
        case resubscribe(participant: String, generation: Int)
        case tick
    }

    public let id: String
    public let room: String
    public let url: String
    public let janusRoom: JSONValue
    let pin: String?
    let api: JanusAPI
    let directory: RoomDirectory
    let status = Mutex(Status())
    let inputs: AsyncStream<Input>
    let input: AsyncStream<Input>.Continuation
    /// The long polls and the keep-alive ticker (cancelled at stop), and the supervisor (left to finish).
    let tasks = Mutex<[Task<Void, Never>]>([])
    let supervisor = Mutex<Task<Void, Never>?>(nil)
    let logger = Logger(label: "mcu-record.janus")
    /// How long a participant whose publisher vanished with a Janus restart waits for it to come back.
    static let comebackGrace: Duration = .seconds(20)

    init(id: String, room: String, url: String, janusRoom: JSONValue, pin: String?, apiSecret: String?, token: String?, directory: RoomDirectory) {
        self.id = id; self.room = room; self.url = url; self.janusRoom = janusRoom; self.pin = pin
        api = JanusAPI(base: url, apiSecret: apiSecret, token: token)
        self.directory = directory
        (inputs, input) = AsyncStream.makeStream(of: Input.self)
    }

    public var current: Status { status.withLock { $0 } }

    /// Joins the Janus room (a refusal — no such room, a wrong PIN, Janus unreachable — is the caller's error), then
    /// records its publishers until `stop`.
    func start() async throws {
        let joined: Joined
        do { joined = try await join() } catch {
            throw PullError("\(error)", permanent: !error.transient)
        }
        let running = Task { [self] in await supervise(joined) }
        supervisor.withLock { $0 = running }
        let ticker = Task { [input] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                input.yield(.tick)
            }
        }
        tasks.withLock { $0.append(ticker) }
    }

    /// Stops recording the room: the participants leave, the Janus session is destroyed.
    func stop() async {
        status.withLock { $0.state = "stopped" }
        for task in tasks.withLock({ $0 }) { task.cancel() }
        input.finish()
        await supervisor.withLock({ $0 })?.value
    }

    var stopped: Bool { status.withLock { $0.state == "stopped" } }

    struct Joined: Sendable {
        var session: UInt64
        var listener: UInt64
        var publishers: [(feed: UInt64, display: String)]
    }

    /// A Janus session, a VideoRoom handle joined as a publisher that does not publish: the room's publishers.
    func join() async throws(JanusError) -> Joined {
        let session = try await api.createSession()
        do throws(JanusError) {
            let listener = try await api.attach(session: session)
            var body: [(String, JSONValue)] = [("request", .string("join")), ("ptype", .string("publisher")), ("room", janusRoom),
                                               ("display", .string("mcu-record"))]
            if let pin { body.append(("pin", .string(pin))) }
            try await api.message(session: session, handle: listener, body)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                for event in try await api.poll(session: session) where JanusSource.sender(event) == listener {
                    guard let data = event["plugindata"]?["data"] else { continue }
                    if case let .number(code)? = data["error_code"] {
                        throw JanusError(code: Int(code), reason: JanusSource.string(data["error"]) ?? "the VideoRoom refused to join")
                    }
                    if data["videoroom"] == .string("joined") {
                        status.withLock { s in s.connections += 1; if s.state != "stopped" { s.state = "connected" } }
                        startPump(session: session)
                        return Joined(session: session, listener: listener, publishers: JanusSource.publishers(data))
                    }
                }
            }
            throw JanusError(reason: "Janus did not confirm joining room \(janusRoom.serialized) within 10 s", transient: true)
        } catch {
            await api.destroy(session: session)
            throw error
        }
    }

    /// Long-polls one Janus session's events into the supervisor's inputs until it fails (Janus gone, session lost).
    private func startPump(session: UInt64) {
        let pump = Task { [api, input] in
            while !Task.isCancelled {
                do { input.yield(.events(session: session, try await api.poll(session: session))) } catch {
                    input.yield(.lost(session: session, "\(error)"))
                    return
                }
            }
        }
        tasks.withLock { $0.append(pump) }
    }

    static func sender(_ event: JSONValue) -> UInt64? {
        if case let .number(n)? = event["sender"] { UInt64(exactly: n) } else { nil }
    }

    static func string(_ value: JSONValue?) -> String? {
        if case let .string(s)? = value { s } else { nil }
    }

    /// The `publishers` list of a VideoRoom event: each feed id and display name.
    static func publishers(_ data: JSONValue) -> [(feed: UInt64, display: String)] {
        guard case let .array(list)? = data["publishers"] else { return [] }
        return list.compactMap { p in
            guard case let .number(n)? = p["id"], let feed = UInt64(exactly: n) else { return nil }
            return (feed, String((string(p["display"]) ?? "publisher \(feed)").prefix(64)))
        }
    }
}
