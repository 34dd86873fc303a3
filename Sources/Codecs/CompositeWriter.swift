import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Encodes the composite once (libx264 + AAC-LC) into MP4. While recording, the file (`NAME.recording.mp4`)
/// is fragmented and flushed fragment by fragment, so a killed process leaves a playable file; `finish()`
/// rewrites it as a regular MP4 with the index first and renames it into place. One owner; not Sendable.
public final class CompositeWriter {
    public let finalPath: String
    public let partialPath: String
    public let settings: EncoderSettings

    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var video: UnsafeMutablePointer<AVCodecContext>?
    private var audio: UnsafeMutablePointer<AVCodecContext>?
    private var videoStream: UnsafeMutablePointer<AVStream>?
    private var audioStream: UnsafeMutablePointer<AVStream>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var audioFrame: UnsafeMutablePointer<AVFrame>?
    private var pendingAudio = PendingStereo()
    private var audioSamplesSent: Int64 = 0
    private var framesWritten: Int64 = 0
    private var lastFrameIndex: Int64 = -1
    private var finished = false
    /// The muxer's header reached the file: only then may a trailer follow (FFmpeg requires it).
    private var headerWritten = false
    private var lockDescriptor: Int32 = -1
    private let audioFrameSize: Int
    /// Live outputs fed with this writer's packets, and where its timeline begins on theirs (frames, samples).
    public var liveOutputs: LiveOutputs?
    public var liveOffset: (frames: Int64, samples: Int64) = (0, 0)

    public init(path: String, settings: EncoderSettings) throws(MediaError) {
        self.finalPath = path
        self.partialPath = CompositeWriter.partialPath(for: path)
        self.settings = settings
        guard settings.size.width % 2 == 0, settings.size.height % 2 == 0 else {
            throw MediaError(.invalidArgument, "output size must be even, not \(settings.size)")
        }
        guard EncoderSettings.presets.contains(settings.preset) else {
            throw MediaError(.invalidArgument, "unknown x264 preset '\(settings.preset)' (one of \(EncoderSettings.presets.joined(separator: ", ")))")
        }
        presetIndex = EncoderSettings.presets.firstIndex(of: settings.preset) ?? 0
        speedSteps = EncoderSettings.pinnedParameters(configured: settings.preset, preset: settings.preset) == nil ? 0 : presetIndex
        packet = av_packet_alloc()
        audioFrameSize = 1024
        try openOutput()
    }

    deinit {
        abandon()
        if lockDescriptor >= 0 { close(lockDescriptor) }
        avcodec_free_context(&video)
        avcodec_free_context(&audio)
        avformat_free_context(output)
        av_packet_free(&packet)
        av_frame_free(&audioFrame)
    }

    /// After a failure (a full disk): closes the fragmented file as it is, cut back to its last whole fragment so that
    /// it plays up to there, and lets go of its lock (it is a leftover for `Recovery` now). Nothing more is written.
    public func abandon() {
        guard !finished else { return }
        finished = true
        PartialFiles.abandon(output, headerWritten: headerWritten, path: partialPath, fragmented: true, lock: &lockDescriptor)
    }

    /// `talk.mp4` → `talk.recording.mp4`: the crash-safe file while recording.
    public static func partialPath(for path: String) -> String {
        let ext = ".mp4"
        if path.lowercased().hasSuffix(ext) { return String(path.dropLast(ext.count)) + ".recording.mp4" }
        return path + ".recording.mp4"
    }

