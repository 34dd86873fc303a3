#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A positive rational number, used for frame rates and time bases.
public struct Rational: Hashable, Sendable, CustomStringConvertible {
    public let numerator: Int64
    public let denominator: Int64

    public init(_ numerator: Int64, _ denominator: Int64 = 1) {
        precondition(denominator != 0, "denominator must not be zero")
        let sign: Int64 = denominator < 0 ? -1 : 1
        let divisor = Rational.gcd(Swift.abs(numerator), Swift.abs(denominator))
        self.numerator = sign * numerator / Swift.max(divisor, 1)
        self.denominator = sign * denominator / Swift.max(divisor, 1)
    }

    public var doubleValue: Double { Double(numerator) / Double(denominator) }
    public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }

    static func gcd(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? a : gcd(b, a % b) }

    /// Parses `30`, `29.97` or `30000/1001`.
    public init?(parsing text: String) {
        if let slash = text.firstIndex(of: "/") {
            // Bounded, so that times computed from the rate (µs × den / num) cannot overflow.
            guard let n = Int64(text[..<slash]), let d = Int64(text[text.index(after: slash)...]), (1...1_000_000).contains(n),
                  (1...1_000_000).contains(d) else { return nil }
            self.init(n, d)
        } else if let whole = Int64(text), (1...1_000_000).contains(whole) {
            self.init(whole, 1)
        } else if let value = Double(text), value > 0, value < 1000 {
            self.init(Int64((value * 1000).rounded()), 1000)
        } else {
            return nil
        }
    }
}

/// Time on a room's timeline, in microseconds from the timeline's origin.
public typealias Microseconds = Int64

public extension Rational {
    /// Start time of output tick `index` at this frame rate, in microseconds (exact rounding down).
    func tickTime(_ index: Int64) -> Microseconds {
        index * 1_000_000 * denominator / numerator
    }
    /// Index of the first tick at or after `time`.
    func tickIndex(atOrAfter time: Microseconds) -> Int64 {
        let scaled = time * numerator
        let unit = 1_000_000 * denominator
        return (scaled + unit - 1) / unit
    }
}

/// A monotonic clock; live rooms use the system's, tests a fake one.
public protocol MediaClock: Sendable {
    func now() -> Microseconds
}

public struct SystemClock: MediaClock {
    public init() {}
    public func now() -> Microseconds {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
