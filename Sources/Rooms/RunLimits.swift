import MediaCore

/// When a server run ends by itself: at its maximum duration, or once everyone has left and nobody came back for
/// the idle timeout. Times are on a monotonic clock (µs), so setting the wall clock never ends a recording early or
/// keeps it running late. Sans-IO: the caller brings the time and who is present.
public struct RunLimits: Sendable, Equatable {
    public enum Stop: Sendable, Equatable { case maxDuration, idle }
    public let started: Microseconds
    public let maxDuration: Microseconds?
    public let idleTimeout: Microseconds
    private var emptySince: Microseconds?

    public init(started: Microseconds, maxDuration: Microseconds?, idleTimeout: Microseconds) {
        self.started = started; self.maxDuration = maxDuration; self.idleTimeout = idleTimeout
    }

    /// `present`: participants now; `everJoined`: whether anyone ever joined (an unused server waits for them).
    public mutating func check(now: Microseconds, present: Int, everJoined: Bool) -> Stop? {
        if let maxDuration, now - started >= maxDuration { return .maxDuration }
        guard everJoined && present == 0 else { emptySince = nil; return nil }
        let since = emptySince ?? now
        emptySince = since
        return now - since >= idleTimeout ? .idle : nil
    }
}
