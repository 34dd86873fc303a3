@testable import RTP
import Testing

@Suite(.timeLimit(.minutes(2))) struct RTPTimelineTests {
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

    /// Ten minutes of a sender whose clock runs 200 ppm fast or slow, with 0-30 ms of network jitter, sender reports
    /// every second, and (in the third case) its wall clock set back 0.5 s at minute 5 while its RTP clocks run on:
    /// every frame stays within 20 ms of where it belongs, audio and video together, and audio stays continuous
    /// (no step the source buffer would drop samples at).
    @Test(arguments: [(200, false), (-200, false), (-200, true)] as [(Int64, Bool)])
    func aSkewedOrSteppedSenderClockStaysPlaced(ppm: Int64, steps: Bool) {
        var timeline = ParticipantTimeline()
        timeline.addTrack(ssrc: 1, clockRate: 48_000)
        timeline.addTrack(ssrc: 2, clockRate: 90_000)
        var seed: UInt64 = 0x5EED_0000 &+ UInt64(bitPattern: ppm) &+ (steps ? 1 : 0)
        print("clock test seed \(seed)")
        func jitter() -> RTPTime {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return RTPTime((seed >> 33) % 30_000)
        }
        let start: RTPTime = 3_000_000                                   // room time when the sender starts
        func senderClock(_ t: RTPTime) -> RTPTime { t + t * ppm / 1_000_000 + 7_000_000 }   // its own time for real time t
        func wallStep(_ t: RTPTime) -> RTPTime { steps && t >= 300_000_000 ? -500_000 : 0 }
        func ntp(_ us: RTPTime) -> UInt64 { (UInt64(3_900_000_000) << 32) + UInt64(us) * (1 << 32) / 1_000_000 }
        var worst: RTPTime = 0, lastAudio: RTPTime?, worstAudioStep: RTPTime = 0
        var nextAudio: RTPTime = 0, nextVideo: RTPTime = 0, nextReport: RTPTime = 0
        while min(nextAudio, nextVideo) < 600_000_000 {
            let t = min(nextAudio, nextVideo, nextReport)
            if t == nextReport {
                let own = senderClock(t)
                timeline.onSenderReport(ssrc: 1, ntp: ntp(own + wallStep(t)), rtpTimestamp: UInt32(truncatingIfNeeded: own * 48 / 1000))
                timeline.onSenderReport(ssrc: 2, ntp: ntp(own + wallStep(t)), rtpTimestamp: UInt32(truncatingIfNeeded: own * 90 / 1000))
                nextReport += 1_000_000
                continue
            }
            let audio = t == nextAudio
            let own = senderClock(t)
            let rtp = UInt32(truncatingIfNeeded: audio ? own * 48 / 1000 : own * 90 / 1000)
            guard let placed = timeline.roomTime(ssrc: audio ? 1 : 2, rtpTimestamp: rtp, arrival: start + t + 10_000 + jitter()) else {
                Issue.record("no time"); return
            }
            // Where it belongs: its capture instant plus the smallest network delay (10 ms).
            let error = abs(placed - (start + t + 10_000))
            worst = max(worst, error)
            if audio {
                if let lastAudio { worstAudioStep = max(worstAudioStep, abs(placed - lastAudio - 20_000)) }
                lastAudio = placed
                nextAudio += 20_000
            } else {
                nextVideo += 33_333
            }
        }
        #expect(worst <= 20_000, "placed up to \(worst) µs off (\(ppm) ppm, step \(steps))")
        #expect(worstAudioStep < 20_000, "audio steps by up to \(worstAudioStep) µs between packets")
    }
}

@Suite(.timeLimit(.minutes(1))) struct LateTrackTests {
    /// A sender that queued 660 ms of audio while connecting and sends it in real time behind that backlog (seen
    /// from GStreamer's webrtcbin on a loaded machine): in sync by its reports, its audio would land 660 ms before it
    /// arrives, past what the room waits for, and all of it would be dropped. Once that lateness has lasted the
    /// window it is delayed instead, evenly (20 ms apart, as captured), while the video stays in place; once the
    /// backlog drains it comes back in sync. One seam each way, nothing else.
    @Test func audioArrivingLaterThanTheRoomWaitsIsDelayedNotLost() {
        var timeline = ParticipantTimeline()
        timeline.addTrack(ssrc: 1, clockRate: 48_000)
        timeline.addTrack(ssrc: 2, clockRate: 90_000)
        let ntpBase: UInt64 = 3_900_000_000 << 32
        func ntp(_ us: Int64) -> UInt64 { ntpBase + UInt64(us) * (1 << 32) / 1_000_000 }
        timeline.onSenderReport(ssrc: 1, ntp: ntp(0), rtpTimestamp: 0)
        timeline.onSenderReport(ssrc: 2, ntp: ntp(0), rtpTimestamp: 0)
        let start: RTPTime = 2_000_000
        var previous: RTPTime?
        var seams: [Int] = []
        for step in 0..<600 {
            let capture = Int64(step) * 20_000
            let backlog: RTPTime = step < 400 ? 660_000 : 10_000          // drained after 8 s
            let jitter = RTPTime((step * 7) % 5) * 1_000
            let arrival = start + capture + backlog + jitter
            let audio = timeline.roomTime(ssrc: 1, rtpTimestamp: UInt32(capture * 48 / 1000), arrival: arrival)!
            let video = timeline.roomTime(ssrc: 2, rtpTimestamp: UInt32(capture * 90 / 1000), arrival: start + capture + 5_000)!
            if step >= 150 { #expect(arrival - audio <= ParticipantTimeline.lateLimit, "step \(step): audio placed too early to be used") }
            #expect(abs(video - (start + capture)) <= 5_000, "step \(step): video stays where it was captured")
            // (From step 2: the very first audio frame is placed before the video's first sets the shared offset.)
            if let previous, step >= 2, audio - previous != 20_000 { seams.append(step) }
            previous = audio
        }
        #expect(seams.count == 2 && seams.allSatisfy { (100...160).contains($0) || (400...410).contains($0) }, "seams at \(seams)")
        #expect(timeline.lateness(ssrc: 1) == 0, "back in sync once the backlog drained")
        #expect(timeline.lateness(ssrc: 2) == 0)
    }

    /// A track held up once (a jitter buffer waiting for a keyframe for half a second) is not moved: only a lateness
    /// that lasts counts. Before, one such frame left a track 160 ms out of sync for good.
    @Test func oneLateFrameMovesNothing() {
        var timeline = ParticipantTimeline()
        timeline.addTrack(ssrc: 2, clockRate: 90_000)
        timeline.onSenderReport(ssrc: 2, ntp: 3_900_000_000 << 32, rtpTimestamp: 0)
        for step in 0..<300 {
            let capture = Int64(step) * 33_000
            let held: RTPTime = step == 120 ? 480_000 : 20_000
            _ = timeline.roomTime(ssrc: 2, rtpTimestamp: UInt32(capture * 90 / 1000), arrival: 2_000_000 + capture + held)
            #expect(timeline.lateness(ssrc: 2) == 0, "step \(step)")
        }
    }
}
