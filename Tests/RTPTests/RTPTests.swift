@testable import RTP
import Testing

@Suite(.timeLimit(.minutes(2))) struct RTPPacketTests {
    @Test func parsesHeaderExtensionsAndPadding() throws {
        var bytes = RTPPacket.build(payloadType: 111, sequenceNumber: 65535, timestamp: 0xDEADBEEF, ssrc: 0x01020304, marker: true,
                                    extensions: [(1, Array("a0".utf8)), (2, [0x12, 0x34, 0x56]), (3, [0x80 | 42])], payload: [9, 8, 7])
        bytes[0] |= 0x20
        bytes += [0, 0, 3]                                   // 3 bytes of padding
        let p = try RTPPacket(parsing: bytes)
        #expect(p.marker && p.payloadType == 111 && p.sequenceNumber == 65535 && p.timestamp == 0xDEADBEEF && p.ssrc == 0x01020304)
        #expect(p.mid(id: 1) == "a0")
        #expect(p.absSendTime(id: 2) == 0x123456)
        #expect(p.audioLevel(id: 3)?.voice == true && p.audioLevel(id: 3)?.level == 42)
        #expect(Array(p.payload) == [9, 8, 7])
    }

    @Test func twoByteExtensions() throws {
        var bytes: [UInt8] = [0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0x00, 0, 2, 7, 3, 1, 2, 3, 0, 0, 0]
        bytes += [0xAA]
        let p = try RTPPacket(parsing: bytes)
        #expect(p.extensionValue(id: 7).map(Array.init) == [1, 2, 3])
        #expect(Array(p.payload) == [0xAA])
    }

    @Test func everyTruncationAndCorruptionIsSafe() {
        let bytes = RTPPacket.build(payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, extensions: [(1, [1, 2])], payload: [1, 2, 3, 4])
        for n in 0..<12 {
            #expect { try RTPPacket(parsing: Array(bytes.prefix(n))) } throws: { error in
                if case .truncated = error as? RTPError { true } else { false }
            }
        }
        for i in bytes.indices {
            for v: UInt8 in [0, 0xFF, 0x3F, 0xBF] {
                var b = bytes
                b[i] = v
                _ = try? RTPPacket(parsing: b)   // must not crash
                _ = try? RTPPacket(parsing: b + [0xFF])
            }
        }
    }

    @Test func demuxByFirstByte() {
        #expect(RTPPacket.looksLikeRTPOrRTCP([0x80, 96]))
        #expect(!RTPPacket.looksLikeRTPOrRTCP([0x16, 0xFE]))     // DTLS
        #expect(!RTPPacket.looksLikeRTPOrRTCP([0x00, 0x01]))     // STUN
        #expect(RTPPacket.isRTCP([0x81, 201]) && !RTPPacket.isRTCP([0x80, 111]))
    }

    @Test func sequenceDistanceWraps() {
        #expect(UInt16(2).distance(from: 65534) == 4)
        #expect(UInt16(65534).distance(from: 2) == -4)
    }
}

