import MediaCore
import Testing
@testable import Rooms

@Suite struct RateWindowTests {
    /// A sender that drops from 30 fps at 1 Mb/s to 15 fps at 250 kb/s shows the new rate within 2 s; one that stops
    /// shows 0 after 2 s; the lifetime average would still say the old rate.
    @Test func theRecentRateFollowsTheSender() {
        var window = RateWindow()
        var t: Microseconds = 50_000_000
        for _ in 0..<300 { window.add(bytes: 4_166, at: t); t += 33_333 }        // 10 s: 30 fps × 4166 B ≈ 1 Mb/s
        let fast = window.rates(now: t)
        #expect(abs(fast.framesPerSecond - 30) < 1 && abs(fast.bitsPerSecond - 1_000_000) < 40_000, "\(fast)")
        for _ in 0..<45 { window.add(bytes: 2_083, at: t); t += 66_666 }          // 3 s: 15 fps × 2083 B ≈ 250 kb/s
        let slow = window.rates(now: t)
        #expect(abs(slow.framesPerSecond - 15) < 1 && abs(slow.bitsPerSecond - 250_000) < 20_000, "\(slow)")
        #expect(window.rates(now: t + 2_100_000) == (0, 0), "a sender that stopped sends nothing now")
    }
}
