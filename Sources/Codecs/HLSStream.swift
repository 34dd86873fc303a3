import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// One HLS media playlist with its fMP4/CMAF segments, fed with encoded packets (video and the AAC audio) on one
/// timeline. Segments are cut on keyframes once `segmentDuration` has passed; the EVENT playlist ends with
/// `EXT-X-ENDLIST` when the stream finishes, so the live stream is a VOD the moment the call ends. It also measures
/// its bit rate, for the master playlist. One owner (the engine's thread); not Sendable.
final class HLSStream {
    /// The playlist's file name, and the video it carries.
    let playlistName: String
    let width: Int, height: Int
    let codecs: String
    private(set) var failed: String?
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private var headerWritten = false
    private let inputTimeBases: [AVRational]
    private var lastVideoDTS = Int64.min
    private let copy = av_packet_alloc()
    private let segmentDuration: Double
    private var window = Int64.min, windowBytes = 0, peakBitsPerSecond = 0, totalBytes = 0
    private var firstSecond = Double.nan, lastSecond = 0.0

    /// `name` nil: `index.m3u8`, `init.mp4`, `segment00000.m4s`…; otherwise `NAME.m3u8`, `NAME-init.mp4`, `NAME-00000.m4s`….
    init(folder: String, name: String?, segmentDuration: Double, video: UnsafePointer<AVCodecParameters>, videoTimeBase: AVRational,
         audio: UnsafePointer<AVCodecParameters>, audioTimeBase: AVRational) throws(MediaError) {
        playlistName = (name ?? "index") + ".m3u8"
        width = Int(video.pointee.width); height = Int(video.pointee.height)
        codecs = HLSStream.avc1Codec(video) + ",mp4a.40.2"
        inputTimeBases = [videoTimeBase, audioTimeBase]
        self.segmentDuration = segmentDuration
        mkdir(folder, 0o755)
        let playlist = folder + "/" + playlistName
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, "hls", playlist), .outputUnwritable, "cannot create the HLS muxer", at: playlist)
        guard let ctx else { throw MediaError(.outputUnwritable, "cannot create the HLS muxer") }
        context = ctx
        for (parameters, base) in [(video, videoTimeBase), (audio, audioTimeBase)] {
            guard let stream = avformat_new_stream(ctx, nil) else { finish(); throw MediaError(.codecFailure, "out of memory") }
            let copied = avcodec_parameters_copy(stream.pointee.codecpar, parameters)
            if copied < 0 { finish() }
            try check(copied, .codecFailure, "bad stream parameters")
            stream.pointee.time_base = base
        }
        var options: OpaquePointer?
        av_dict_set(&options, "hls_time", String(segmentDuration), 0)
        av_dict_set(&options, "hls_segment_type", "fmp4", 0)
        av_dict_set(&options, "hls_fmp4_init_filename", name.map { "\($0)-init.mp4" } ?? "init.mp4", 0)
        av_dict_set(&options, "hls_segment_filename", folder + "/" + (name.map { "\($0)-%05d.m4s" } ?? "segment%05d.m4s"), 0)
        av_dict_set(&options, "hls_playlist_type", "event", 0)
        av_dict_set(&options, "hls_list_size", "0", 0)
        // Segments and the playlist appear whole (written aside, then renamed): a player never reads half a segment.
        av_dict_set(&options, "hls_flags", "independent_segments+temp_file+program_date_time", 0)
        let header = avformat_write_header(ctx, &options)
        av_dict_free(&options)
        if header < 0 { finish() }
        try check(header, .outputUnwritable, "cannot start the HLS stream", at: playlist)
        headerWritten = true
    }

    deinit {
        finish()
        var packet: UnsafeMutablePointer<AVPacket>? = copy
        av_packet_free(&packet)
    }

    /// One packet, its times (`pts`, `dts`) in its encoder's time base on the stream's timeline.
    func write(_ packet: UnsafeMutablePointer<AVPacket>, video: Bool, pts: Int64, dts: Int64) {
        guard let context, failed == nil, let copy else { return }
        if video {
            guard dts > lastVideoDTS else { return }
            lastVideoDTS = dts
        }
        count(bytes: Int(packet.pointee.size), at: Double(pts) * av_q2d(inputTimeBases[video ? 0 : 1]))
        guard av_packet_ref(copy, packet) >= 0 else { return }
        copy.pointee.pts = pts
        copy.pointee.dts = dts
        let index = video ? 0 : 1
        copy.pointee.stream_index = Int32(index)
        if let target = context.pointee.streams[index] {
            av_packet_rescale_ts(copy, inputTimeBases[index], target.pointee.time_base)
        }
        let written = av_interleaved_write_frame(context, copy)
        av_packet_unref(copy)
        if written < 0 { failed = "writing the HLS stream failed: \(ffmpegErrorText(written))"; finish() }
    }

    /// Peak (over segment-long windows) and average bit rate so far, bit/s; nil before a whole window.
    var bandwidth: (peak: Int, average: Int)? {
        let seconds = lastSecond - firstSecond
        guard seconds >= segmentDuration else { return nil }
        return (max(peakBitsPerSecond, Int(Double(windowBytes * 8) / segmentDuration)), Int(Double(totalBytes * 8) / seconds))
    }

    private func count(bytes: Int, at second: Double) {
        if firstSecond.isNaN { firstSecond = second }
        lastSecond = max(lastSecond, second)
        totalBytes += bytes
        let slot = Int64((second / segmentDuration).rounded(.down))
        if slot > window {
            if window != .min { peakBitsPerSecond = max(peakBitsPerSecond, Int(Double(windowBytes * 8) / segmentDuration)) }
            window = slot
            windowBytes = 0
        }
        windowBytes += bytes
    }

    /// The playlist gets `EXT-X-ENDLIST`.
    func finish() {
        guard let context else { return }
        if headerWritten { av_write_trailer(context) }
        headerWritten = false
        avformat_free_context(context)
        self.context = nil
    }

    /// RFC 6381's `avc1.PPCCLL` from the H.264 stream headers (Annex B or avcC); a High 4.0 default without them.
    static func avc1Codec(_ parameters: UnsafePointer<AVCodecParameters>) -> String {
        let size = Int(parameters.pointee.extradata_size)
        guard let data = parameters.pointee.extradata, size >= 4 else { return "avc1.640028" }
        let bytes = UnsafeBufferPointer(start: data, count: size)
        var sps: Int?
        if bytes[0] == 1 {
            sps = 1
        } else {
            var i = 0
            while i + 4 < size {
                if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1, bytes[i + 3] & 0x1F == 7 { sps = i + 4; break }
                i += 1
            }
        }
        guard let at = sps, at + 3 <= size else { return "avc1.640028" }
        return "avc1." + bytes[at..<(at + 3)].map { hex($0) }.joined()
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
