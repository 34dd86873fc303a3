import RTP
import SDP

/// RTX (RFC 4588): a retransmission travels in its own stream, with its own payload type and SSRC, the original
/// sequence number in the first two payload bytes. Unwrapped, it is the lost packet again.
extension MediaReceiver {
    /// nil: not a retransmission. `.some(nil)`: one with nothing to repair (a padding-only bandwidth probe, or a
    /// stream not known yet). Otherwise the original packet.
    func unwrapRetransmission(_ packet: RTPPacket) -> RTPPacket?? {
        // Every packet passes here: the common case (not RTX) allocates nothing.
        guard tracks.contains(where: { $0.rtxPayloadType == packet.payloadType }) else { return nil }
        let candidates = tracks.filter { $0.rtxPayloadType == packet.payloadType }
        let track = candidates.first { t in
            if let id = t.extensions[SDPAnswerer.midURI], let mid = packet.mid(id: id) { return mid == t.mid }
            return t.rtxSSRCs[packet.ssrc] != nil
        } ?? (candidates.count == 1 ? candidates[0] : nil)
        // Probes carry padding only; a payload of two bytes or less repairs nothing.
        guard let track, packet.payload.count > 2 else { return .some(nil) }
        guard let media = mediaSSRC(repairedBy: packet, track: track) else { return .some(nil) }
        let p = packet.payload, start = p.startIndex
        let bytes = RTPPacket.build(payloadType: track.payloadType, sequenceNumber: UInt16(p[start]) << 8 | UInt16(p[start + 1]),
                                    timestamp: packet.timestamp, ssrc: media, marker: packet.marker, payload: Array(p.dropFirst(2)))
        return .some(try? RTPPacket(parsing: bytes))
    }

    /// The SSRC an RTX packet repairs: from the FID group, from its repaired-rtp-stream-id (simulcast), or the
    /// track's one media stream.
    private func mediaSSRC(repairedBy packet: RTPPacket, track: NegotiatedTrack) -> UInt32? {
        if let media = track.rtxSSRCs[packet.ssrc] ?? repairs[packet.ssrc] { return media }
        if let id = track.extensions[SDPAnswerer.repairedRIDURI], let rid = packet.text(id: id),
           let media = streams.first(where: { $0.value.track.mid == track.mid && $0.value.layer == rid })?.key {
            if repairs.count < 64 { repairs[packet.ssrc] = media }
            return media
        }
        let mine = streams.filter { $0.value.track.mid == track.mid }
        return mine.count == 1 ? mine.first?.key : nil
    }
}
