import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// The formats of an audio-only recording.
public enum AudioFormat: String, Sendable, CaseIterable {
    case m4a, ogg, mp3, wav
    public var fileExtension: String { rawValue }
    var encoder: String {
        switch self { case .m4a: "aac"; case .ogg: "libopus"; case .mp3: "libmp3lame"; case .wav: "pcm_s16le" }
    }
    var muxer: String {
        switch self { case .m4a: "mp4"; case .ogg: "ogg"; case .mp3: "mp3"; case .wav: "wav" }
    }
}

/// The mix as an audio file: AAC in M4A (fragmented while written, then rewritten with its index first, as the video
/// recording is), Opus in Ogg, MP3, or 16-bit WAV; 48 kHz stereo. One owner; not Sendable.
public final class AudioFileWriter {
    public let path: String
    public let format: AudioFormat
    /// Where it is written until `finish` (`NAME.recording.EXT`, locked by this writer: see `PartialFiles`).
    public let writingPath: String
    private var lockDescriptor: Int32 = -1
    private var headerWritten = false
    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var pending = PendingStereo()
    private var samples: Int64 = 0
    private let frameSize: Int
    private var finished = false

    public init(path: String, format: AudioFormat, bitrate: Int = 128_000) throws(MediaError) {
        self.path = path
        self.format = format
        writingPath = PartialFiles.partialPath(for: path)
        packet = av_packet_alloc()
        guard let codec = avcodec_find_encoder_by_name(format.encoder) else {
            throw MediaError(.codecFailure, "libavcodec was built without \(format.encoder) (needed for .\(format.rawValue))")
        }
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, format.muxer, writingPath), .outputUnwritable, "cannot create the \(format.rawValue) muxer", at: path)
        guard let ctx, let encoder = avcodec_alloc_context3(codec) else { throw MediaError(.codecFailure, "out of memory") }
        output = ctx
        self.encoder = encoder
        encoder.pointee.sample_rate = Int32(AudioSamples.sampleRate)
        mcu_codec_set_stereo(encoder)
        encoder.pointee.bit_rate = Int64(bitrate)
        encoder.pointee.time_base = AVRational(num: 1, den: Int32(AudioSamples.sampleRate))
        // The first sample format the encoder takes among those this writer fills.
        encoder.pointee.sample_fmt = AudioFileWriter.pickFormat(codec)
        if ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var codecOptions: OpaquePointer?
        // FFmpeg's AAC encoder searches hard by default ("twoloop"); "fast" costs a fraction for speech and music at
        // 128 kbit/s, where the difference is not heard, and the cost is what an audio-only recording is about.
        if format == .m4a { av_dict_set(&codecOptions, "aac_coder", "fast", 0) }
        let opened = avcodec_open2(encoder, codec, &codecOptions)
        av_dict_free(&codecOptions)
        try check(opened, .codecFailure, "cannot open the \(format.encoder) encoder")
        frameSize = encoder.pointee.frame_size > 0 ? Int(encoder.pointee.frame_size) : 1024
        guard let stream = avformat_new_stream(ctx, nil) else { throw MediaError(.codecFailure, "out of memory") }
        self.stream = stream
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder), .codecFailure, "bad audio parameters")
        stream.pointee.time_base = encoder.pointee.time_base
        frame = try makeStereoFrame(format: encoder.pointee.sample_fmt, samples: frameSize)
        try check(avio_open(&ctx.pointee.pb, writingPath, AVIO_FLAG_WRITE), .outputUnwritable, "cannot write the audio file", at: writingPath)
        lockDescriptor = PartialFiles.lock(writingPath)
        ctx.pointee.flags |= AVFMT_FLAG_FLUSH_PACKETS
        var options: OpaquePointer?
        if format == .m4a {
            av_dict_set(&options, "movflags", "empty_moov+delay_moov+default_base_moof", 0)
            av_dict_set(&options, "frag_duration", "500000", 0)
        }
        // Ogg holds a second of packets per page by default: what a killed recorder would lose. A fifth of that.
        if format == .ogg { av_dict_set(&options, "page_duration", "200000", 0) }
        let header = avformat_write_header(ctx, &options)
        av_dict_free(&options)
        try check(header, .outputUnwritable, "cannot write the audio file's header", at: writingPath)
        headerWritten = true
    }

    deinit {
        abandon()
        if lockDescriptor >= 0 { close(lockDescriptor) }
        avcodec_free_context(&encoder)
        avformat_free_context(output)
        av_frame_free(&frame)
        av_packet_free(&packet)
    }

    static func pickFormat(_ codec: UnsafePointer<AVCodec>) -> AVSampleFormat {
        let usable: [AVSampleFormat] = [AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S16P]
        guard var list = codec.pointee.sample_fmts else { return AV_SAMPLE_FMT_FLTP }
        while list.pointee != AV_SAMPLE_FMT_NONE {
            if usable.contains(list.pointee) { return list.pointee }
            list += 1
        }
        return AV_SAMPLE_FMT_FLTP
    }

    public var bytesWritten: Int64 { output?.pointee.pb.map { avio_tell($0) } ?? 0 }
    public var duration: Microseconds { samples * 1_000_000 / Int64(AudioSamples.sampleRate) }

    /// After a failure: closes the file as it is (M4A cut back to its last whole fragment) and lets go of its lock;
    /// `Recovery` makes it whole at the next start.
    public func abandon() {
        guard !finished else { return }
        finished = true
        PartialFiles.abandon(output, headerWritten: headerWritten, path: writingPath, fragmented: format == .m4a, lock: &lockDescriptor)
    }

    /// 48 kHz stereo; encodes every whole frame.
    public func write(left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        pending.append(left: left, right: right)
        try pending.takeWholeFrames(of: frameSize) { (l, r) throws(MediaError) in try encode(left: l, right: r) }
    }

    private func encode(left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        guard let encoder, let frame else { return }
        try check(av_frame_make_writable(frame), .codecFailure, "out of memory")
        fillStereo(frame, left: left, right: right)
        frame.pointee.pts = samples
        samples += Int64(left.count)
        try check(avcodec_send_frame(encoder, frame), .codecFailure, "audio encoding failed")
        try drain()
    }

    private func drain() throws(MediaError) {
        guard let encoder, let packet, let stream, let output else { return }
        while true {
            let got = avcodec_receive_packet(encoder, packet)
            if got == AVERROR_EAGAIN || got == AVERROR_EOF_CODE { return }
            try check(got, .codecFailure, "audio encoding failed")
            av_packet_rescale_ts(packet, encoder.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(output, packet)
            av_packet_unref(packet)
            if written < 0 { throw MediaError(.outputUnwritable, "writing the audio file failed", underlying: ffmpegErrorText(written), at: writingPath) }
        }
    }

    /// Encodes what is left, closes the file (M4A: rewrites it with its index first) and says what it holds.
    public func finish() throws(MediaError) -> RecordingSummary {
        guard !finished, let output, let encoder else { throw MediaError(.invalidArgument, "audio file already finished") }
        var rest = pending.takeAll()
        if !rest.left.isEmpty {
            // Frame-size encoders (Opus) take only whole frames: the end is padded with silence.
            let fixed = encoder.pointee.codec.pointee.capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME == 0
                && encoder.pointee.codec.pointee.capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE == 0 && encoder.pointee.frame_size > 0
            if fixed {
                let silence = [Float](repeating: 0, count: frameSize - rest.left.count)
                rest.left += silence
                rest.right += silence
            }
            try encode(left: rest.left[...], right: rest.right[...])
        }
        avcodec_send_frame(encoder, nil)
        try drain()
        let trailer = av_write_trailer(output)
        avio_closep(&output.pointee.pb)
        finished = true
        try check(trailer, .outputUnwritable, "cannot complete the audio file", at: writingPath)
        defer { if lockDescriptor >= 0 { close(lockDescriptor); lockDescriptor = -1 } }
        if format == .m4a {
            let result = try MP4Finalizer.finalize(partial: writingPath, into: path)
            return RecordingSummary(path: path, duration: result.duration, bytes: result.bytes, videoFrames: 0)
        }
        try PartialFiles.place(writingPath, at: path)
        var info = stat()
        let bytes = stat(path, &info) == 0 ? Int64(info.st_size) : 0
        return RecordingSummary(path: path, duration: duration, bytes: bytes, videoFrames: 0)
    }
}
