import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Live outputs fed with the recording's own encoded packets — no second composite, no second encoder: an HLS
/// stream (fMP4/CMAF segments cut on keyframes, an EVENT playlist that ends with `EXT-X-ENDLIST`, so the live stream
/// is a VOD the moment the call ends) and RTMP pushes (`StreamPush`, on threads of their own). Packets carry an
/// offset (where the part began), so the outputs run on one timeline across a recording's parts; audio a new part's
/// encoder repeats (its priming) is left out. Engine's thread only; not Sendable.
public final class LiveOutputs {
    public let hlsFolder: String?
    public let pushURLs: [String]
    private var hls: UnsafeMutablePointer<AVFormatContext>?
    private var hlsHeaderWritten = false
    private var pushes: [StreamPush] = []
    private var opened = false
    private var failed: String?
    private var videoTimeBase = AVRational(num: 1, den: 30), audioTimeBase = AVRational(num: 1, den: 48_000)
    private var lastVideoDTS = Int64.min, nextAudio = Int64.min
    private let copy = av_packet_alloc()
    /// Seconds per HLS segment (segments end on keyframes: the recording's keyframe interval decides).
    public let segmentDuration: Double

    public init(hlsFolder: String?, pushURLs: [String], segmentDuration: Double = 2) {
        self.hlsFolder = hlsFolder
        self.pushURLs = pushURLs
        self.segmentDuration = segmentDuration
    }

    deinit {
        finish()
        var packet: UnsafeMutablePointer<AVPacket>? = copy
        av_packet_free(&packet)
    }

    /// Why HLS stopped, if it did (the recording goes on regardless).
    public var hlsError: String? { failed }
    /// Each push's state (connected or why not).
    public var pushStates: [(url: String, state: String)] { pushes.map { ($0.url, $0.state) } }

    /// Called by the writer with its first packet: the streams' parameters.
    func open(video: UnsafePointer<AVCodecParameters>, videoTimeBase: AVRational, audio: UnsafePointer<AVCodecParameters>, audioTimeBase: AVRational) {
        guard !opened else { return }
        opened = true
        self.videoTimeBase = videoTimeBase
        self.audioTimeBase = audioTimeBase
        if let hlsFolder {
            do { try openHLS(folder: hlsFolder, video: video, audio: audio) } catch {
                failed = "\(error)"
                closeHLS()
            }
        }
        for url in pushURLs {
            if let push = try? StreamPush(url: url, video: video, videoTimeBase: videoTimeBase, audio: audio, audioTimeBase: audioTimeBase) { pushes.append(push) }
        }
    }

    private func openHLS(folder: String, video: UnsafePointer<AVCodecParameters>, audio: UnsafePointer<AVCodecParameters>) throws(MediaError) {
        mkdir(folder, 0o755)
        let playlist = folder + "/index.m3u8"
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, "hls", playlist), .outputUnwritable, "cannot create the HLS muxer", at: playlist)
        guard let ctx else { throw MediaError(.outputUnwritable, "cannot create the HLS muxer") }
        hls = ctx
        for (parameters, base) in [(video, videoTimeBase), (audio, audioTimeBase)] {
            guard let stream = avformat_new_stream(ctx, nil) else { throw MediaError(.codecFailure, "out of memory") }
            try check(avcodec_parameters_copy(stream.pointee.codecpar, parameters), .codecFailure, "bad stream parameters")
            stream.pointee.time_base = base
        }
        var options: OpaquePointer?
        av_dict_set(&options, "hls_time", String(segmentDuration), 0)
        av_dict_set(&options, "hls_segment_type", "fmp4", 0)
        av_dict_set(&options, "hls_fmp4_init_filename", "init.mp4", 0)
        av_dict_set(&options, "hls_segment_filename", folder + "/segment%05d.m4s", 0)
        av_dict_set(&options, "hls_playlist_type", "event", 0)
        av_dict_set(&options, "hls_list_size", "0", 0)
        // Segments and the playlist appear whole (written aside, then renamed): a player never reads half a segment.
        av_dict_set(&options, "hls_flags", "independent_segments+temp_file+program_date_time", 0)
        let header = avformat_write_header(ctx, &options)
        av_dict_free(&options)
        try check(header, .outputUnwritable, "cannot start the HLS stream", at: playlist)
        hlsHeaderWritten = true
    }

    /// One encoded packet (in its encoder's time base), `offset` ticks after the start of the recording.
    func write(_ packet: UnsafeMutablePointer<AVPacket>, video: Bool, offset: Int64) {
        guard opened, let copy else { return }
        let pts = packet.pointee.pts + offset, dts = packet.pointee.dts + offset
        if video {
            guard dts > lastVideoDTS else { return }
            lastVideoDTS = dts
        } else {
            // A new part's encoder starts with priming the previous one already covered.
            guard pts >= nextAudio else { return }
            nextAudio = pts + packet.pointee.duration
        }
        for push in pushes { push.send(packet, video: video, pts: pts, dts: dts) }
        guard let hls, failed == nil, av_packet_ref(copy, packet) >= 0 else { return }
        copy.pointee.pts = pts
        copy.pointee.dts = dts
        let stream = video ? 0 : 1
        copy.pointee.stream_index = Int32(stream)
        if let target = hls.pointee.streams[stream] {
            av_packet_rescale_ts(copy, video ? videoTimeBase : audioTimeBase, target.pointee.time_base)
        }
        let written = av_interleaved_write_frame(hls, copy)
        av_packet_unref(copy)
        if written < 0 { failed = "writing the HLS stream failed: \(ffmpegErrorText(written))"; closeHLS() }
    }

    /// Ends the outputs: the playlist gets `EXT-X-ENDLIST`, pushes stop.
    public func finish() {
        closeHLS()
        for push in pushes { push.stop() }
        pushes.removeAll()
    }

    private func closeHLS() {
        guard let hls else { return }
        if hlsHeaderWritten { av_write_trailer(hls) }
        hlsHeaderWritten = false
        avformat_free_context(hls)
        self.hls = nil
    }
}
