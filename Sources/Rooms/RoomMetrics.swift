import Compositor
import Metrics
import MediaCore
import Recorder
import RTP
import Session

/// The service's figures through swift-metrics (the server bootstraps the Prometheus backend and serves them at
/// `/metrics`). Sampled once a second from the rooms and sessions: gauges are set, counters grow by what was
/// added since the last sample. Used by one task at a time (the server's sampling loop): an actor keeps it so.
public actor RoomMetrics {
    private let service: RoomDirectory
    private var last: [String: Double] = [:]
    /// Rooms with a compositor-lag gauge (a room that stops recording loses it) and with a participants gauge (a
    /// room that goes loses it).
    private var lagRooms: Set<String> = [], participantRooms: Set<String> = []
    /// Keys of `last` updated by the sample in progress.
    private var seenKeys: Set<String> = []

    public init(service: RoomDirectory) { self.service = service }

    /// A counter that follows a cumulative total (sessions and decoders count from their start).
    private func advance(_ name: String, _ key: String, to total: Double, dimensions: [(String, String)] = []) {
        let previous = last[key] ?? 0
        last[key] = total
        seenKeys.insert(key)
        if total > previous {
            FloatingPointCounter(label: name, dimensions: dimensions).increment(by: total - previous)
        }
    }

    public func sample() async {
        let snapshot = await service.metricsSnapshot()
        seenKeys.removeAll(keepingCapacity: true)
        defer {
            // Totals of sessions and recordings that ended are not needed any more (a busy server sees thousands).
            last = last.filter { seenKeys.contains($0.key) }
        }
        var recordingRooms: Set<String> = []
        Gauge(label: "mcu_rooms").record(snapshot.rooms.count)
        Gauge(label: "mcu_participants").record(snapshot.rooms.reduce(0) { $0 + $1.participants })
        Gauge(label: "mcu_recordings_active").record(snapshot.rooms.filter(\.recording).count)
        for room in snapshot.rooms {
            let dims = [("room", room.name)]
            Gauge(label: "mcu_room_participants", dimensions: dims).record(room.participants)
            if let work = room.work {
                advance("mcu_output_frames_total", "frames/\(room.name)/\(room.recordingID)", to: Double(work.frames), dimensions: dims)
                advance("mcu_encode_seconds_total", "encode/\(room.name)/\(room.recordingID)", to: Double(work.encode) / 1e6, dimensions: dims)
                advance("mcu_compose_seconds_total", "compose/\(room.name)/\(room.recordingID)", to: Double(work.compose) / 1e6, dimensions: dims)
                Gauge(label: "mcu_compositor_lag_seconds", dimensions: dims).record(Double(work.lag) / 1e6)
                recordingRooms.insert(room.name)
            }
            advance("mcu_bytes_written_total", "bytes/\(room.name)/\(room.recordingID)", to: Double(room.bytesWritten), dimensions: dims)
        }
        for gone in lagRooms.subtracting(recordingRooms) {
            Gauge(label: "mcu_compositor_lag_seconds", dimensions: [("room", gone)]).destroy()
        }
        lagRooms = recordingRooms
        let rooms = Set(snapshot.rooms.map(\.name))
        for gone in participantRooms.subtracting(rooms) { Gauge(label: "mcu_room_participants", dimensions: [("room", gone)]).destroy() }
        participantRooms = rooms
        for track in snapshot.tracks {
            let key = "\(track.session)/\(track.mid)"
            let dims = [("kind", track.kind)]
            advance("mcu_packets_received_total", "received/\(key)", to: Double(track.statistics.received), dimensions: dims)
            advance("mcu_packets_lost_total", "lost/\(key)", to: Double(track.statistics.lost), dimensions: dims)
            advance("mcu_nacks_total", "nacked/\(key)", to: Double(track.statistics.nacked), dimensions: dims)
            advance("mcu_packets_recovered_total", "recovered/\(key)", to: Double(track.statistics.recovered), dimensions: dims)
            advance("mcu_plis_total", "pli/\(key)", to: Double(track.statistics.keyframeRequests), dimensions: dims)
            if let decoded = track.decoded {
                advance("mcu_decode_seconds_total", "decode/\(key)", to: Double(decoded.decodeTime) / 1e6, dimensions: dims)
                advance("mcu_frames_dropped_total", "dropped/\(key)", to: Double(decoded.dropped), dimensions: dims)
            }
        }
    }
}

extension RoomDirectory {
    public struct MetricsSnapshot: Sendable {
        public struct Room: Sendable {
            public var name: String; public var participants: Int; public var recording: Bool; public var recordingID: String
            public var work: CompositionEngine.Counters?; public var bytesWritten: Int
        }
        public struct Track: Sendable {
            public var session: String; public var mid: String; public var kind: String
            public var statistics: JitterBuffer.Statistics; public var decoded: TrackStatistics?
        }
        public var rooms: [Room] = []
        public var tracks: [Track] = []
    }
}
