import Testing
@testable import RTP

@Suite struct ReceptionStatisticsTests {
    /// 90 kHz video at 30 fps, a packet per frame: RTP time 3000 per packet, 33,333 µs apart.
    static func feed(_ stats: inout ReceptionStatistics, from first: Int, count: Int, skipping lost: Set<Int> = [],
                     arrivalJitter: (Int) -> Int64 = { _ in 0 }) {
        for n in first..<(first + count) where !lost.contains(n) {
            stats.record(sequence: UInt16(truncatingIfNeeded: 65_000 + n), rtpTimestamp: UInt32(truncatingIfNeeded: 4_294_000_000 + UInt64(n) * 3000),
                         arrival: 10_000_000 + Int64(n) * 33_333 + arrivalJitter(n))
        }
    }

    /// Loss over a sequence-number wrap: cumulative loss, the interval's fraction, the extended highest sequence
    /// with its cycle; then a clean interval reports no loss while the cumulative count stays.
    @Test func lossIsCountedAcrossTheWrap() {
        var stats = ReceptionStatistics(clockRate: 90_000)
        Self.feed(&stats, from: 0, count: 1000, skipping: Set(stride(from: 5, to: 1000, by: 10)))   // 100 of 1000 lost
        let first = stats.reportBlock(ssrc: 7, now: 50_000_000)
        #expect(first.cumulativeLost == 100)
        #expect(first.fractionLost == 25, "100/1000 of 256 is 25.6, truncated")
        #expect(first.highestSequence == 1 << 16 | UInt32(UInt16(truncatingIfNeeded: 65_000 + 999)), "one wrap: cycle 1")
        Self.feed(&stats, from: 1000, count: 300)
        let second = stats.reportBlock(ssrc: 7, now: 60_000_000)
        #expect(second.fractionLost == 0 && second.cumulativeLost == 100)
        // A late (retransmitted) packet is not a restart and fills a hole.
        stats.record(sequence: UInt16(truncatingIfNeeded: 65_005), rtpTimestamp: 0, arrival: 61_000_000)
        #expect(stats.reportBlock(ssrc: 7, now: 61_000_000).cumulativeLost == 99)
    }

    /// Interarrival jitter per RFC 3550 A.8: arrivals alternating ±4 ms around a steady clock settle near the mean
    /// deviation of consecutive transits (8 ms = 720 units at 90 kHz); no jitter gives 0.
    @Test func jitterFollowsArrivalVariation() {
        var steady = ReceptionStatistics(clockRate: 90_000)
        Self.feed(&steady, from: 0, count: 500)
        #expect(steady.jitter <= 1)
        var shaky = ReceptionStatistics(clockRate: 90_000)
        Self.feed(&shaky, from: 0, count: 500, arrivalJitter: { $0 % 2 == 0 ? 4_000 : -4_000 })
        #expect((690...730).contains(shaky.jitter), "\(shaky.jitter)")
    }

    /// LSR is the middle 32 bits of the last SR's NTP time; DLSR the delay since it arrived, in 1/65536 s.
    @Test func lastSenderReportAndDelay() {
        var stats = ReceptionStatistics(clockRate: 48_000)
        Self.feed(&stats, from: 0, count: 10)
        #expect(stats.reportBlock(ssrc: 1, now: 11_000_000).lastSR == 0, "no SR yet: 0")
        stats.senderReport(ntp: 0x1122_3344_5566_7788, arrival: 20_000_000)
        let block = stats.reportBlock(ssrc: 1, now: 20_500_000)
        #expect(block.lastSR == 0x3344_5566)
        #expect(block.delaySinceLastSR == 32_768, "0.5 s")
    }
}
