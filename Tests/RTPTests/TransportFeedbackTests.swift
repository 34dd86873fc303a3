import Testing
@testable import RTP

@Suite struct TransportFeedbackTests {
    /// Reads feedback packets back: sequence number (unwrapped from `base`) → arrival, nil for reported losses.
    static func decode(_ packets: [[UInt8]]) throws -> [(sequence: UInt16, arrival: RTPTime?)] {
        var out: [(UInt16, RTPTime?)] = []
        for bytes in packets {
            #expect(bytes[0] == 0x80 | 15 && bytes[1] == 205, "RTPFB, FMT 15")
            #expect(bytes.count % 4 == 0 && 4 * (Int(bytes[2]) << 8 | Int(bytes[3]) + 1) == bytes.count, "length field matches")
            let feedback = try TransportFeedback(body: bytes[4...])
            for (i, arrival) in feedback.arrivals.enumerated() { out.append((feedback.baseSequence &+ UInt16(i), arrival)) }
        }
        return out
    }

    /// Packets across a sequence wrap, with losses and a reordered pair: every packet is reported once, at its
    /// arrival time to within the 250 µs unit, and losses as lost.
    @Test func arrivalsAndLossesAreReported() throws {
        var recorder = TransportFeedbackRecorder()
        let lost: Set<Int> = [3, 9, 10, 11, 40]
        var order = Array(0..<60).filter { !lost.contains($0) }
        order.swapAt(20, 21)
        let arrival = { (n: Int) -> RTPTime in 5_000_000 + RTPTime(n) * 1_700 + (n == 30 ? 90_000 : 0) }
        for n in order { recorder.record(sequence: UInt16(truncatingIfNeeded: 65_520 + n), arrival: arrival(n)) }
        let packets = recorder.feedback(sender: 1, media: 2, now: 5_200_000)
        let reported = try Self.decode(packets)
        #expect(reported.count == 60)
        for (i, entry) in reported.enumerated() {
            #expect(entry.sequence == UInt16(truncatingIfNeeded: 65_520 + i))
            if lost.contains(i) {
                #expect(entry.arrival == nil, "packet \(i) lost")
            } else {
                let got = try #require(entry.arrival, "packet \(i) arrived")
                #expect(abs(got - arrival(i)) < 250, "packet \(i): \(got) vs \(arrival(i))")
            }
        }
        #expect(recorder.feedback(sender: 1, media: 2, now: 5_250_000).isEmpty, "not due again within 100 ms")
        #expect(recorder.feedback(sender: 1, media: 2, now: 5_400_000).isEmpty, "nothing new to say")
    }

    /// A packet that arrives after the feedback called it lost is reported again, as arrived; the next feedback
    /// starts there and says nothing twice after it.
    @Test func aLatePacketIsReportedOnceItArrives() throws {
        var recorder = TransportFeedbackRecorder()
        for n in [0, 1, 3, 4] { recorder.record(sequence: UInt16(n), arrival: 1_000_000 + RTPTime(n) * 10_000) }
        let first = try Self.decode(recorder.feedback(sender: 1, media: 2, now: 1_100_000))
        #expect(first.map(\.sequence) == [0, 1, 2, 3, 4] && first[2].arrival == nil)
        recorder.record(sequence: 2, arrival: 1_150_000)
        recorder.record(sequence: 5, arrival: 1_160_000)
        let second = try Self.decode(recorder.feedback(sender: 1, media: 2, now: 1_200_000))
        #expect(second.map(\.sequence) == [2, 3, 4, 5])
        #expect(second[0].arrival.map { abs($0 - 1_150_000) < 250 } == true)
    }

    /// Large and negative deltas use the two-byte form; a gap longer than 16 bits of 250 µs starts a new packet;
    /// more packets than one feedback holds are split over several.
    @Test func longGapsAndManyPacketsSplitTheFeedback() throws {
        var recorder = TransportFeedbackRecorder()
        recorder.record(sequence: 100, arrival: 2_000_000)
        recorder.record(sequence: 101, arrival: 1_990_000)      // negative delta (reordered on the way)
        recorder.record(sequence: 102, arrival: 2_500_000)      // 510 ms: two-byte delta
        recorder.record(sequence: 103, arrival: 12_000_000)     // 9.5 s: cannot be a delta
        var reported = try Self.decode(recorder.feedback(sender: 1, media: 2, now: 12_000_000))
        #expect(reported.map(\.sequence) == [100, 101, 102, 103])
        let expected: [RTPTime] = [2_000_000, 1_990_000, 2_500_000, 12_000_000]
        for (entry, want) in zip(reported, expected) { #expect(entry.arrival.map { abs($0 - want) < 250 } == true) }

        for n in 0..<1000 { recorder.record(sequence: UInt16(104 + n), arrival: 12_100_000 + RTPTime(n) * 100) }
        let packets = recorder.feedback(sender: 1, media: 2, now: 12_200_000)
        #expect(packets.count == 3, "400 packets per feedback")
        #expect(packets.allSatisfy { $0.count < 1200 })
        reported = try Self.decode(packets)
        #expect(reported.map(\.sequence) == (0..<1000).map { UInt16(104 + $0) })
        #expect(reported.allSatisfy { $0.arrival != nil })
    }

    /// The run-length and vector chunks decode to the symbols they were built from.
    @Test func chunksRoundTrip() throws {
        let symbols: [UInt8] = Array(repeating: 1, count: 20) + [0, 2, 1, 0, 0] + Array(repeating: 0, count: 9) + [1]
        var body: [UInt8] = Array(repeating: 0, count: 8) + [0, 0, 0, UInt8(symbols.count), 0, 0, 0, 0]
        TransportFeedbackRecorder.appendChunks(symbols, to: &body)
        body += Array(repeating: 1, count: 40)                    // deltas, enough for any symbol
        let feedback = try TransportFeedback(body: body[...])
        #expect(feedback.arrivals.map { $0 == nil ? 0 : 1 } == symbols.map { $0 == 0 ? 0 : 1 })
    }
}
