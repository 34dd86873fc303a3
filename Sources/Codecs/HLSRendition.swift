import CFFmpeg
import MediaCore

/// An extra, smaller HLS rendition of the composite: the canvas scaled once to its size and encoded by its own x264
/// (nothing is composed again). Its keyframes are forced where the recording's fall, so both playlists cut segments at
/// the same frames and a player can switch between them; it follows the recording's preset under load. Its packets
/// wait until the stream opens (with the recording's first packet, which carries the audio's parameters). Engine's
/// thread only; not Sendable.
final class HLSRendition {
    let size: PixelSize
    private let settings: EncoderSettings
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var preset: String
    private var scaler: OpaquePointer?
    private let frame: UnsafeMutablePointer<AVFrame>
    private let packet: UnsafeMutablePointer<AVPacket>
    private var waiting: [UnsafeMutablePointer<AVPacket>] = []
    private var lastIndex = Int64.min
    var stream: HLSStream? {
        didSet { flushWaiting() }
    }

    init(size: PixelSize, recording: EncoderSettings) throws(MediaError) {
        guard size.width >= 16, size.height >= 16, size.width % 2 == 0, size.height % 2 == 0 else {
            throw MediaError(.invalidArgument, "a rendition's size must be even and at least 16x16, not \(size)")
        }
        var settings = recording
        settings.size = size
        settings.fixedKeyframes = true
        self.settings = settings
        self.size = size
        preset = recording.preset
        guard let frame = av_frame_alloc(), let packet = av_packet_alloc() else { throw MediaError(.codecFailure, "out of memory") }
        self.frame = frame
        self.packet = packet
        frame.pointee.width = Int32(size.width)
        frame.pointee.height = Int32(size.height)
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        guard av_frame_get_buffer(frame, 32) >= 0 else { throw MediaError(.codecFailure, "out of memory allocating a \(size) frame") }
        encoder = try H264Encoder.open(settings: settings, size: size, preset: preset, globalHeader: true)
    }

    deinit {
        avcodec_free_context(&encoder)
        sws_freeContext(scaler)
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        for var queued in waiting.map({ Optional($0) }) { av_packet_free(&queued) }
    }

    /// The encoder's stream parameters, for the playlist's init segment.
    func parameters(into parameters: UnsafeMutablePointer<AVCodecParameters>) -> Int32 {
        guard let encoder else { return mcu_averror(EINVAL) }
        return avcodec_parameters_from_context(parameters, encoder)
    }
    var timeBase: AVRational { encoder?.pointee.time_base ?? AVRational(num: 1, den: 30) }

    /// Scales and encodes output frame `index`; `keyframe`: the recording's encoder makes this frame a keyframe;
    /// `preset`: the recording's preset in force (a change starts a new encoder, as the recording's did).
    func encode(_ canvas: VideoCanvas, index: Int64, keyframe: Bool, preset: String) throws(MediaError) {
        guard index > lastIndex else { return }
        lastIndex = index
        if preset != self.preset, let old = encoder {
            avcodec_send_frame(old, nil)
            drain(old)
            avcodec_free_context(&encoder)
            self.preset = preset
            encoder = try H264Encoder.open(settings: settings, size: size, preset: preset, globalHeader: true)
        }
        guard let encoder else { return }
        let source = canvas.frame
        scaler = sws_getCachedContext(scaler, source.pointee.width, source.pointee.height, AV_PIX_FMT_YUV420P,
                                      Int32(size.width), Int32(size.height), AV_PIX_FMT_YUV420P, SWS_AREA, nil, nil, nil)
        guard let scaler else { throw MediaError(.codecFailure, "cannot scale the canvas to \(size)") }
        try check(av_frame_make_writable(frame), .codecFailure, "out of memory")
        let sourcePlanes = withUnsafePointer(to: &source.pointee.data) { $0.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { $0 } }
        let sourceStrides = withUnsafePointer(to: &source.pointee.linesize) { $0.withMemoryRebound(to: Int32.self, capacity: 8) { $0 } }
        let planes = withUnsafePointer(to: &frame.pointee.data) { $0.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0 } }
        let strides = withUnsafePointer(to: &frame.pointee.linesize) { $0.withMemoryRebound(to: Int32.self, capacity: 8) { $0 } }
        sws_scale(scaler, sourcePlanes, sourceStrides, 0, source.pointee.height, planes, strides)
        frame.pointee.pts = index
        frame.pointee.pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        try check(avcodec_send_frame(encoder, frame), .codecFailure, "H.264 encoding of the \(size.height)p rendition failed")
        drain(encoder)
    }

    /// Drains the encoder into the stream: no more frames.
    func finish() {
        guard let encoder else { return }
        avcodec_send_frame(encoder, nil)
        drain(encoder)
        avcodec_free_context(&self.encoder)
    }

    private func drain(_ encoder: UnsafeMutablePointer<AVCodecContext>) {
        while avcodec_receive_packet(encoder, packet) >= 0 {
            if let stream {
                stream.write(packet, video: true, pts: packet.pointee.pts, dts: packet.pointee.dts)
            } else if let held = av_packet_clone(packet) {
                waiting.append(held)
            }
            av_packet_unref(packet)
        }
    }

    private func flushWaiting() {
        guard let stream else { return }
        for var held in waiting.map({ Optional($0) }) {
            if let p = held { stream.write(p, video: true, pts: p.pointee.pts, dts: p.pointee.dts) }
            av_packet_free(&held)
        }
        waiting.removeAll()
    }
}