    private func openOutput() throws(MediaError) {
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, "mp4", partialPath), .outputUnwritable, "cannot create an MP4 muxer", at: finalPath)
        guard let ctx else { throw MediaError(.outputUnwritable, "cannot create an MP4 muxer", at: finalPath) }
        output = ctx

        if ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { globalHeader = true }
        let v = try openVideoEncoder(preset: settings.preset)
        video = v

        // Audio: AAC-LC, stereo 48 kHz.
        guard let aacCodec = avcodec_find_encoder(AV_CODEC_ID_AAC) else { throw MediaError(.codecFailure, "no AAC encoder") }
        guard let a = avcodec_alloc_context3(aacCodec) else { throw MediaError(.codecFailure, "out of memory") }
        audio = a
        a.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        a.pointee.sample_rate = Int32(AudioSamples.sampleRate)
        mcu_codec_set_stereo(a)
        a.pointee.bit_rate = Int64(settings.audioBitrate)
        a.pointee.time_base = AVRational(num: 1, den: Int32(AudioSamples.sampleRate))
        if ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { a.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        try check(avcodec_open2(a, aacCodec, nil), .codecFailure, "cannot open the AAC encoder")

        guard let vs = avformat_new_stream(ctx, nil), let ast = avformat_new_stream(ctx, nil) else {
            throw MediaError(.codecFailure, "out of memory")
        }
        videoStream = vs; audioStream = ast
        try check(avcodec_parameters_from_context(vs.pointee.codecpar, v), .codecFailure, "bad H.264 parameters")
        try check(avcodec_parameters_from_context(ast.pointee.codecpar, a), .codecFailure, "bad AAC parameters")
        vs.pointee.time_base = v.pointee.time_base
        ast.pointee.time_base = a.pointee.time_base
        vs.pointee.avg_frame_rate = v.pointee.framerate

        audioFrame = try makeStereoFrame(format: AV_SAMPLE_FMT_FLTP, samples: audioFrameSize)

        let opened = avio_open(&ctx.pointee.pb, partialPath, AVIO_FLAG_WRITE)
        if opened < 0 {
            throw MediaError(.outputUnwritable, "cannot write the output file", underlying: ffmpegErrorText(opened), at: partialPath)
        }
        // Held while the file is written: recovery leaves a locked file alone (its writer is alive); the kernel drops
        // the lock when the process dies, however it dies.
        lockDescriptor = PartialFiles.lock(partialPath)
        // Every fragment goes to the kernel as soon as it is cut: a killed process loses only the fragment in progress.
        ctx.pointee.flags |= AVFMT_FLAG_FLUSH_PACKETS
        var muxOptions: OpaquePointer?
        av_dict_set(&muxOptions, "movflags", "empty_moov+delay_moov+default_base_moof", 0)
        av_dict_set(&muxOptions, "frag_duration", String(settings.fragmentDuration), 0)
        let header = avformat_write_header(ctx, &muxOptions)
        av_dict_free(&muxOptions)
        try check(header, .outputUnwritable, "cannot write the MP4 header", at: partialPath)
        headerWritten = true
    }

    private func openVideoEncoder(preset: String) throws(MediaError) -> UnsafeMutablePointer<AVCodecContext> {
        try H264Encoder.open(settings: settings, size: settings.size, preset: preset, globalHeader: globalHeader)
    }

    /// How many presets faster than the configured one the encoder can step to under load (fewer once a step was
    /// found to change the stream headers).
    public private(set) var speedSteps: Int
    /// 0: the configured preset; n: n presets faster.
    public private(set) var speedStep = 0
    /// The configured preset's place in `EncoderSettings.presets`.
    private let presetIndex: Int
    /// The preset `step` presets faster than the configured one.
    public func preset(atStep step: Int) -> String { EncoderSettings.presets[presetIndex - step] }
    public var presetInForce: String { preset(atStep: speedStep) }
    private var globalHeader = false

    /// Replaces the H.264 encoder by one `step` presets faster than the configured one (0: the configured one):
    /// the old one is drained into the file, the new one starts with a keyframe and the same stream headers.
    /// Returns false, and keeps the current encoder, when that cannot be done (the headers would differ).
    @discardableResult
    public func setSpeedStep(_ step: Int) throws(MediaError) -> Bool {
        guard let old = video, let stream = videoStream, step != speedStep, (0...speedSteps).contains(step) else { return false }
        let replacement = try openVideoEncoder(preset: preset(atStep: step))
        let header = stream.pointee.codecpar.pointee
        guard replacement.pointee.extradata_size == header.extradata_size,
              memcmp(replacement.pointee.extradata, header.extradata, Int(header.extradata_size)) == 0 else {
            // A libx264 whose presets differ from the pinned table: the ladder ends below this step.
            var refused: UnsafeMutablePointer<AVCodecContext>? = replacement
            avcodec_free_context(&refused)
            speedSteps = min(speedSteps, step - 1)
            return false
        }
        avcodec_send_frame(old, nil)
        try drain(old, stream: videoStream)
        var retired: UnsafeMutablePointer<AVCodecContext>? = old
        avcodec_free_context(&retired)
        // The old encoder's buffers were allocated by its own threads, in arenas the new one's may not reuse.
        releaseFreedMemory()
        video = replacement
        framesInEncoder = 0
        speedStep = step
        return true
    }

    public var bytesWritten: Int64 {
        guard let pb = output?.pointee.pb else { return 0 }
        return avio_tell(pb)
    }

    public var videoFrames: Int64 { framesWritten }

    /// With fixed keyframes: the next frame written will be a keyframe (its encoder's first, or a whole interval on).
    public var nextFrameIsKeyframe: Bool {
        guard let video else { return false }
        return framesInEncoder % Int64(max(1, video.pointee.gop_size)) == 0
    }
    private var framesInEncoder: Int64 = 0

    /// Encodes the canvas as output frame `index` (indices must increase; gaps are allowed).
    public func writeVideo(_ canvas: VideoCanvas, index: Int64) throws(MediaError) {
        guard let video, index > lastFrameIndex else { return }
        canvas.frame.pointee.pts = index
        canvas.frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
        try check(avcodec_send_frame(video, canvas.frame), .codecFailure, "H.264 encoding failed")
        lastFrameIndex = index
        framesWritten += 1
        framesInEncoder += 1
        try drain(video, stream: videoStream)
    }

    /// Queues mixed audio (48 kHz stereo); encodes every complete AAC frame.
    public func writeAudio(left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        pendingAudio.append(left: left, right: right)
        try pendingAudio.takeWholeFrames(of: audioFrameSize) { (l, r) throws(MediaError) in try encodeAudio(left: l, right: r) }
    }

    private func encodeAudio(left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {
        guard let audio, let frame = audioFrame else { return }
        try check(av_frame_make_writable(frame), .codecFailure, "out of memory")
        fillStereo(frame, left: left, right: right)
        frame.pointee.pts = audioSamplesSent
        audioSamplesSent += Int64(left.count)
        try check(avcodec_send_frame(audio, frame), .codecFailure, "AAC encoding failed")
        try drain(audio, stream: audioStream)
    }

    private func drain(_ encoder: UnsafeMutablePointer<AVCodecContext>, stream: UnsafeMutablePointer<AVStream>?) throws(MediaError) {
        guard let packet, let stream, let output else { return }
        while true {
            let got = avcodec_receive_packet(encoder, packet)
            if got == AVERROR_EAGAIN || got == AVERROR_EOF_CODE { return }
            try check(got, .codecFailure, "encoding failed")
            if let live = liveOutputs, let videoStream, let audioStream {
                live.open(video: videoStream.pointee.codecpar, videoTimeBase: self.video?.pointee.time_base ?? encoder.pointee.time_base,
                          audio: audioStream.pointee.codecpar, audioTimeBase: self.audio?.pointee.time_base ?? encoder.pointee.time_base)
                let video = stream == videoStream
                live.write(packet, video: video, offset: video ? liveOffset.frames : liveOffset.samples)
            }
            av_packet_rescale_ts(packet, encoder.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(output, packet)
            av_packet_unref(packet)
            if written < 0 {
                throw MediaError(.outputUnwritable, "writing the recording failed", underlying: ffmpegErrorText(written), at: partialPath)
            }
        }
    }

    /// Flushes the encoders, closes the fragmented file, and replaces it by a regular MP4 with the index at
    /// the front. Until the final rename the fragmented file stays, so a crash here loses nothing.
    public func finish(annotations: RecordingAnnotations = RecordingAnnotations()) throws(MediaError) -> RecordingSummary {
        try closeFragments()
        return try finalize(annotations: annotations)
    }

    /// Audio queued but not yet encoded (less than one AAC frame), taken out: a part that ends here hands it to the
    /// next part, so every part's audio is whole AAC frames and parts join sample-exactly.
    public func takePendingAudio() -> (left: [Float], right: [Float]) {
        pendingAudio.takeAll()
    }

    /// Samples encoded so far.
    public var audioSamples: Int64 { audioSamplesSent }

    /// Encodes what audio is queued, drains the encoders and closes the fragmented file. Quick: the part of finishing
    /// that must happen in order on the engine's thread.
    public func closeFragments() throws(MediaError) {
        guard !finished, let output, let audio else { throw MediaError(.invalidArgument, "recording already finished") }
        let rest = pendingAudio.takeAll()
        if !rest.left.isEmpty { try encodeAudio(left: rest.left[...], right: rest.right[...]) }
        try flushVideo()
        avcodec_send_frame(audio, nil)
        try drain(audio, stream: audioStream)
        let trailer = av_write_trailer(output)
        avio_closep(&output.pointee.pb)
        finished = true
        try check(trailer, .outputUnwritable, "cannot complete the recording", at: partialPath)
    }

    /// Drains the video encoder: no more frames. (A part that ends flushes its video at once, before the next part's
    /// first frame, so live outputs get the two parts' frames in order; its audio may follow a little later.)
    public func flushVideo() throws(MediaError) {
        guard !videoFlushed, let video else { return }
        videoFlushed = true
        avcodec_send_frame(video, nil)
        try drain(video, stream: videoStream)
    }
    private var videoFlushed = false

    /// Rewrites the closed fragmented file as the final MP4 (disk work: any thread, once, after `closeFragments`).
    public func finalize(annotations: RecordingAnnotations = RecordingAnnotations()) throws(MediaError) -> RecordingSummary {
        let summary = try MP4Finalizer.finalize(partial: partialPath, into: finalPath, annotations: annotations)
        if lockDescriptor >= 0 { close(lockDescriptor); lockDescriptor = -1 }
        return RecordingSummary(path: finalPath, duration: summary.duration, bytes: summary.bytes, videoFrames: framesWritten)
    }
}
