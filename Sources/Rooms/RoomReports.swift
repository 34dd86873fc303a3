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

/// What the API, the metrics and the final summary show of rooms, and stopping them all.
extension RoomDirectory {
    /// What the API shows of a room.
    public func describe(room name: String) async throws -> RoomReport {
        let room = try existing(name)
        let tiles = Dictionary(room.live.tileStatistics.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let transport = state.withLock { $0.transport }
        var participants: [RoomReport.Participant] = []
        for p in room.everyone where room.participants.contains(p.id) {
            guard let settings = room.live.settings(of: p.id) else { continue }
            let decoded = room.live.trackStatistics(of: p.id)
            let tracks = (await transport?.reports(sessionID: p.id) ?? []).map { report in
                let st = report.statistics
                return RoomReport.Track(mid: report.mid, kind: report.kind, packets: st.received, lost: st.lost, nacked: st.nacked,
                                        recovered: st.recovered, keyframeRequests: st.keyframeRequests, retransmitted: st.retransmitted,
                                        decoded: decoded[report.mid],
                                        simulcast: report.simulcast.map { s in
                                            RoomReport.Simulcast(layers: s.layers.map { .init(rid: $0.rid, width: $0.size?.width, height: $0.size?.height, bitrate: $0.bitrate) },
                                                                 selected: s.selected)
                                        })
            }
            let tile = tiles[room.live.sourceID(of: p.id) ?? p.id]
            participants.append(RoomReport.Participant(id: p.id, settings: settings, frozen: tile?.frozen ?? 0, tracks: tracks, declined: p.declined))
        }
        var recording: RoomReport.Recording?
        if let state = room.live.recordingState {
            let size = (try? FileManager.default.attributesOfItem(atPath: PartialFiles.partialPath(for: state.path))[.size] as? Int) ?? 0
            recording = RoomReport.Recording(path: state.path, duration: state.duration, bytes: size, paused: state.paused, outputs: state.outputs)
        }
        return RoomReport(name: name, participants: participants, layout: room.live.layout, recording: recording,
                          lastRecording: room.lastRecording, error: room.error)
    }

    /// What the metrics sampler reads: rooms, their engines' work, every session's track statistics.
    public func metricsSnapshot() async -> MetricsSnapshot {
        let (all, sessions, transport) = state.withLock { ($0.rooms.map { ($0.key, $0.value) }, $0.routes.values.map { $0 }, $0.transport) }
        var snapshot = MetricsSnapshot()
        for (name, room) in all {
            let state = room.live.recordingState
            let bytes = state.flatMap { try? FileManager.default.attributesOfItem(atPath: CompositeWriter.partialPath(for: $0.path))[.size] as? Int } ?? 0
            snapshot.rooms.append(.init(name: name, participants: room.participants.count, recording: state != nil,
                                        recordingID: state?.path ?? "", work: room.live.work, bytesWritten: bytes))
        }
        for participant in sessions {
            guard let room = state.withLock({ $0.rooms[participant.room] }) else { continue }
            let decoded = room.live.trackStatistics(of: participant.id)
            for report in await transport?.reports(sessionID: participant.id) ?? [] {
                snapshot.tracks.append(.init(session: participant.id, mid: report.mid, kind: report.kind, statistics: report.statistics,
                                             decoded: decoded[report.mid]))
            }
        }
        return snapshot
    }

    /// Participants present in all rooms, and whether anyone ever joined.
    public var presence: (now: Int, ever: Bool) {
        state.withLock { ($0.rooms.values.reduce(0) { $0 + $1.participants.count }, $0.rooms.values.contains { !$0.everyone.isEmpty }) }
    }

    public func participantCount(room: String) -> Int { state.withLock { $0.rooms[room]?.participants.count ?? 0 } }

    /// Ends every session, stops every room's recording and finalizes the files.
    public func stopAll() async -> [Summary] {
        let (sessions, transport) = state.withLock { (Array($0.routes.keys), $0.transport) }
        if let transport {
            for id in sessions { await transport.remove(sessionID: id) }
        }
        let (all, remaining) = state.withLock { state -> ([(String, Room)], [Participant]) in
            defer { state.rooms.removeAll(); state.routes.removeAll() }
            return (state.rooms.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, state.routes.values.sorted { $0.id < $1.id })
        }
        for p in remaining {
            let recording = all.first { $0.0 == p.room }?.1.live.recordingState.map { RoomDirectory.recordingID(of: $0.path) }
            emit(.participantLeft(room: p.room, recording: recording, participant: p.id, name: p.name, reason: "the server stopped"))
        }
        // Finalizing files is disk work that may take long (an hour-long recording): off the cooperative pool.
        let current = await offPool("stop rooms") {
            all.compactMap { name, room in
                let summary = self.summarize(name, room)
                if summary != nil { self.emit(.roomFinished(room: name)) }
                return summary
            }
        }
        return state.withLock { $0.closedSummaries } + current
    }

    /// Stops the room's recording if it has one, closes its participants and says what it recorded; nil for a room
    /// that was made and never used. Blocks while files are finalized: call off the cooperative pool.
    func summarize(_ name: String, _ room: Room) -> Summary? {
        var summary = Summary(room: name, recording: nil, error: nil, participants: [])
        var tiles: [String: CompositionEngine.SourceStatistics] = [:]
        do {
            let stopped = try room.live.stopRecording()
            if let stopped { emitFinished(room: name, path: stopped.recording.path, summary: stopped, error: nil) }
            if let recorded = stopped ?? room.lastRecording {
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
                summary.error = room.error ?? "not recording"
            }
        } catch {
            summary.error = "\(error)"
            if let path = room.recordingPath { emitFinished(room: name, path: path, summary: nil, error: "\(error)") }
        }
        summary.tracks = room.live.close()
        summary.participants = state.withLock { state in
            room.everyone.map { p in ParticipantReport(name: p.name, tile: tiles[p.id], tracks: state.trackReports.removeValue(forKey: p.id) ?? []) }
        }
        return summary
    }
}
