import MediaCore

/// Frames and bytes over the last 2 s, in 100 ms slots: what a track carries now, as opposed to its lifetime
/// average. Fixed storage; `add` and `totals` allocate nothing (`add` runs per received frame). Sans-IO: the
/// caller brings the times (µs on one clock).
struct RateWindow {
    static let slot: Microseconds = 100_000
    static let slots = 20
    static var span: Microseconds { slot * Microseconds(slots) }
    private var stamps = [Microseconds](repeating: -1, count: RateWindow.slots)
    private var bytes = [Int](repeating: 0, count: RateWindow.slots)
    private var frames = [Int](repeating: 0, count: RateWindow.slots)

    mutating func add(bytes count: Int, at time: Microseconds) {
        let stamp = time / RateWindow.slot
        let i = Int(stamp % Microseconds(RateWindow.slots))
        guard i >= 0 else { return }
        if stamps[i] != stamp { stamps[i] = stamp; bytes[i] = 0; frames[i] = 0 }
        bytes[i] += count
        frames[i] += 1
    }

    /// Frames per second and bits per second over the 2 s up to `now`.
    func rates(now: Microseconds) -> (framesPerSecond: Double, bitsPerSecond: Double) {
        let newest = now / RateWindow.slot, oldest = newest - Microseconds(RateWindow.slots) + 1
        var b = 0, f = 0
        for i in 0..<RateWindow.slots where stamps[i] >= oldest && stamps[i] <= newest { b += bytes[i]; f += frames[i] }
        let seconds = Double(RateWindow.span) / 1e6
        return (Double(f) / seconds, Double(b * 8) / seconds)
    }
}
