import RTP

/// Which simulcast encoding of one track is decoded: the smallest that still fills the track's tile (fitted inside
/// it, enlarged by at most 25 %), so a participant
/// in a thumbnail costs a thumbnail's decoding and a speaker is sharp. A switch waits for a keyframe of the new
/// layer, showing the old one until then (no glitch beyond one keyframe interval); a layer that stops or loses
/// packets in bursts is left for another. Sans-IO.
struct SimulcastSelector {
    struct Layer {
        let rid: String
        var ssrc: UInt32?
        /// From its keyframes; nil until one is seen.
        var size: PictureSize?
        var lastPacket: RTPTime = .min
        /// Bytes in the current and the last whole second (a layer's rate, to rank layers of unknown size).
        var bytes = 0, lastSecondBytes = 0
        var secondStarted: RTPTime = .min
        /// After a loss burst, a layer is avoided until then.
        var avoidUntil: RTPTime = .min
    }

    /// A layer that sent nothing for this long is off (the sender paused it, or its bandwidth ran out).
    static let silence: RTPTime = 1_000_000
    /// A layer that lost packets in a burst is not chosen again for this long.
    static let penalty: RTPTime = 5_000_000
    /// A switch that saw no keyframe within this long asks again.
    static let keyframeRetry: RTPTime = 1_000_000

    private(set) var layers: [Layer]
    private(set) var selected: String?
    private(set) var pending: String?
    private var pendingSince: RTPTime = .min
    /// The track's tile in the current layout; nil: shown nowhere.
    var tile: PictureSize?

    init(rids: [String]) { layers = rids.map { Layer(rid: $0) } }

    private func index(_ rid: String) -> Int? { layers.firstIndex { $0.rid == rid } }

    /// A packet of layer `rid` arrived.
    mutating func packet(rid: String, ssrc: UInt32, bytes: Int, now: RTPTime) {
        guard let i = index(rid) else { return }
        layers[i].ssrc = ssrc
        layers[i].lastPacket = now
        if layers[i].secondStarted == .min || now - layers[i].secondStarted >= 1_000_000 {
            layers[i].lastSecondBytes = layers[i].secondStarted == .min ? bytes : layers[i].bytes
            layers[i].bytes = 0
            layers[i].secondStarted = now
        }
        layers[i].bytes += bytes
    }

    mutating func sized(rid: String, _ size: PictureSize) {
        if let i = index(rid) { layers[i].size = size }
    }

    mutating func lossBurst(rid: String, now: RTPTime) {
        if let i = index(rid) { layers[i].avoidUntil = now + Self.penalty }
    }

    /// Whether packets of `rid` go to its jitter buffer (only the shown layer and the one being switched to).
    func isReceiving(_ rid: String) -> Bool { rid == selected || rid == pending }

    /// The layer the tile calls for now.
    func target(now: RTPTime) -> String? {
        let active = layers.filter { $0.lastPacket != .min && now - $0.lastPacket < Self.silence }
        let usable = active.filter { $0.avoidUntil <= now }
        let candidates = usable.isEmpty ? active : usable
        guard !candidates.isEmpty else { return nil }
        // Smallest first: by size when every candidate's is known, by rate otherwise.
        let ordered = candidates.allSatisfy { $0.size != nil }
            ? candidates.sorted { $0.size!.width * $0.size!.height < $1.size!.width * $1.size!.height }
            : candidates.sorted { max($0.bytes, $0.lastSecondBytes) < max($1.bytes, $1.lastSecondBytes) }
        guard let tile else { return ordered.first?.rid }
        // The tile is the layout's cell: a picture fitted inside it (contain) is scaled by the smaller ratio. A layer
        // enlarged by at most 25 % is sharp enough.
        let fits = ordered.first { l in
            l.size.map { Double(min(tile.width * $0.height, tile.height * $0.width)) <= 1.25 * Double($0.width * $0.height) } ?? false
        }
        return (fits ?? ordered.last)?.rid
    }

    /// A layer to switch to (ask it for a keyframe), when the choice changed or a switch waits too long.
    mutating func decide(now: RTPTime) -> String? {
        guard let want = target(now: now) else { return nil }
        if want == selected {
            pending = nil
            return nil
        }
        if want == pending && now - pendingSince < Self.keyframeRetry { return nil }
        pending = want
        pendingSince = now
        return want
    }

    /// Whether a frame of layer `rid` is shown. A keyframe of the layer being switched to completes the switch
    /// (`switched` true).
    mutating func frame(rid: String, keyframe: Bool) -> (show: Bool, switched: Bool) {
        if rid == pending && keyframe {
            selected = rid
            pending = nil
            return (true, true)
        }
        return (rid == selected, false)
    }

    func layer(_ rid: String?) -> Layer? { rid.flatMap(index).map { layers[$0] } }
}
