import CFFmpeg
import MediaCore

/// What a media file holds, as far as the recorder cares.
public struct MediaFileInfo: Sendable {
    public struct Video: Sendable { public var codec: String; public var width: Int; public var height: Int; public var frameRate: Double? }
    public struct Audio: Sendable { public var codec: String; public var sampleRate: Int; public var channels: Int }
    public var path: String
    public var format: String
    /// Length of the file's timeline (from its header; may be nil or wrong for truncated files).
    public var duration: Microseconds?
    public var video: Video?
    public var audio: Audio?
}

/// Decoded audio at 48 kHz, two planar float channels. The reader reuses its buffers: copy what you keep.
public struct AudioSamples {
    public static let sampleRate = 48_000
    public var time: Microseconds
    public var left: ArraySlice<Float>
    public var right: ArraySlice<Float>
    public var count: Int { left.count }

    public init(time: Microseconds, left: ArraySlice<Float>, right: ArraySlice<Float>) {
        self.time = time; self.left = left; self.right = right
    }
}

/// Demuxes one file (WebM/Matroska, MP4, Ogg, IVF, images, ...) and decodes its best video and audio
/// streams; pictures and samples come out stamped on the room timeline (`offset` + time in file).
/// One owner thread; not Sendable.
public final class MediaFileReader {
    public static let supportedVideoCodecs: [AVCodecID: String] = [
        AV_CODEC_ID_VP8: "vp8", AV_CODEC_ID_VP9: "vp9", AV_CODEC_ID_H264: "h264", AV_CODEC_ID_AV1: "av1",
        AV_CODEC_ID_PNG: "png", AV_CODEC_ID_MJPEG: "mjpeg",
    ]
    public static let supportedAudioCodecs: [AVCodecID: [String]] = [
        // FFmpeg's own Opus decoder: 40 % less CPU than libopus on files (Benchmarks/RESULTS.md).
        AV_CODEC_ID_OPUS: ["opus", "libopus"], AV_CODEC_ID_AAC: ["aac"],
    ]

    public var info: MediaFileInfo { state.info }
    /// Problems met while decoding that did not stop it (corrupt packets, truncation).
    public private(set) var warnings: [String] = []
    public private(set) var lastVideoTime: Microseconds?
    public private(set) var lastAudioEnd: Microseconds?

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var videoDecoder: UnsafeMutablePointer<AVCodecContext>?
    private var audioDecoder: UnsafeMutablePointer<AVCodecContext>?
    private let offset: Microseconds
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var decoded: UnsafeMutablePointer<AVFrame>?
    private let converter = AudioConverter()
    private var finishedReading = false
    private var videoDrained = false
    private var audioDrained = false
    private var decodeErrors = 0
    private var damagedPictures = 0
    private var lastPacketTime: [Int32: Microseconds] = [:]

    public init(path: String, offset: Microseconds = 0, decodeThreads: Int = 1, wantVideo: Bool = true, wantAudio: Bool = true) throws(MediaError) {
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        let opened = avformat_open_input(&ctx, path, nil, nil)
        guard opened >= 0, let ctx else {
            let reason = opened == mcu_averror(ENOENT) ? "no such file" : ffmpegErrorText(opened)
            throw MediaError(.inputUnreadable, "cannot open input: \(reason)", at: path)
        }
        format = ctx
        self.offset = offset
        state = State(info: MediaFileInfo(path: path, format: "", duration: nil))
        // From here on deinit frees whatever was opened.
        try self.setUp(path: path, decodeThreads: decodeThreads, wantVideo: wantVideo, wantAudio: wantAudio)
    }

    deinit {
        avcodec_free_context(&videoDecoder)
        avcodec_free_context(&audioDecoder)
        avformat_close_input(&format)
        av_packet_free(&packet)
        av_frame_free(&decoded)
    }

    private func setUp(path: String, decodeThreads: Int, wantVideo: Bool, wantAudio: Bool) throws(MediaError) {
        guard let ctx = format else { return }
        let probed = avformat_find_stream_info(ctx, nil)
        if probed < 0 {
            throw MediaError(.inputUnreadable, "cannot read the file's streams", underlying: ffmpegErrorText(probed), at: path)
        }
        var unsupported: [String] = []
        var video: MediaFileInfo.Video?
        var audio: MediaFileInfo.Audio?
        var vIndex: Int32 = -1, aIndex: Int32 = -1
        for i in 0..<Int(ctx.pointee.nb_streams) {
            guard let stream = ctx.pointee.streams[i], let par = stream.pointee.codecpar else { continue }
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            switch par.pointee.codec_type {
            case AVMEDIA_TYPE_VIDEO where stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0:
                if MediaFileReader.supportedVideoCodecs[par.pointee.codec_id] == nil { unsupported.append("video \(name)"); continue }
                if vIndex < 0 || i == Int(av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)) { vIndex = Int32(i) }
            case AVMEDIA_TYPE_AUDIO:
                if MediaFileReader.supportedAudioCodecs[par.pointee.codec_id] == nil { unsupported.append("audio \(name)"); continue }
                if aIndex < 0 || i == Int(av_find_best_stream(ctx, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)) { aIndex = Int32(i) }
            default:
                continue
            }
        }
        if !wantVideo { vIndex = -1 }
        if !wantAudio { aIndex = -1 }
        if vIndex < 0 && aIndex < 0 {
            if !unsupported.isEmpty {
                throw MediaError(.unsupportedCodec, "unsupported codec (\(unsupported.joined(separator: ", "))); supported: VP8, VP9, H.264, Opus, AAC", at: path)
            }
            throw MediaError(.noDecodableStream, "no audio or video stream to decode", at: path)
        }
        for item in unsupported { warnings.append("ignoring \(item) stream: unsupported codec") }

