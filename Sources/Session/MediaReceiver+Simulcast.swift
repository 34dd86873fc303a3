import RTP

/// Simulcast: each layer of a track arrives as its own SSRC; the selector picks the one the tile needs, and only
/// that one (and the one being switched to) goes through a jitter buffer to the decoder.
extension MediaReceiver {
    /// The tiles of this participant's video tracks (by mid; nil: in no tile), whenever the layout changes.
    func setVideoTiles(_ tiles: [String: PictureSize?], now: RTPTime) -> [Output] {
        guard !closed else { return [] }
        var out: [Output] = []
        for (mid, tile) in tiles where selectors[mid] != nil {
            selectors[mid]?.tile = tile
            out += decideLayer(mid: mid, now: now)
        }
        return out
    }

    /// Starts a switch when the selector wants another layer: that layer's buffer starts afresh and the sender is
    /// asked for a keyframe of it (PLI on its SSRC).
    func decideLayer(mid: String, now: RTPTime) -> [Output] {
        guard var selector = selectors[mid], let rid = selector.decide(now: now) else { return [] }
        selectors[mid] = selector
        guard let ssrc = streams.first(where: { $0.value.track.mid == mid && $0.value.layer == rid })?.key, var stream = streams[ssrc] else { return [] }
        stream.buffer = JitterBuffer(codec: stream.codec)
        streams[ssrc] = stream
        return sendRTCP(.pli(sender: localSSRC, media: ssrc))
    }

    func simulcastReport(mid: String) -> SimulcastReport? {
        guard let selector = selectors[mid] else { return nil }
        return SimulcastReport(layers: selector.layers.map { layer in
            SimulcastReport.Layer(rid: layer.rid, size: layer.size,
                                  bitrate: layer.lastPacket != .min && lastPoll - layer.lastPacket < SimulcastSelector.silence ? 8 * layer.lastSecondBytes : 0)
        }, selected: selector.selected)
    }
}
