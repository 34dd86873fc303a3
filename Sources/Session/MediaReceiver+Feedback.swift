import RTP

/// What the session tells the sender about its reception: receiver reports, transport-cc arrival times, REMB caps.
extension MediaReceiver {
    /// Caps what the sender sends for its video (REMB, when the offer allowed `goog-remb`): told at once when it
    /// changes, then every second.
    func setVideoBitrateCap(_ bitsPerSecond: Int?, now: RTPTime) -> [Output] {
        guard bitsPerSecond != videoBitrateCap else { return [] }
        videoBitrateCap = bitsPerSecond
        return sendREMB(now: now)
    }

    func sendREMB(now: RTPTime) -> [Output] {
        // A simulcast sender keeps every layer flowing (a switch up is then one keyframe away): its own estimate
        // limits it, and the tile decides which layer is decoded instead.
        guard let cap = videoBitrateCap, !closed, selectors.isEmpty else { return [] }
        let ssrcs = streams.filter { $0.value.track.kind == "video" && $0.value.track.remb }.keys.sorted()
        guard !ssrcs.isEmpty else { return [] }
        lastREMB = now
        // REMB limits everything the sender sends: the video cap, plus packet headers (~5 %) and its audio.
        let audio = tracks.filter { $0.kind == "audio" }.count * MediaReceiver.audioAllowance
        return sendRTCP(.remb(sender: localSSRC, bitrate: UInt64(max(0, cap + cap / 20 + audio)), ssrcs: ssrcs))
    }

    /// Receiver reports every second, transport-cc feedback every 100 ms, REMB every second.
    func feedback(now: RTPTime) -> [Output] {
        var out: [Output] = []
        if now - lastReport >= MediaReceiver.reportInterval && !streams.isEmpty {
            lastReport = now
            var blocks: [RTCPPacket.ReportBlock] = []
            for ssrc in streams.keys.sorted() { blocks.append(streams[ssrc]!.reception.reportBlock(ssrc: ssrc, now: now)) }
            out += sendRTCP(.receiverReport(ssrc: localSSRC, reports: Array(blocks.prefix(31))))
        }
        if transportSequenceID != nil {
            let media = streams.keys.min() ?? 0
            for bytes in transportFeedback.feedback(sender: localSSRC, media: media, now: now) { out += sendRTCP(bytes: bytes) }
        }
        if videoBitrateCap != nil && (lastREMB == .min || now - lastREMB >= MediaReceiver.rembInterval) { out += sendREMB(now: now) }
        return out
    }

    func sendRTCP(_ packet: RTCPPacket) -> [Output] { sendRTCP(bytes: packet.encoded) }

    func sendRTCP(bytes: [UInt8]) -> [Output] { closed ? [] : sendRTCPBytes(bytes) }

    /// A decrypted RTCP compound packet: sender reports place the sender's clock; BYE ends a stream.
    func receive(rtcp bytes: [UInt8], now: RTPTime) {
        guard let packets = try? RTCPPacket.parseCompound(bytes) else { droppedPackets += 1; return }
        for packet in packets {
            switch packet {
            case let .senderReport(ssrc, ntp, rtpTimestamp, _, _, _):
                timeline.onSenderReport(ssrc: ssrc, ntp: ntp, rtpTimestamp: rtpTimestamp)
                streams[ssrc]?.reception.senderReport(ntp: ntp, arrival: now)
            case let .bye(ssrcs):
                for ssrc in ssrcs { retire(ssrc) }
            default:
                break
            }
        }
    }
}
