/// What a receiver report says about one incoming stream (RFC 3550 §6.4.1, A.3, A.8): the extended highest sequence
/// number with its wrap count, cumulative and interval loss, interarrival jitter, and the last sender report's
/// time with the delay since. Senders use it for their round-trip time and loss-based rate control; without it
/// a browser's estimate has no loss signal at all. Sans-IO: packets and times (µs, one clock) in, a block out.
public struct ReceptionStatistics: Sendable {
    public let clockRate: Int64
    private var started = false
    private var baseSequence: UInt32 = 0
    private var maxSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    private var received: UInt32 = 0
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0
    /// Interarrival jitter in RTP timestamp units, times 16 (A.8's integer form).
    private var scaledJitter: Int64 = 0
    private var lastTransit: Int64?
    private var lastSR: (middle: UInt32, at: Int64)?

    static let maxDropout: UInt16 = 3000
    static let maxMisorder: UInt16 = 3000

    public init(clockRate: Int) { self.clockRate = Int64(clockRate) }

    /// A packet arrived at `arrival` (µs). Duplicates and reordering count as RFC 3550 counts them.
    public mutating func record(sequence: UInt16, rtpTimestamp: UInt32, arrival: Int64) {
        if !started {
            started = true
            baseSequence = UInt32(sequence)
            maxSequence = sequence
        } else {
            // RFC 3550 A.1's windows, with a wider one for late packets: a NACKed retransmission of a high-rate
            // stream arrives hundreds of packets late and must not look like a restart.
            let delta = sequence &- maxSequence
            if delta < ReceptionStatistics.maxDropout {                 // in order, maybe after a gap
                if sequence < maxSequence { cycles &+= 1 }              // wrapped
                maxSequence = sequence
            } else if delta > UInt16.max - ReceptionStatistics.maxMisorder {   // late: reordered, retransmitted or a duplicate
            } else {                                                    // a jump: the sender restarted
                baseSequence = UInt32(sequence); maxSequence = sequence; cycles = 0; received = 0
                expectedPrior = 0; receivedPrior = 0
            }
        }
        received &+= 1
        let arrivalUnits = arrival * clockRate / 1_000_000
        let transit = arrivalUnits - Int64(rtpTimestamp)
        if let last = lastTransit {
            // The timestamp's 32-bit wrap shows as a jump of 2^32: take the difference modulo it.
            var d = transit - last
            d = Int64(Int32(truncatingIfNeeded: d))
            scaledJitter += abs(d) - ((scaledJitter + 8) >> 4)
        }
        lastTransit = transit
    }

    /// A sender report with this NTP time arrived at `arrival` (µs).
    public mutating func senderReport(ntp: UInt64, arrival: Int64) {
        lastSR = (UInt32(truncatingIfNeeded: ntp >> 16), arrival)
    }

    public var extendedHighestSequence: UInt32 { cycles << 16 | UInt32(maxSequence) }
    public var jitter: UInt32 { UInt32(clamping: scaledJitter >> 4) }

    /// The report block for `ssrc` at `now` (µs); the fraction lost is over the time since the previous block.
    public mutating func reportBlock(ssrc: UInt32, now: Int64) -> RTCPPacket.ReportBlock {
        let expected = started ? extendedHighestSequence &- baseSequence &+ 1 : 0
        let lost = Int64(expected) - Int64(received)
        let expectedInterval = Int64(expected) - Int64(expectedPrior), receivedInterval = Int64(received) - Int64(receivedPrior)
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = expectedInterval - receivedInterval
        let fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : UInt8(min(255, (lostInterval << 8) / expectedInterval))
        var delay: UInt32 = 0
        if let sr = lastSR { delay = UInt32(clamping: max(0, now - sr.at) * 65_536 / 1_000_000) }
        return RTCPPacket.ReportBlock(ssrc: ssrc, fractionLost: fraction, cumulativeLost: Int32(clamping: min(max(lost, -0x800000), 0x7FFFFF)),
                                      highestSequence: extendedHighestSequence, jitter: jitter, lastSR: lastSR?.middle ?? 0,
                                      delaySinceLastSR: lastSR == nil ? 0 : delay)
    }
}
