import MediaCore

/// Picks the active speaker from per-source levels (one update per 20 ms block): smoothed levels, and a
/// challenger must stay clearly louder for `holdBlocks` blocks before the slot changes, so it does not flap.
public struct SpeakerDetector: Sendable {
    public private(set) var speaker: String?
    private var smoothed: [String: Float] = [:]
    private var challenger: String?
    private var challengerBlocks = 0
    public var holdBlocks = 75          // 1.5 s
    public var dominance: Float = 2     // louder by 6 dB
    public var silence: Float = 0.003   // about -50 dBFS

    public init() {}

    public mutating func update(levels: [String: Float]) {
        for (id, level) in levels {
            let previous = smoothed[id] ?? 0
            smoothed[id] = previous + (level - previous) * 0.1
        }
        for id in smoothed.keys where levels[id] == nil { smoothed[id] = nil }
        if let current = speaker, smoothed[current] == nil { speaker = nil }
        let ranked = smoothed.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        guard let (loudest, level) = ranked.first, level > silence, loudest != speaker else {
            challenger = nil; challengerBlocks = 0
            return
        }
        // To take the slot, be clearly louder than the current speaker (or, with none yet, than everyone else).
        let rival = speaker.flatMap { smoothed[$0] } ?? (ranked.count > 1 ? ranked[1].value : 0)
        guard level > rival * dominance else {
            challenger = nil; challengerBlocks = 0
            return
        }
        if challenger == loudest { challengerBlocks += 1 } else { challenger = loudest; challengerBlocks = 1 }
        if challengerBlocks >= holdBlocks {
            speaker = loudest
            challenger = nil; challengerBlocks = 0
        }
    }
}
