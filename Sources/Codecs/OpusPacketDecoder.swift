import COpus
import MediaCore

/// Decodes one RTP Opus stream (RFC 7587: a single stream, mono or stereo, 48 kHz) with libopus directly, to 48 kHz
/// stereo planar float in reused buffers. Directly, not through libavcodec's libopus wrapper: that one decodes with
/// libopus's multistream API, which queries the CPU (`cpuid`, a trap to the hypervisor on a virtual machine) on every
/// packet, and then converts through swresample — together four times the cost of the decode itself.
/// One owner (the track's decoder thread); not Sendable.
public final class OpusPacketDecoder {
    /// The longest Opus packet: 120 ms at 48 kHz.
    static let maxSamples = 5760
    private var decoder: OpaquePointer?
    private var interleaved = [Float](repeating: 0, count: 2 * OpusPacketDecoder.maxSamples)
    private var left = [Float](repeating: 0, count: OpusPacketDecoder.maxSamples)
    private var right = [Float](repeating: 0, count: OpusPacketDecoder.maxSamples)
    public private(set) var errors = 0

    public init() throws(MediaError) {
        var error: Int32 = 0
        decoder = opus_decoder_create(48_000, 2, &error)
        guard decoder != nil, error == OPUS_OK else {
            throw MediaError(.codecFailure, "cannot open the Opus decoder: \(String(cString: opus_strerror(error)))")
        }
    }

    deinit { opus_decoder_destroy(decoder) }

    /// Decodes one packet stamped `time`; false when libopus refused it (the decoder starts afresh).
    @discardableResult
    public func decode(_ data: [UInt8], time: Microseconds, onAudio: (AudioSamples) -> Void) -> Bool {
        guard let decoder, !data.isEmpty, data.count <= Int(Int32.max) else { return false }
        let decoded = data.withUnsafeBufferPointer { packet in
            interleaved.withUnsafeMutableBufferPointer { out in
                opus_decode_float(decoder, packet.baseAddress, Int32(packet.count), out.baseAddress!, Int32(OpusPacketDecoder.maxSamples), 0)
            }
        }
        guard decoded > 0 else {
            errors += 1
            _ = mcu_opus_reset(decoder)
            return false
        }
        let count = Int(decoded)
        interleaved.withUnsafeBufferPointer { source in
            left.withUnsafeMutableBufferPointer { l in
                right.withUnsafeMutableBufferPointer { r in
                    for i in 0..<count {
                        l[i] = source[2 * i]
                        r[i] = source[2 * i + 1]
                    }
                }
            }
        }
        onAudio(AudioSamples(time: time, left: left[0..<count], right: right[0..<count]))
        return true
    }
}
