import Foundation
import Logging
import SDP
import Session
import Transport

/// A plain RTP source in a room (what `POST /rooms/{room}/sources` made): where its sender sends.
public struct RTPSource: Sendable {
    public struct Stream: Sendable {
        public var mid: String, kind: String, codec: String, payloadType: Int, clockRate: Int
        /// Our RTP port, and our RTCP port when RTCP does not share it.
        public var port: Int, rtcpPort: Int?
    }
    public var id: String
    public var room: String
    public var name: String
    public var host: String
    public var streams: [Stream]
    public var rtcpMux: Bool
    public var declined: [String]
    /// An SDP describing the endpoint, for the sender (ffmpeg, GStreamer, a player to check with).
    public var sdp: String
}

extension RoomDirectory {
    /// Makes a plain RTP endpoint in `room` for a sender described by `sdp` (ports of 0: ours to choose; a
    /// pair when RTCP is not multiplexed): a participant named `name` whose tracks join the room like a WHIP
    /// publisher's. `sender`: the only IP accepted (else the first to send is learnt).
    public func addRTPSource(room: String, name: String?, sdp: String, sender: String?) async throws -> RTPSource {
        do { return try await makeRTPSource(room: room, name: name, sdp: sdp, sender: sender) } catch {
            logger.warning("rtp source refused", metadata: ["room": "\(room)", "reason": "\(error)"])
            throw error
        }
    }

    private func makeRTPSource(room: String, name: String?, sdp: String, sender: String?) async throws -> RTPSource {
        guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "room names are 1-64 letters, digits, '-' or '_'") }
        if let allowed = configuration.allowedRooms, !allowed.contains(room) { throw RoomError(.notFound, "no room \(room) here") }
        guard let transport = state.withLock({ $0.transport }) else { throw RoomError(.unavailable, "media transport not ready") }
        let description: PlainRTPDescription
        do { description = try PlainRTPDescription(sdp: sdp) } catch { throw RoomError(.invalid, "the source's SDP: \(error.reason)") }
        guard description.streams.count <= configuration.maxTracksPerParticipant else {
            throw RoomError(.invalid, "a source may carry at most \(configuration.maxTracksPerParticipant) media tracks, not \(description.streams.count)")
        }
        var senderIP: [UInt8]?
        if let sender {
            guard let ip = RoomDirectory.ipv4(sender) else { throw RoomError(.invalid, "sender must be an IPv4 address, not \(sender)") }
            senderIP = ip
        }
        let id = RoomDirectory.random(32), host = configuration.udpHost
        let tracks = description.streams.map(\.track)
        var ports: [Int] = []
        let ourKey = description.srtpKey.map { _ in (0..<30).map { _ in UInt8.random(in: 0...255) } }
        try await admit(room: room, name: name ?? "rtp", sessionID: id, tracks: tracks, declined: description.declined, screens: [],
                        transport: transport) {
            ports = try await RoomDirectory.bindPorts(description, id: id, host: host, transport: transport, senderIP: senderIP, ourKey: ourKey)
        }
        var streams: [RTPSource.Stream] = [], i = 0
        for stream in description.streams {
            let rtp = ports[i]
            i += 1
            var rtcp: Int?
            if !description.rtcpMux { rtcp = ports[i]; i += 1 }
            streams.append(.init(mid: stream.track.mid, kind: stream.track.kind, codec: stream.track.codec, payloadType: Int(stream.track.payloadType),
                                 clockRate: stream.track.clockRate, port: rtp, rtcpPort: rtcp))
        }
        let source = RTPSource(id: id, room: room, name: String((name ?? "rtp").prefix(64)), host: configuration.announceIPs.first ?? host,
                               streams: streams, rtcpMux: description.rtcpMux, declined: description.declined,
                               sdp: RoomDirectory.senderSDP(streams, host: configuration.announceIPs.first ?? host, mux: description.rtcpMux, key: ourKey))
        state.withLock { $0.rtpSources[id] = source }
        logger.info("rtp source ready", metadata: ["room": "\(room)", "participant": "\(source.name)",
                                                   "ports": "\(streams.map { "\($0.kind) \($0.port)" + ($0.rtcpPort.map { "/\($0)" } ?? "") }.joined(separator: ", "))"])
        return source
    }

    /// The RTP sources of `room`.
    public func rtpSources(room: String) -> [RTPSource] {
        state.withLock { $0.rtpSources.values.filter { $0.room == room }.sorted { $0.id < $1.id } }
    }

    /// Removes an RTP source: its participant leaves, its ports close.
    public func removeRTPSource(room: String, id: String) async throws {
        guard state.withLock({ $0.rtpSources[id]?.room == room }) else { throw RoomError(.notFound, "no source \(id) in room \(room)") }
        await state.withLock { $0.transport }?.remove(sessionID: id, reason: "the source was removed")
        state.withLock { _ = $0.rtpSources.removeValue(forKey: id) }
        leave(sessionID: id, reason: "the source was removed")
    }

    /// Binds each stream's port (and RTCP port): those the SDP names, else a free even/odd pair (RTCP on RTP + 1, as
    /// senders assume) or a free port.
    static func bindPorts(_ description: PlainRTPDescription, id: String, host: String, transport: UDPTransport, senderIP: [UInt8]?,
                          ourKey: [UInt8]?) async throws -> [Int] {
        var lastError: Error?
        for _ in 0..<20 {
            var wanted: [Int] = []
            for stream in description.streams {
                let base = stream.port != 0 ? stream.port : (description.rtcpMux ? 0 : 2 * Int.random(in: 20_000...29_999))
                wanted.append(base)
                if !description.rtcpMux { wanted.append(stream.rtcpPort ?? (base == 0 ? 0 : base + 1)) }
            }
            do {
                let key = description.srtpKey
                return try await transport.addPlain(sessionID: id, host: host, ports: wanted) {
                    try PlainRTPSession(tracks: description.streams.map(\.track), now: transport.now(), rtcpMux: description.rtcpMux, sender: senderIP,
                                        srtp: key.flatMap { k in ourKey.map { (.aes128CmSha1_80, k, $0) } })
                }
            } catch {
                lastError = error
                // Ports the SDP named are not ours to change: their failure is the answer.
                if description.streams.allSatisfy({ $0.port != 0 }) { break }
            }
        }
        throw RoomError(.unavailable, "cannot bind the source's ports: \(lastError.map { "\($0)" } ?? "no free port")")
    }

    static func senderSDP(_ streams: [RTPSource.Stream], host: String, mux: Bool, key: [UInt8]?) -> String {
        var lines = ["v=0", "o=- 0 0 IN IP4 \(host)", "s=mcu-record", "c=IN IP4 \(host)", "t=0 0"]
        for s in streams {
            let name = s.codec == "h264" ? "H264" : s.codec == "opus" ? "opus" : s.codec.uppercased()
            lines.append("m=\(s.kind) \(s.port) \(key == nil ? "RTP/AVPF" : "RTP/SAVPF") \(s.payloadType)")
            lines.append("a=rtpmap:\(s.payloadType) \(name)/\(s.clockRate)" + (s.codec == "opus" ? "/2" : ""))
            if s.kind == "video" { lines += ["a=rtcp-fb:\(s.payloadType) nack", "a=rtcp-fb:\(s.payloadType) nack pli"] }
            if mux { lines.append("a=rtcp-mux") } else if let rtcp = s.rtcpPort { lines.append("a=rtcp:\(rtcp)") }
            if let key { lines.append("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(key))") }
            lines.append("a=recvonly")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
