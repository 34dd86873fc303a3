import MediaCore

/// When to trade a recording's cost for speed, as a function of lateness and time only (no I/O, a fake clock in
/// tests). While frames come out late the sink steps down — first to faster x264 presets, then to every 2nd, 3rd,
/// 4th frame — and steps back once it keeps up: a step after 1 s of lateness over 300 ms that is not shrinking (or
/// more than 2 s behind, where sources' buffers would start dropping media), a step back after 10 s under 50 ms.
/// A step back that does not hold doubles the calm needed next time (up to 160 s), so a machine at the edge does
/// not swing every few seconds.
public struct LoadLadder: Sendable {
    private var lateSince: Microseconds?, lagWhenLate: Microseconds = 0, calmSince: Microseconds?
    private var calmNeeded: Microseconds = 10_000_000
    private var lastStepBack: Microseconds?

    public init() {}

    /// +1: one step cheaper; -1: one step back towards full quality; 0: stay.
    public mutating func decide(lag: Microseconds, now: Microseconds) -> Int {
        var step = 0
        if lag > 300_000 {
            calmSince = nil
            if lateSince == nil { lateSince = now; lagWhenLate = lag }
            if let since = lateSince, now - since >= 1_000_000 {
                if lag >= lagWhenLate || lag > 2_000_000 { step = 1 }
                lateSince = now; lagWhenLate = lag
            }
        } else {
            lateSince = nil
            if lag < 50_000 {
                let since = calmSince ?? now
                calmSince = since
                if now - since >= calmNeeded { step = -1; calmSince = now }
            }
        }
        return step
    }

    /// The step `decide` asked for was taken (or not, when the ladder was already at its end).
    public mutating func took(_ step: Int, now: Microseconds) {
        if step > 0, let back = lastStepBack {
            calmNeeded = now - back < 30_000_000 ? min(calmNeeded * 2, 160_000_000) : 10_000_000
        }
        if step < 0 { lastStepBack = now }
    }
}
