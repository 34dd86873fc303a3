import CFFmpeg
import MediaCore

/// Converts decoded audio of any format, rate and layout to 48 kHz stereo planar float into reused buffers.
/// One owner; not Sendable.
final class AudioConverter {
    enum Result { case samples(AudioSamples), unsupported(String), empty }

    private var resampler: OpaquePointer?
    private var input: (format: Int32, rate: Int32, channels: Int32) = (-1, -1, -1)
    private var left = [Float](repeating: 0, count: 8192)
    private var right = [Float](repeating: 0, count: 8192)
    private var failedOnce = false

    deinit { swr_free(&resampler) }

    func convert(_ frame: UnsafeMutablePointer<AVFrame>, time: Microseconds) -> Result {
        guard configure(for: frame), let resampler else {
            defer { failedOnce = true }
            return failedOnce ? .empty : .unsupported("cannot convert audio of format \(frame.pointee.format) at \(frame.pointee.sample_rate) Hz; skipped")
        }
        let inCount = frame.pointee.nb_samples
        let capacity = Int(swr_get_out_samples(resampler, inCount))
        if capacity > left.count {
            left = [Float](repeating: 0, count: capacity * 2)
            right = [Float](repeating: 0, count: capacity * 2)
        }
        let produced: Int32 = left.withUnsafeMutableBufferPointer { l in
            right.withUnsafeMutableBufferPointer { r in
                var outputs: (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?) = (
                    UnsafeMutableRawPointer(l.baseAddress!).assumingMemoryBound(to: UInt8.self),
                    UnsafeMutableRawPointer(r.baseAddress!).assumingMemoryBound(to: UInt8.self))
                return withUnsafeMutablePointer(to: &outputs) { out in
                    out.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 2) { outPlanes in
                        frame.pointee.extended_data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { inPlanes in
                            swr_convert(resampler, outPlanes, Int32(l.count), inPlanes, inCount)
                        }
                    }
                }
            }
        }
        guard produced > 0 else { return .empty }
        let n = Int(produced)
        return .samples(AudioSamples(time: time, left: left[0..<n], right: right[0..<n]))
    }

    private func configure(for frame: UnsafeMutablePointer<AVFrame>) -> Bool {
        let key = (frame.pointee.format, frame.pointee.sample_rate, frame.pointee.ch_layout.nb_channels)
        if resampler != nil && key == input { return true }
        swr_free(&resampler)
        var outLayout = AVChannelLayout()
        mcu_channel_layout_default(&outLayout, 2)
        var inLayout = frame.pointee.ch_layout
        if inLayout.order == AV_CHANNEL_ORDER_UNSPEC { mcu_channel_layout_default(&inLayout, inLayout.nb_channels) }
        let made = swr_alloc_set_opts2(&resampler, &outLayout, AV_SAMPLE_FMT_FLTP, Int32(AudioSamples.sampleRate),
                                       &inLayout, AVSampleFormat(frame.pointee.format), frame.pointee.sample_rate, 0, nil)
        guard made >= 0, swr_init(resampler) >= 0 else { swr_free(&resampler); return false }
        input = key
        return true
    }
}
