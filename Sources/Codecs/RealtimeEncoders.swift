import CFFmpeg
import MediaCore

/// One encoded frame of a live encoder, stamped in microseconds of the encoder's own timeline.
public struct EncodedPacket: Sendable {
    public var data: [UInt8]
    public var time: Microseconds
    public var keyframe: Bool
}

/// VP8 through libvpx in real-time mode (no lag, fastest speed): what a browser's camera sender does.
/// Keyframes on request (PLI) and every `keyframeInterval` seconds. One owner; not Sendable.
public final class VP8Encoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    public let size: PixelSize

    public init(size: PixelSize, fps: Int, bitrate: Int, keyframeInterval: Int = 3) throws(MediaError) {
        self.size = size
        guard let codec = avcodec_find_encoder_by_name("libvpx") else { throw MediaError(.codecFailure, "libavcodec was built without libvpx") }
        guard let c = avcodec_alloc_context3(codec) else { throw MediaError(.codecFailure, "out of memory") }
        context = c
        c.pointee.width = Int32(size.width)
        c.pointee.height = Int32(size.height)
        c.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        c.pointee.time_base = AVRational(num: 1, den: Int32(fps))
        c.pointee.framerate = AVRational(num: Int32(fps), den: 1)
        c.pointee.bit_rate = Int64(bitrate)
        c.pointee.gop_size = Int32(fps * keyframeInterval)
        c.pointee.thread_count = 1
        var options: OpaquePointer?
        av_dict_set(&options, "deadline", "realtime", 0)
        av_dict_set(&options, "cpu-used", "8", 0)
        av_dict_set(&options, "lag-in-frames", "0", 0)
        let opened = avcodec_open2(c, codec, &options)
        av_dict_free(&options)
        try check(opened, .codecFailure, "cannot open the VP8 encoder")
        packet = av_packet_alloc()
    }

    deinit {
        avcodec_free_context(&context)
        av_packet_free(&packet)
    }

    /// Encodes the canvas as frame `index` (its time is index / fps).
    public func encode(_ canvas: VideoCanvas, index: Int64, keyframe: Bool) throws(MediaError) -> [EncodedPacket] {
        guard let context, let packet else { return [] }
        canvas.frame.pointee.pts = index
        canvas.frame.pointee.pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        try check(avcodec_send_frame(context, canvas.frame), .codecFailure, "VP8 encoding failed")
        return try receive(context, packet)
    }
}

/// Opus through libopus, 20 ms frames of 48 kHz stereo. A packet's time is that of the first input sample it
/// encodes, as WebRTC senders stamp RTP (the receiver accounts for the encoder's look-ahead).
public final class OpusEncoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var samplesSent: Int64 = 0
    private var padding: Int64 = 0
    /// Samples per channel in each frame the encoder takes.
    public let frameSamples: Int

    public init(bitrate: Int = 64_000) throws(MediaError) {
        guard let codec = avcodec_find_encoder_by_name("libopus") else { throw MediaError(.codecFailure, "libavcodec was built without libopus") }
        guard let c = avcodec_alloc_context3(codec) else { throw MediaError(.codecFailure, "out of memory") }
        context = c
        c.pointee.sample_fmt = AV_SAMPLE_FMT_FLT
        c.pointee.sample_rate = Int32(AudioSamples.sampleRate)
        mcu_codec_set_stereo(c)
        c.pointee.bit_rate = Int64(bitrate)
        c.pointee.time_base = AVRational(num: 1, den: Int32(AudioSamples.sampleRate))
        var options: OpaquePointer?
        av_dict_set(&options, "frame_duration", "20", 0)
        let opened = avcodec_open2(c, codec, &options)
        av_dict_free(&options)
        try check(opened, .codecFailure, "cannot open the Opus encoder")
        frameSamples = Int(c.pointee.frame_size)
        padding = Int64(c.pointee.initial_padding)
        packet = av_packet_alloc()
        frame = try makeStereoFrame(format: AV_SAMPLE_FMT_FLT, samples: frameSamples)
    }

    deinit {
        avcodec_free_context(&context)
        av_packet_free(&packet)
        av_frame_free(&frame)
    }

    /// Encodes one frame: `interleaved` holds `frameSamples` stereo sample pairs (L R L R …).
    public func encode(interleaved: [Float]) throws(MediaError) -> [EncodedPacket] {
        guard let context, let packet, let frame, interleaved.count == frameSamples * 2 else { return [] }
        try check(av_frame_make_writable(frame), .codecFailure, "out of memory")
        if let data = plane(frame, 0) {
            interleaved.withUnsafeBufferPointer { src in
                UnsafeMutableRawPointer(data).assumingMemoryBound(to: Float.self).update(from: src.baseAddress!, count: src.count)
            }
        }
        frame.pointee.pts = samplesSent
        samplesSent += Int64(frameSamples)
        try check(avcodec_send_frame(context, frame), .codecFailure, "Opus encoding failed")
        // FFmpeg stamps packets `initial_padding` samples early (for containers' pre-skip); undo that.
        return try receive(context, packet, shift: padding)
    }
}

private func receive(_ context: UnsafeMutablePointer<AVCodecContext>, _ packet: UnsafeMutablePointer<AVPacket>, shift: Int64 = 0) throws(MediaError) -> [EncodedPacket] {
    var out: [EncodedPacket] = []
    while true {
        let got = avcodec_receive_packet(context, packet)
        if got == AVERROR_EAGAIN || got == AVERROR_EOF_CODE { return out }
        try check(got, .codecFailure, "encoding failed")
        let base = context.pointee.time_base
        let time = av_rescale_q(packet.pointee.pts + shift, base, microsecondBase)
        let data = Array(UnsafeBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size)))
        out.append(EncodedPacket(data: data, time: time, keyframe: packet.pointee.flags & AV_PKT_FLAG_KEY != 0))
        av_packet_unref(packet)
    }
}
