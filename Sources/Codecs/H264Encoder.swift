import CFFmpeg
import MediaCore

/// Opening libx264 the one way the recording and its renditions share.
enum H264Encoder {
    /// libx264 at `preset`, with the stream-header settings of the configured preset pinned (reference frames,
    /// B-frames, weighted prediction, CABAC, 8x8 transform): every preset then writes the same SPS and PPS, so the
    /// encoder can be replaced by a faster one mid-recording without changing the track's format.
    static func open(settings: EncoderSettings, size: PixelSize, preset: String, globalHeader: Bool) throws(MediaError) -> UnsafeMutablePointer<AVCodecContext> {
        guard let h264 = avcodec_find_encoder_by_name("libx264") else {
            throw MediaError(.codecFailure, "libavcodec was built without libx264")
        }
        guard let v = avcodec_alloc_context3(h264) else { throw MediaError(.codecFailure, "out of memory") }
        v.pointee.width = Int32(size.width)
        v.pointee.height = Int32(size.height)
        v.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        v.pointee.time_base = AVRational(num: Int32(settings.fps.denominator), den: Int32(settings.fps.numerator))
        v.pointee.framerate = AVRational(num: Int32(settings.fps.numerator), den: Int32(settings.fps.denominator))
        v.pointee.gop_size = Int32(max(1, (settings.keyframeInterval * settings.fps.doubleValue).rounded()))
        v.pointee.color_range = AVCOL_RANGE_MPEG
        v.pointee.colorspace = AVCOL_SPC_SMPTE170M
        v.pointee.color_primaries = AVCOL_PRI_SMPTE170M
        v.pointee.color_trc = AVCOL_TRC_SMPTE170M
        // The compositor writes chroma centred between luma samples (FrameScaler): said so, players place it exactly.
        v.pointee.chroma_sample_location = AVCHROMA_LOC_CENTER
        v.pointee.thread_count = Int32(settings.threads)
        if let bitrate = settings.bitrate {
            v.pointee.bit_rate = Int64(bitrate)
        }
        if globalHeader { v.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var options: OpaquePointer?
        av_dict_set(&options, "preset", preset, 0)
        av_dict_set(&options, "profile", "high", 0)
        // A frame handed in as an I picture becomes an IDR: where a rendition must start a segment.
        av_dict_set(&options, "forced-idr", "1", 0)
        if settings.bitrate == nil { av_dict_set(&options, "crf", String(settings.crf), 0) }
        var parameters = EncoderSettings.pinnedParameters(configured: settings.preset, preset: preset).map { [$0] } ?? []
        // Keyframes exactly every interval (no scene cuts): renditions encoded beside this one cut at the same frames.
        if settings.fixedKeyframes { parameters.append("scenecut=0") }
        if !parameters.isEmpty { av_dict_set(&options, "x264-params", parameters.joined(separator: ":"), 0) }
        // The slower presets look 40-60 frames ahead; that latency is media a crash would lose. Cap it.
        if let slow = EncoderSettings.presets.firstIndex(of: "medium"), let index = EncoderSettings.presets.firstIndex(of: preset), index >= slow {
            av_dict_set(&options, "rc-lookahead", String(max(10, Int(settings.fps.doubleValue * 0.5))), 0)
        }
        let opened = avcodec_open2(v, h264, &options)
        av_dict_free(&options)
        if opened < 0 {
            var failed: UnsafeMutablePointer<AVCodecContext>? = v
            avcodec_free_context(&failed)
            try check(opened, .codecFailure, "cannot open the H.264 encoder")
        }
        return v
    }
}
