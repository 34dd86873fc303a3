import CFFmpeg
import MediaCore

/// FFmpeg's error code as text.
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@inline(__always)
func check(_ code: Int32, _ errorCode: MediaError.Code, _ message: @autoclosure () -> String, at location: String? = nil) throws(MediaError) {
    if code < 0 { throw MediaError(errorCode, message(), underlying: ffmpegErrorText(code), at: location) }
}

let AVERROR_EAGAIN = mcu_averror_eagain()
let AVERROR_EOF_CODE = mcu_averror_eof()
let AV_NOPTS = mcu_av_nopts_value()
let microsecondBase = AVRational(num: 1, den: 1_000_000)

/// Library-wide set-up, once: quiet logging (we report errors ourselves).
public enum CodecLibrary {
    public static func configureLogging(verbose: Bool) {
        av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_QUIET)
    }
}

@inline(__always)
func plane(_ frame: UnsafeMutablePointer<AVFrame>, _ index: Int) -> UnsafeMutablePointer<UInt8>? {
    switch index {
    case 0: frame.pointee.data.0
    case 1: frame.pointee.data.1
    case 2: frame.pointee.data.2
    default: frame.pointee.data.3
    }
}

@inline(__always)
func stride(_ frame: UnsafeMutablePointer<AVFrame>, _ index: Int) -> Int {
    switch index {
    case 0: Int(frame.pointee.linesize.0)
    case 1: Int(frame.pointee.linesize.1)
    case 2: Int(frame.pointee.linesize.2)
    default: Int(frame.pointee.linesize.3)
    }
}

/// A 48 kHz stereo audio frame of `samples` per channel in `format`, with its buffers, for an encoder to take.
func makeStereoFrame(format: AVSampleFormat, samples: Int) throws(MediaError) -> UnsafeMutablePointer<AVFrame> {
    guard let frame = av_frame_alloc() else { throw MediaError(.codecFailure, "out of memory") }
    frame.pointee.format = format.rawValue
    frame.pointee.sample_rate = Int32(AudioSamples.sampleRate)
    frame.pointee.nb_samples = Int32(samples)
    mcu_frame_set_stereo(frame)
    if av_frame_get_buffer(frame, 0) < 0 {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        throw MediaError(.codecFailure, "out of memory")
    }
    return frame
}
