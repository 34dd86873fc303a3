import Foundation

/// SplitMix64: reproducible random numbers for tests. The seed comes from `MCU_TEST_SEED` or the clock, and is
/// printed, so a failing run can be replayed exactly.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(_ test: String) {
        let seed = ProcessInfo.processInfo.environment["MCU_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000)
        print("\(test): seed \(seed) (MCU_TEST_SEED=\(seed) replays it)")
        state = seed
    }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
