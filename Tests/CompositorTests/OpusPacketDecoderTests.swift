import Codecs
import Foundation
import MediaCore
import Testing

/// Live Opus decoded by libopus directly: both channels keep their own tone, the packets' times carry over, and a
/// refused packet is counted and does not stop the ones after it.
@Suite(.timeLimit(.minutes(1))) struct OpusPacketDecoderTests {
    static func power(_ samples: ArraySlice<Float>, frequency: Double) -> Double {
        let k = 2 * cos(2 * Double.pi * frequency / 48_000)
        var s1 = 0.0, s2 = 0.0
        for x in samples { let s0 = Double(x) + k * s1 - s2; s2 = s1; s1 = s0 }
        return (s1 * s1 + s2 * s2 - k * s1 * s2) / Double(samples.count * samples.count)
    }

    /// One second of a 440 Hz tone on the left and 1 kHz on the right, as 20 ms packets.
    static func stereoPackets() throws -> [EncodedPacket] {
        let encoder = try OpusEncoder(bitrate: 96_000)
        var packets: [EncodedPacket] = []
        for frame in 0..<50 {
            var interleaved = [Float](repeating: 0, count: encoder.frameSamples * 2)
            for i in 0..<encoder.frameSamples {
                let t = Double(frame * encoder.frameSamples + i) / 48_000
                interleaved[2 * i] = Float(0.3 * sin(2 * .pi * 440 * t))
                interleaved[2 * i + 1] = Float(0.3 * sin(2 * .pi * 1000 * t))
            }
            packets += try encoder.encode(interleaved: interleaved)
        }
        return packets
    }

    @Test func eachChannelKeepsItsToneAndEachPacketItsTime() throws {
        let packets = try Self.stereoPackets()
        let decoder = try FrameDecoder(codec: "opus")
        var left: [Float] = [], right: [Float] = [], times: [Microseconds] = []
        for packet in packets {
            #expect(decoder.decode(packet.data, time: packet.time + 5_000_000, onVideo: { _ in }, onAudio: { samples in
                left += samples.left
                right += samples.right
                times.append(samples.time)
            }))
        }
        #expect(left.count == packets.count * 960, "20 ms of 48 kHz per packet")
        #expect(times == packets.map { $0.time + 5_000_000 })
        let steady = 9600..<left.count    // past the encoder's start-up
        let l440 = Self.power(left[steady], frequency: 440), l1k = Self.power(left[steady], frequency: 1000)
        let r440 = Self.power(right[steady], frequency: 440), r1k = Self.power(right[steady], frequency: 1000)
        #expect(l440 > 100 * l1k, "left holds 440 Hz: \(l440) against \(l1k)")
        #expect(r1k > 100 * r440, "right holds 1 kHz: \(r1k) against \(r440)")
        #expect(l440 > 0.01, "at about the level sent (0.3 amplitude): \(l440)")
    }

    @Test func refusedPacketsAreCountedAndTheNextOnesDecode() throws {
        let packets = try Self.stereoPackets()
        let decoder = try FrameDecoder(codec: "opus")
        var decoded = 0
        // A TOC byte announcing code 3 with a frame count of zero, and a code-3 packet longer than 120 ms: invalid.
        for garbage in [[UInt8](), [0x03], [0x03, 0x00], [0xFB, 0xBF] + [UInt8](repeating: 0xA5, count: 300)] {
            #expect(!decoder.decode(garbage, time: 0, onVideo: { _ in }, onAudio: { _ in decoded += 1 }))
        }
        #expect(decoder.errors == 3, "the three non-empty ones were refused by libopus")
        for packet in packets.prefix(10) {
            #expect(decoder.decode(packet.data, time: packet.time, onVideo: { _ in }, onAudio: { _ in decoded += 1 }))
        }
        #expect(decoded == 10)
    }
}