@Suite(.timeLimit(.minutes(2))) struct RTCPTests {
    @Test func compoundSenderReportAndSDES() throws {
        let sr = RTCPPacket.senderReport(ssrc: 7, ntp: 0x0102030405060708, rtpTimestamp: 90000, packets: 10, octets: 1000, reports: [])
        let sdes = RTCPPacket.sourceDescription(chunks: [(ssrc: 7, cname: "abc")])
        let parsed = try RTCPPacket.parseCompound(sr.encoded + sdes.encoded)
        #expect(parsed == [sr, sdes])
    }

    @Test func receiverReportRoundTrip() throws {
        let block = RTCPPacket.ReportBlock(ssrc: 9, fractionLost: 25, cumulativeLost: -3, highestSequence: 70000, jitter: 12, lastSR: 0xAABBCCDD, delaySinceLastSR: 65536)
        let rr = RTCPPacket.receiverReport(ssrc: 1, reports: [block])
        #expect(try RTCPPacket.parseCompound(rr.encoded) == [rr])
    }

    @Test func nackPacksAndUnpacks() throws {
        let lost: [UInt16] = [65530, 65531, 65535, 0, 4, 100]
        let packet = RTCPPacket.nack(sender: 1, media: 2, lost: lost)
        guard case let .nack(_, _, back)? = try RTCPPacket.parseCompound(packet.encoded).first else { Issue.record("not a NACK"); return }
        #expect(Set(back) == Set(lost))
        #expect(packet.encoded.count == 12 + 4 * 2, "65530…4 fit one FCI (PID + 16), 100 needs another")
    }

    @Test func feedbackRoundTrips() throws {
        for p in [RTCPPacket.pli(sender: 1, media: 2), .fir(sender: 1, requests: [(ssrc: 2, sequence: 5)]), .bye(ssrcs: [3, 4])] {
            #expect(try RTCPPacket.parseCompound(p.encoded) == [p])
        }
    }

    @Test func damagedCompoundsThrowNeverCrash() {
        let bytes = RTCPPacket.senderReport(ssrc: 7, ntp: 1, rtpTimestamp: 2, packets: 3, octets: 4, reports: []).encoded
            + RTCPPacket.nack(sender: 1, media: 2, lost: [5]).encoded
        for n in 1..<bytes.count where n % 4 != 0 || n == 4 {
            _ = try? RTCPPacket.parseCompound(Array(bytes.prefix(n)))
        }
        for i in bytes.indices {
            var b = bytes
            b[i] ^= 0xFF
            _ = try? RTCPPacket.parseCompound(b)
        }
        #expect(throws: RTPError.self) { try RTCPPacket.parseCompound([0x80, 200, 0xFF, 0xFF]) }
    }
}

