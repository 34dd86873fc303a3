import Foundation
import Logging
import RTP
import SDP
import Session
import Transport

extension RoomDirectory {
    /// Puts a new participant into `room` (made, and recording, if it is not yet): its tracks join the room's
    /// pipeline, then `attach` starts its session on the transport; if that fails, it leaves again.
    func admit(room: String, name: String?, sessionID: String, tracks: [NegotiatedTrack], declined: [String], screens: Set<String>,
               transport: UDPTransport, attach: () async throws -> Void) async throws {
        let participantName = String((name ?? "participant").prefix(64))
        if !declined.isEmpty {
            logger.warning("offer partly declined", metadata: ["room": "\(room)", "participant": "\(participantName)", "declined": "\(declined.joined(separator: "; "))"])
        }
        let maxParticipants = configuration.maxParticipants
        let live = try state.withLock { state throws(RoomError) -> LiveRoom in
            if let existing = state.rooms[room], existing.participants.count >= maxParticipants {
                throw RoomError(.conflict, "room \(room) is full (\(maxParticipants) participants)")
            }
            return try makeRoom(room, &state).live
        }
        if configuration.autoRecord, state.withLock({ $0.rooms[room].map { !$0.recorded } ?? false }) {
            do { _ = try await startRecording(room: room) } catch let error as RoomError where error.kind == .conflict {}
        }
        var trackFile: String?
        if let folder = configuration.tracks {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw RoomError(.failed, "cannot create the tracks folder \(folder)")
            }
            let stamp = state.withLock { $0.rooms[room]?.stamp } ?? Int(Date().timeIntervalSince1970)
            let safeName = String(participantName.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? Character($0) : "_" }.prefix(32))
            trackFile = "\(folder)/\(room)-\(stamp)-\(safeName)-\(sessionID.prefix(6))"
        }
        try live.join(id: sessionID, name: participantName, tracks: tracks.map { ($0.mid, $0.kind, $0.codec) }, screens: screens,
                      trackFile: trackFile,
                      needKeyframe: { mid in transport.requestKeyframe(sessionID: sessionID, mid: mid) },
                      capBitrate: { bps in transport.setVideoBitrateCap(sessionID: sessionID, bitsPerSecond: bps) },
                      showTiles: { tiles in
                          transport.setVideoTiles(sessionID: sessionID, tiles: tiles.mapValues { $0.map { PictureSize(width: $0.width, height: $0.height) } })
                      })
        state.withLock { state in
            let participant = Participant(id: sessionID, name: participantName, room: room, declined: declined)
            state.routes[sessionID] = participant
            guard var r = state.rooms[room] else { return }
            r.participants.insert(sessionID)
            r.everyone.append(participant)
            if r.everyone.count > RoomDirectory.maxVisitorsKept {
                // The oldest visitor that has left is forgotten (its final statistics with it).
                if let gone = r.everyone.firstIndex(where: { !r.participants.contains($0.id) }) {
                    state.trackReports[r.everyone[gone].id] = nil
                    r.everyone.remove(at: gone)
                    r.visitorsForgotten += 1
                }
            }
            state.rooms[room] = r
        }
        do {
            try await attach()
        } catch {
            leave(sessionID: sessionID, announce: false)
            if error is UDPTransport.OutgoingConflict { throw error }
            throw RoomError(.invalid, "cannot set up the session: \(error)")
        }
        // The cap the room set before the session existed (at join, or a tile since) reaches it now.
        if let cap = live.videoBitrateCap(of: sessionID) { transport.setVideoBitrateCap(sessionID: sessionID, bitsPerSecond: cap) }
        emit(.participantJoined(room: room, recording: currentRecording(of: room), participant: sessionID, name: participantName))
        logger.info("joined", metadata: ["room": "\(room)", "participant": "\(participantName)",
                                         "tracks": "\(tracks.map { "\($0.kind) \($0.codec)" }.joined(separator: ", "))"])
    }

}