        let threads = Int32(max(1, decodeThreads))
        if vIndex >= 0, let stream = ctx.pointee.streams[Int(vIndex)], let par = stream.pointee.codecpar {
            let name = MediaFileReader.supportedVideoCodecs[par.pointee.codec_id]!
            videoDecoder = try MediaFileReader.openDecoder(names: [name], stream: stream, threads: threads, path: path)
            let rate = stream.pointee.avg_frame_rate
            video = .init(codec: name, width: Int(par.pointee.width), height: Int(par.pointee.height),
                          frameRate: rate.den > 0 && rate.num > 0 ? av_q2d(rate) : nil)
        }
        if aIndex >= 0, let stream = ctx.pointee.streams[Int(aIndex)], let par = stream.pointee.codecpar {
            let names = MediaFileReader.supportedAudioCodecs[par.pointee.codec_id]!
            audioDecoder = try MediaFileReader.openDecoder(names: names, stream: stream, threads: 1, path: path)
            audio = .init(codec: String(cString: avcodec_get_name(par.pointee.codec_id)), sampleRate: Int(par.pointee.sample_rate),
                          channels: Int(par.pointee.ch_layout.nb_channels))
        }
        let start = ctx.pointee.start_time
        let startUS: Microseconds = start == AV_NOPTS ? 0 : start
        let duration = ctx.pointee.duration
        let formatName = String(cString: ctx.pointee.iformat.pointee.name)
        packet = av_packet_alloc()
        decoded = av_frame_alloc()
        guard packet != nil, decoded != nil else { throw MediaError(.codecFailure, "out of memory", at: path) }
        state = State(videoIndex: vIndex, audioIndex: aIndex,
                      videoTimeBase: vIndex >= 0 ? ctx.pointee.streams[Int(vIndex)]!.pointee.time_base : AVRational(num: 1, den: 1),
                      audioTimeBase: aIndex >= 0 ? ctx.pointee.streams[Int(aIndex)]!.pointee.time_base : AVRational(num: 1, den: 1),
                      origin: startUS,
                      info: MediaFileInfo(path: path, format: formatName, duration: duration == AV_NOPTS || duration <= 0 ? nil : duration,
                                          video: video, audio: audio))
    }

    /// Stream facts, written once by set-up.
    private struct State {
        var videoIndex: Int32 = -1, audioIndex: Int32 = -1
        var videoTimeBase = AVRational(num: 1, den: 1), audioTimeBase = AVRational(num: 1, den: 1)
        var origin: Microseconds = 0
        var info: MediaFileInfo
    }
    private var state: State

    static func openDecoder(names: [String], stream: UnsafeMutablePointer<AVStream>, threads: Int32, path: String) throws(MediaError) -> UnsafeMutablePointer<AVCodecContext> {
        let parameters = stream.pointee.codecpar!
        let codecName = String(cString: avcodec_get_name(parameters.pointee.codec_id))
        guard let codec = names.lazy.compactMap({ avcodec_find_decoder_by_name($0) }).first ?? avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw MediaError(.unsupportedCodec, "no decoder for \(codecName)", at: path)
        }
        var context = avcodec_alloc_context3(codec)
        guard let ctx = context else { throw MediaError(.codecFailure, "out of memory", at: path) }
        if avcodec_parameters_to_context(ctx, parameters) < 0 {
            avcodec_free_context(&context)
            throw MediaError(.codecFailure, "bad \(codecName) parameters", at: path)
        }
        ctx.pointee.thread_count = threads
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        let opened = avcodec_open2(ctx, codec, nil)
        if opened < 0 {
            avcodec_free_context(&context)
            throw MediaError(.codecFailure, "cannot open the \(codecName) decoder", underlying: ffmpegErrorText(opened), at: path)
        }
        return ctx
    }

    public var hasVideo: Bool { videoDecoder != nil }
    public var hasAudio: Bool { audioDecoder != nil }
    public var isFinished: Bool { finishedReading && (videoDecoder == nil || videoDrained) && (audioDecoder == nil || audioDrained) }

    private func time(_ pts: Int64, _ base: AVRational) -> Microseconds {
        av_rescale_q(pts, base, microsecondBase) - state.origin + offset
    }

    /// Reads and decodes one packet (or drains the decoders at the end), handing out what it decoded.
    /// Returns false once everything has been delivered.
    public func step(onVideo: (VideoPicture) -> Void, onAudio: (AudioSamples) -> Void) -> Bool {
        guard let format, let packet else { return false }
        if isFinished { return false }
        if !finishedReading {
            let read = av_read_frame(format, packet)
            if read < 0 {
                finishedReading = true
                if damagedPictures > 1 { warn("\(damagedPictures) pictures in all were decoded from damaged data") }
                if read != AVERROR_EOF_CODE {
                    warn("stopped reading at a damaged or truncated part (\(ffmpegErrorText(read))); kept what decoded before it")
                }
                if let d = videoDecoder { avcodec_send_packet(d, nil) }
                if let d = audioDecoder { avcodec_send_packet(d, nil) }
            } else {
                defer { av_packet_unref(packet) }
                let index = packet.pointee.stream_index
                noteHoles(packet, stream: index)
                if index == state.videoIndex, let d = videoDecoder {
                    send(packet, to: d)
                } else if index == state.audioIndex, let d = audioDecoder {
                    send(packet, to: d)
                }
            }
        }
        if let d = videoDecoder, !videoDrained { videoDrained = receiveVideo(d, onVideo) }
        if let d = audioDecoder, !audioDrained { audioDrained = receiveAudio(d, onAudio) }
        return true
    }

    /// A stream whose timestamps jump ahead by more than 2 s lost data there (damage skipped by the demuxer,
    /// or a sender that paused): worth a warning, since the picture holds and the audio is silent meanwhile.
    private func noteHoles(_ packet: UnsafeMutablePointer<AVPacket>, stream: Int32) {
        guard stream == state.videoIndex || stream == state.audioIndex, packet.pointee.pts != AV_NOPTS else { return }
        let t = time(packet.pointee.pts, stream == state.videoIndex ? state.videoTimeBase : state.audioTimeBase)
        if let last = lastPacketTime[stream], t - last > 2_000_000 {
            warn("no \(stream == state.videoIndex ? "video" : "audio") data for \(Double(t - last) / 1e6) s after \(Double(last - offset) / 1e6) s (damaged or paused); holding the picture, silence for the sound")
        }
        lastPacketTime[stream] = max(lastPacketTime[stream] ?? t, t)
    }

    private func send(_ packet: UnsafeMutablePointer<AVPacket>, to decoder: UnsafeMutablePointer<AVCodecContext>) {
        let sent = avcodec_send_packet(decoder, packet)
        if sent < 0 && sent != AVERROR_EAGAIN {
            decodeErrors += 1
            if decodeErrors == 1 || decodeErrors % 100 == 0 {
                warn("skipped \(decodeErrors) undecodable packet(s) (\(ffmpegErrorText(sent)))")
            }
        }
    }

    /// Returns true when the decoder is fully drained (only after end of input).
    private func receiveVideo(_ decoder: UnsafeMutablePointer<AVCodecContext>, _ deliver: (VideoPicture) -> Void) -> Bool {
        while true {
            guard let frame = av_frame_alloc() else { return false }
            let got = avcodec_receive_frame(decoder, frame)
            if got < 0 {
                var f: UnsafeMutablePointer<AVFrame>? = frame
                av_frame_free(&f)
                return got == AVERROR_EOF_CODE || (got != AVERROR_EAGAIN && finishedReading)
            }
            var pts = frame.pointee.best_effort_timestamp
            if pts == AV_NOPTS { pts = frame.pointee.pts }
            let t: Microseconds
            if pts == AV_NOPTS {
                t = (lastVideoTime ?? offset) + 33_333
            } else {
                t = time(pts, state.videoTimeBase)
            }
            lastVideoTime = max(lastVideoTime ?? t, t)
            if frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || frame.pointee.decode_error_flags != 0 {
                damagedPictures += 1
                if damagedPictures == 1 {
                    warn("damaged data at \(Double(t - offset) / 1e6) s: pictures there may show artefacts until the next keyframe")
                }
            }
            deliver(VideoPicture(taking: frame, time: t))
        }
    }

    private func receiveAudio(_ decoder: UnsafeMutablePointer<AVCodecContext>, _ deliver: (AudioSamples) -> Void) -> Bool {
        guard let frame = decoded else { return true }
        while true {
            let got = avcodec_receive_frame(decoder, frame)
            if got < 0 { return got == AVERROR_EOF_CODE || (got != AVERROR_EAGAIN && finishedReading) }
            defer { av_frame_unref(frame) }
            var pts = frame.pointee.best_effort_timestamp
            if pts == AV_NOPTS { pts = frame.pointee.pts }
            let start = pts == AV_NOPTS ? (lastAudioEnd ?? offset) : time(pts, state.audioTimeBase)
            switch converter.convert(frame, time: start) {
            case let .samples(samples):
                lastAudioEnd = start + Int64(samples.count) * 1_000_000 / Int64(AudioSamples.sampleRate)
                deliver(samples)
            case let .unsupported(reason):
                warn(reason)
            case .empty:
                break
            }
        }
    }

    private func warn(_ message: String) {
        if warnings.count < 100 { warnings.append(message) }
    }
}
