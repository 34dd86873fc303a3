@testable import RTP
import Testing

@Suite struct RTPTimelineTests {
    /// Sender: audio (48 kHz) and video (90 kHz) captured together; video reaches us 80 ms later than audio.
    @Test func audioAndVideoOfOneSenderLineUp() throws {
        var timeline = ParticipantTimeline()
        timeline.addTrack(ssrc: 1, clockRate: 48_000)
        timeline.addTrack(ssrc: 2, clockRate: 90_000)
        let ntpBase: UInt64 = 3_900_000_000 << 32                 // some instant in 2023 on the NTP clock
        let audioBase: UInt32 = 4_294_000_000, videoBase: UInt32 = 123_456   // audio wraps during the test
        func ntp(_ us: Int64) -> UInt64 { ntpBase + UInt64(us) * (1 << 32) / 1_000_000 }
        timeline.onSenderReport(ssrc: 1, ntp: ntp(0), rtpTimestamp: audioBase)
        timeline.onSenderReport(ssrc: 2, ntp: ntp(0), rtpTimestamp: videoBase)
        let roomStart: RTPTime = 5_000_000
        for step in 0..<300 {
            let capture = Int64(step) * 20_000                        // every 20 ms
            let a = timeline.roomTime(ssrc: 1, rtpTimestamp: audioBase &+ UInt32(capture * 48 / 1000), arrival: roomStart + capture + 30_000)!
            let v = timeline.roomTime(ssrc: 2, rtpTimestamp: videoBase &+ UInt32(capture * 90 / 1000), arrival: roomStart + capture + 110_000)!
            #expect(abs(a - v) <= 1, "capture \(capture) µs: audio \(a), video \(v)")
        }
    }

    /// A sender whose RTP clock goes back 3 s (a looped file, a restarted source): its frames are not placed 3 s in
    /// the past, where they would never be shown; the track re-anchors on arrival and carries on from there.
    @Test func aClockThatJumpsBackIsReanchored() {
        var timeline = ParticipantTimeline()
        timeline.addTrack(ssrc: 7, clockRate: 90_000)
        #expect(timeline.roomTime(ssrc: 7, rtpTimestamp: 0, arrival: 1_000_000) == 1_000_000)
        #expect(timeline.roomTime(ssrc: 7, rtpTimestamp: 270_000, arrival: 4_000_000) == 4_000_000)
        #expect(timeline.roomTime(ssrc: 7, rtpTimestamp: 3_000, arrival: 4_033_000) == 4_033_000, "re-anchored, not at 1.033 s")
        #expect(timeline.roomTime(ssrc: 7, rtpTimestamp: 6_000, arrival: 4_080_000) == 4_066_333, "and following the RTP clock again")
    }

    @Test func beforeAnyReportArrivalAndRTPClockAreUsed() {
        var timeline = ParticipantTimeline()
        timeline.addTrack(ssrc: 7, clockRate: 90_000)
        #expect(timeline.roomTime(ssrc: 7, rtpTimestamp: 1000, arrival: 2_000_000) == 2_000_000)
        #expect(timeline.roomTime(ssrc: 7, rtpTimestamp: 1000 + 90_000, arrival: 3_050_000) == 3_000_000, "jitter does not move the timeline")
        #expect(timeline.roomTime(ssrc: 99, rtpTimestamp: 1, arrival: 1) == nil)
    }
}
