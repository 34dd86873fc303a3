@testable import RTP
import Testing

@Suite(.timeLimit(.minutes(1))) struct AV1DepacketizerTests {
    /// A keyframe's temporal unit in two packets: a temporal delimiter (dropped), a sequence header, and a 300-byte
    /// frame OBU split across the packets. Out comes one temporal delimiter and each OBU with its size field.
    @Test func obusAreJoinedAndGetTheirSizes() throws {
        let frame = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
        // Z=0 Y=1 W=0 N=1: every element has a length; the last goes on in the next packet.
        let first: [UInt8] = [0x48] + [1, 0x10] + [3, 0x08, 0xAA, 0xBB] + [101, 0x30] + frame[0..<100]
        // Z=1 Y=0 W=1: one element, without a length.
        let second: [UInt8] = [0x90] + frame[100...]
        let out = try Depacketizer.assemble(.av1, payloads: [first[...], second[...]])
        #expect(out.keyframe)
        #expect(out.data == [0x12, 0x00] + [0x0A, 0x02, 0xAA, 0xBB] + [0x32, 0xAC, 0x02] + frame)
        #expect(Depacketizer.startsFrame(.av1, first[...]) && !Depacketizer.startsFrame(.av1, second[...]))
        // Without N, the sequence header still marks it a keyframe; a frame OBU alone is not one.
        #expect(try Depacketizer.assemble(.av1, payloads: [([0x40] + first.dropFirst())[...], second[...]]).keyframe)
        #expect(try !Depacketizer.assemble(.av1, payloads: [[0x10, 0x30, 0x01][...]]).keyframe)
    }

    /// Malformed input is an error, never a crash or a runaway allocation.
    @Test func malformedPayloadsAreRefused() {
        let cases: [[[UInt8]]] = [
            [[0x90, 0x30, 1, 2]],                             // starts inside an OBU
            [[0x40, 5, 0x30, 1]],                             // element longer than the packet
            [[0x40, 2, 0x30, 1]],                             // the last OBU never ends
            [[0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]], // a length without end
            [[0x00, 0x7F, 0x0F]],                             // length beyond the packet (127)
            [[0x10, 0x80, 1]],                                 // forbidden bit
            [[]],
        ]
        for payloads in cases {
            #expect(throws: RTPError.self, "\(payloads)") { try Depacketizer.assemble(.av1, payloads: payloads.map { $0[...] }) }
        }
    }
}
