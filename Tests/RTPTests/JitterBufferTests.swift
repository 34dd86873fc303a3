@testable import RTP
import Foundation
import TestSupport
import Testing

/// VP8 test stream: frame k is `packetsPerFrame` packets, a keyframe every `gop` frames.
func vp8Packets(frames: Int, packetsPerFrame: Int = 3, gop: Int = 30, firstSequence: UInt16 = 1000) -> [RTPPacket] {
    var out: [RTPPacket] = []
    var seq = firstSequence
    for k in 0..<frames {
        for p in 0..<packetsPerFrame {
            let payload: [UInt8] = p == 0 ? [0x10, k % gop == 0 ? 0x00 : 0x01, UInt8(k & 0xFF)] : [0x00, UInt8(p), UInt8(k & 0xFF)]
            let bytes = RTPPacket.build(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(k * 3000), ssrc: 1,
                                        marker: p == packetsPerFrame - 1, payload: payload)
            out.append(try! RTPPacket(parsing: bytes))
            seq &+= 1
        }
    }
    return out
}

func frames(_ actions: [JitterBuffer.Action]) -> [UInt32] {
    actions.compactMap { if case let .frame(_, ts, _) = $0 { return ts } else { return nil } }
}

@Suite(.timeLimit(.minutes(2))) struct JitterBufferTests {
    /// A sender that restarts its sequence numbers lower under the same SSRC (a restarted encoder): the buffer
    /// starts over at once and asks for a keyframe, instead of counting thousands of packets as "late".
    @Test(arguments: [UInt16(20_000), 60_000, 1000])
    func aSequenceRestartUnderTheSameSSRCStartsOver(restartAt: UInt16) {
        var jb = JitterBuffer(codec: .vp8)
        var now: RTPTime = 0
        var out: [JitterBuffer.Action] = []
        for p in vp8Packets(frames: 30, firstSequence: 40_000) { out += jb.insert(p, now: now); now += 11_000 }
        #expect(frames(out).count == 30)
        // The restart: new sequence numbers, the stream goes on (frame 10 of a new GOP of 10, then a keyframe).
        var after: [JitterBuffer.Action] = []
        for p in vp8Packets(frames: 40, gop: 10, firstSequence: restartAt).dropFirst(3) { after += jb.insert(p, now: now); now += 11_000 }
        #expect(after.contains(.requestKeyframe), "a keyframe is asked for after the restart")
        #expect(frames(after).count >= 30, "frames flow again from the next keyframe: \(frames(after).count)")
        #expect(jb.statistics.late == 0)
    }

    @Test func inOrderFramesComeOutWhole() {
        var jb = JitterBuffer(codec: .vp8)
        var out: [JitterBuffer.Action] = []
        for (i, p) in vp8Packets(frames: 10).enumerated() { out += jb.insert(p, now: RTPTime(i) * 11_000) }
        #expect(frames(out) == (0..<10).map { UInt32($0 * 3000) })
        if case let .frame(f, _, _)? = out.first(where: { if case .frame = $0 { true } else { false } }) {
            #expect(f.keyframe && f.data == [0x00, 0x00, 0x01, 0x00, 0x02, 0x00])
        }
        #expect(!out.contains { if case .nack = $0 { true } else { false } })
    }

    /// Five seconds of nothing (150 frames lost on the way): the gap is not NACKed, the buffer jumps to the
    /// new packets and asks for a keyframe, and frames flow again from that keyframe on.
    @Test func anOutageIsSkippedNotRepaired() {
        let packets = vp8Packets(frames: 200, gop: 30)
        var jb = JitterBuffer(codec: .vp8)
        var out: [JitterBuffer.Action] = []
        var now: RTPTime = 0
        for p in packets[0..<30] { out += jb.insert(p, now: now); now += 11_000 }
        now += 5_000_000
        out = []
        for p in packets[(180 * 3)...] { out += jb.insert(p, now: now); now += 11_000; out += jb.poll(now: now) }
        #expect(!out.contains { if case .nack = $0 { true } else { false } }, "no NACK for media 5 s old")
        #expect(out.contains { $0 == .requestKeyframe })
        #expect(frames(out).first == UInt32(180 * 3000), "frames resume at the next keyframe (frame 180)")
        #expect(jb.statistics.lost == (180 - 10) * 3)
    }

    @Test func reorderingIsAbsorbed() {
        var packets = vp8Packets(frames: 6)
        packets.swapAt(4, 5); packets.swapAt(9, 11)
        var jb = JitterBuffer(codec: .vp8)
        var out: [JitterBuffer.Action] = []
        for (i, p) in packets.enumerated() { out += jb.insert(p, now: RTPTime(i) * 1000) }
        #expect(frames(out) == (0..<6).map { UInt32($0 * 3000) })
        #expect(jb.statistics.lost == 0)
    }

    @Test func lossIsNackedThenRecovered() {
        var packets = vp8Packets(frames: 4)
        let missing = packets.remove(at: 4)
        var jb = JitterBuffer(codec: .vp8)
        var out: [JitterBuffer.Action] = []
        var now: RTPTime = 0
        for p in packets { now += 5000; out += jb.insert(p, now: now) }
        #expect(out.contains(.nack([missing.sequenceNumber])))
        #expect(frames(out) == [0], "frames after the hole wait")
        now += 70_000
        #expect(jb.poll(now: now).contains(.nack([missing.sequenceNumber])), "retried")
        out = jb.insert(missing, now: now + 1000)
        #expect(frames(out) == [3000, 6000, 9000])
        #expect(jb.statistics.recovered == 1 && jb.statistics.lost == 0)
    }

    @Test func givingUpSkipsToTheNextKeyframeAndAsksForOne() {
        var packets = vp8Packets(frames: 40, gop: 30)
        packets.remove(at: 10)                     // frame 3 damaged for good
        var jb = JitterBuffer(codec: .vp8)
        var out: [JitterBuffer.Action] = []
        var now: RTPTime = 0
        for p in packets { now += 11_000; out += jb.insert(p, now: now); out += jb.poll(now: now) }
        let emitted = frames(out)
        #expect(emitted.prefix(3) == [0, 3000, 6000])
        let firstAfterLoss: UInt32? = emitted.dropFirst(3).first
        let keyframeTimestamp: UInt32? = 30 * 3000
        #expect(firstAfterLoss == keyframeTimestamp, "inter frames after the loss are dropped until the keyframe")
        #expect(out.contains(.lost(count: 1)))
        #expect(jb.statistics.keyframeRequests >= 1 && jb.statistics.keyframeRequests <= 1 + 40 * 11 / 500 + 2, "throttled")
    }

    @Test func duplicatesAndWrapAround() {
        let packets = vp8Packets(frames: 5, firstSequence: 65530)
        var jb = JitterBuffer(codec: .vp8)
        var out: [JitterBuffer.Action] = []
        for (i, p) in packets.enumerated() { out += jb.insert(p, now: RTPTime(i)); out += jb.insert(p, now: RTPTime(i)) }
        #expect(frames(out) == (0..<5).map { UInt32($0 * 3000) })
        #expect(jb.statistics.duplicates + jb.statistics.late == packets.count, "every copy refused")
    }

    @Test func audioPacketsAreFramesAndNeverNacked() {
        var jb = JitterBuffer(codec: .opus)
        var out: [JitterBuffer.Action] = []
        for i in [0, 1, 3, 2, 5, 6] as [UInt16] {
            let p = try! RTPPacket(parsing: RTPPacket.build(payloadType: 111, sequenceNumber: i, timestamp: UInt32(i) * 960, ssrc: 2, payload: [0xFC, UInt8(i)]))
            out += jb.insert(p, now: RTPTime(i) * 20_000)
        }
        out += jb.poll(now: 1_000_000)
        #expect(frames(out) == [0, 960, 1920, 2880, 4800, 5760])
        #expect(!out.contains { if case .nack = $0 { true } else { false } })
        #expect(out.contains(.lost(count: 1)))
    }

    @Test func verifierUnderLossReorderAndDuplication() {
        var rng = SeededRandom("verifierUnderLossReorderAndDuplication")
        let packets = vp8Packets(frames: 600, gop: 60)
        var jb = JitterBuffer(codec: .vp8)
        var now: RTPTime = 0
        var emitted: [UInt32] = []
        var queue: [RTPPacket] = []
        for p in packets {
            if Int.random(in: 0..<100, using: &rng) < 10 { continue }                      // 10 % loss
            queue.insert(p, at: max(0, queue.count - Int.random(in: 0...3, using: &rng)))   // reorder
            if Int.random(in: 0..<100, using: &rng) < 3 { queue.append(p) }                 // duplicates
            while queue.count > 4 {
                now += 3_700
                emitted += frames(jb.insert(queue.removeFirst(), now: now))
                emitted += frames(jb.poll(now: now))
            }
        }
        for p in queue { now += 3_700; emitted += frames(jb.insert(p, now: now)) }
        emitted += frames(jb.poll(now: now + 1_000_000))
        #expect(!emitted.isEmpty)
        #expect(zip(emitted, emitted.dropFirst()).allSatisfy { $0 < $1 }, "frames leave in order, each once")
        #expect(jb.statistics.lost > 0 && jb.statistics.keyframeRequests > 0)
    }

    @Test func floodsStayBounded() {
        var jb = JitterBuffer(codec: .vp8, configuration: .init(capacity: 64))
        // A frame that never ends (no marker): memory must not grow.
        for i in 0..<5000 {
            let p = try! RTPPacket(parsing: RTPPacket.build(payloadType: 96, sequenceNumber: UInt16(i & 0xFFFF), timestamp: 1, ssrc: 1, payload: [0x10, 0x00]))
            _ = jb.insert(p, now: RTPTime(i))
            #expect(jb.heldPackets <= 64, "packet \(i): \(jb.heldPackets) held")
        }
        #expect(jb.statistics.received == 5000)
        // Sequence numbers jumping around by up to 2,000 (no marker, no keyframe): holes stay bounded too.
        var jumping = JitterBuffer(codec: .vp8, configuration: .init(capacity: 64))
        var seq: UInt16 = 0
        for i in 0..<5000 {
            seq &+= UInt16(1 + (i * 7919) % 2000)
            let p = try! RTPPacket(parsing: RTPPacket.build(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(i), ssrc: 1, payload: [0x10, 0x01]))
            _ = jumping.insert(p, now: RTPTime(i) * 1000)
            #expect(jumping.heldPackets <= 64 && jumping.trackedHoles <= 2 * Int(JitterBuffer.maxHoles))
        }
    }
}