@Suite(.timeLimit(.minutes(2))) struct DepacketizerTests {
    @Test func vp8KeyframeAcrossPacketsWithExtendedDescriptor() throws {
        // First packet: X=1, S=1, PID=0; I=1 with a 15-bit picture id; frame tag byte with P=0 (key frame).
        let first: [UInt8] = [0x90, 0x80, 0x81, 0x23, 0x10, 0x02, 0x9d]
        let second: [UInt8] = [0x80, 0x80, 0x81, 0x23, 0x01, 0x2a]
        let frame = try Depacketizer.assemble(.vp8, payloads: [first[...], second[...]])
        #expect(frame.data == [0x10, 0x02, 0x9d, 0x01, 0x2a] && frame.keyframe)
        let inter = try Depacketizer.assemble(.vp8, payloads: [[0x10, 0x31, 0x00][...]])
        #expect(!inter.keyframe)
        #expect(!Depacketizer.startsFrame(.vp8, second[...]))
    }

    @Test func h264SingleStapAAndFuA() throws {
        let sps: [UInt8] = [0x67, 0x42, 0x00, 0x1f], pps: [UInt8] = [0x68, 0xce, 0x3c, 0x80]
        let stap: [UInt8] = [0x18, 0, 4] + sps + [0, 4] + pps
        // IDR (type 5, NRI 3) in two FU-A fragments.
        let fu1: [UInt8] = [0x7c, 0x85, 0xAA, 0xBB], fu2: [UInt8] = [0x7c, 0x45, 0xCC]
        let frame = try Depacketizer.assemble(.h264, payloads: [stap[...], fu1[...], fu2[...]])
        #expect(frame.keyframe)
        #expect(frame.data == [0, 0, 0, 1] + sps + [0, 0, 0, 1] + pps + [0, 0, 0, 1, 0x65, 0xAA, 0xBB, 0xCC])
        let single = try Depacketizer.assemble(.h264, payloads: [[0x41, 0x9a, 0x00][...]])
        #expect(single.data == [0, 0, 0, 1, 0x41, 0x9a, 0x00] && !single.keyframe)
        #expect(throws: RTPError.self) { try Depacketizer.assemble(.h264, payloads: [fu2[...]]) }
        #expect(!Depacketizer.startsFrame(.h264, fu2[...]) && Depacketizer.startsFrame(.h264, fu1[...]))
    }

    @Test func vp9WithScalabilityStructure() throws {
        // I=1 (7-bit id), P=0, B=1, V=1; SS: one layer with resolution (Y), no groups; then data.
        let first: [UInt8] = [0x8A, 0x05, 0x10, 0x02, 0x80, 0x01, 0xE0, 0xAB, 0xCD]
        let last: [UInt8] = [0x84, 0x05, 0xEF]
        let frame = try Depacketizer.assemble(.vp9, payloads: [first[...], last[...]])
        #expect(frame.data == [0xAB, 0xCD, 0xEF] && frame.keyframe)
        let inter = try Depacketizer.assemble(.vp9, payloads: [[0xCC, 0x06, 0x11][...]])
        #expect(!inter.keyframe && inter.data == [0x11])
    }

    @Test func everyTruncatedPayloadIsSafe() {
        let samples: [(RTPCodec, [UInt8])] = [
            (.vp8, [0x90, 0x80, 0x81, 0x23, 0x10]), (.vp9, [0x8A, 0x05, 0x10, 0x02, 0x80, 0x01, 0xE0, 0xAB]),
            (.h264, [0x18, 0, 4, 0x67, 0x42, 0x00, 0x1f]), (.h264, [0x7c, 0x85, 0xAA]), (.vp9, [0xDA, 0x05, 0x02, 0x03, 0x07]),
        ]
        // Each case either assembles a frame no larger than its input allows (H.264 adds a 4-byte start code per NAL
        // unit, at most one per 3 input bytes) or is refused with a reason; the whole samples assemble.
        func check(_ codec: RTPCodec, _ payload: ArraySlice<UInt8>, _ what: String) -> Bool {
            do {
                let frame = try Depacketizer.assemble(codec, payloads: [payload])
                #expect(frame.data.count <= payload.count + 4 * (payload.count / 3 + 1), "\(what): \(frame.data.count) bytes out of \(payload.count)")
                return true
            } catch {
                #expect(!error.reason.isEmpty, "\(what): refused without a reason")
                return false
            }
        }
        for (codec, bytes) in samples {
            #expect(check(codec, bytes[...], "\(codec) whole"), "\(codec): the whole sample assembles")
            for n in 0..<bytes.count {
                _ = check(codec, bytes.prefix(n), "\(codec) cut to \(n)")
                for i in 0..<n {
                    var b = Array(bytes.prefix(n)); b[i] ^= 0xFF
                    _ = check(codec, b[...], "\(codec) cut to \(n), byte \(i) flipped")
                }
            }
        }
    }
}

@Suite struct REMBTests {
    /// REMB carries an 18-bit mantissa and a 6-bit exponent: exact for round numbers, within 2^-17 otherwise.
    @Test func rembRoundTrips() throws {
        for bitrate: UInt64 in [0, 150_000, 691_200, 2_764_800, 123_456_789, 4_000_000_000] {
            let packet = RTCPPacket.remb(sender: 1, bitrate: bitrate, ssrcs: [0xBEEF, 7])
            guard case let .remb(sender, back, ssrcs)? = try RTCPPacket.parseCompound(packet.encoded).first else { Issue.record("not a REMB"); continue }
            #expect(sender == 1 && ssrcs == [0xBEEF, 7])
            #expect(back <= bitrate && Double(bitrate - back) <= Double(bitrate) / 131_072, "\(bitrate) → \(back)")
        }
        let known = RTCPPacket.remb(sender: 1, bitrate: 150_000, ssrcs: [2]).encoded
        #expect(Array(known[0..<4]) == [0x8F, 206, 0, 5] && Array(known[12..<16]) == Array("REMB".utf8), "PSFB, FMT 15, 6 words")
    }
}
