import CFFmpeg
import MediaCore

/// One participant's tracks written as they arrived, without transcoding: WebM for VP8/VP9/AV1 + Opus, Matroska
/// when H.264 is in it. Times are microseconds from the participant's first frame. The header needs each video
/// track's size, which the caller learns from the decoders (`videoSizes`), and an H.264 track's parameter sets
/// (SPS and PPS, taken from its first keyframe: Matroska's CodecPrivate); frames wait until then (or until
/// `headerDeadline` passes, then a nominal size is written: players read the real one from the bitstream).
/// One owner (the participant's writer thread); not Sendable.
public final class TrackRecorder {
    public struct Track: Sendable {
        public var codec: String
        public var video: Bool
        public init(codec: String, video: Bool) { self.codec = codec; self.video = video }
    }

    public static let headerDeadline: Microseconds = 10_000_000
    static let opusPreSkip: Microseconds = 312
    static let maxPending = 3_000

    public let path: String
    private let tracks: [Track]
    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var streams: [UnsafeMutablePointer<AVStream>] = []
    private var pending: [(track: Int, data: [UInt8], time: Microseconds, keyframe: Bool)] = []
    private var origin: Microseconds?
    private var started = false
    private var lastTime: [Microseconds]
    /// Each H.264 track's SPS and PPS as Annex B, once seen.
    private var parameterSets: [Int: [UInt8]] = [:]
    public private(set) var framesWritten = 0

    /// `path` should end in .webm (VP8/VP9/AV1 + Opus) or .mkv (anything with H.264).
    public init(path: String, tracks: [Track]) throws(MediaError) {
        self.path = path
        self.tracks = tracks
        lastTime = Array(repeating: Microseconds.min, count: tracks.count)
        packet = av_packet_alloc()
        let format = path.hasSuffix(".webm") ? "webm" : "matroska"
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, format, path), .outputUnwritable, "cannot create a \(format) muxer", at: path)
        output = ctx
    }

    deinit {
        finish()
        av_packet_free(&packet)
    }

    /// The container for a participant's track codecs.
    public static func fileExtension(for codecs: [String]) -> String { codecs.contains("h264") ? "mkv" : "webm" }

    /// Appends a frame of track `index` at room time `time`. `videoSizes`: the decoded picture size of each video
    /// track (by index) known so far.
    public func write(track index: Int, data: [UInt8], time: Microseconds, keyframe: Bool, videoSizes: [Int: PixelSize]) throws(MediaError) {
        guard index < tracks.count, !data.isEmpty else { return }
        // Opus frames come placed by their decoded sound (the encoder look-ahead already taken off); in Matroska the
        // look-ahead is the track's CodecDelay, which readers take off themselves: put it back.
        let time = tracks[index].video ? time : time + TrackRecorder.opusPreSkip * 1_000_000 / 48_000
        if origin == nil { origin = time }
        let relative = time - (origin ?? time)
        if tracks[index].codec == "h264", parameterSets[index] == nil, let sets = TrackRecorder.h264ParameterSets(data) { parameterSets[index] = sets }
        // AV1: Matroska's av1C is made from the sequence header, which a keyframe's temporal unit carries.
        if tracks[index].codec == "av1", keyframe, parameterSets[index] == nil { parameterSets[index] = data }
        if !started {
            let ready = tracks.indices.allSatisfy { i in
                !tracks[i].video || (videoSizes[i] != nil && (!TrackRecorder.needsCodecPrivate(tracks[i].codec) || parameterSets[i] != nil))
            }
            if ready || relative >= TrackRecorder.headerDeadline {
                try start(videoSizes: videoSizes)
            } else {
                if pending.count >= TrackRecorder.maxPending { pending.removeFirst() }
                pending.append((index, data, relative, keyframe))
                return
            }
        }
        try mux(index, data, relative, keyframe)
    }

    /// Codecs whose Matroska track header needs something from the first keyframe.
    static func needsCodecPrivate(_ codec: String) -> Bool { codec == "h264" || codec == "av1" }

    private func start(videoSizes: [Int: PixelSize]) throws(MediaError) {
        guard let output else { return }
        for (index, track) in tracks.enumerated() {
            guard let stream = avformat_new_stream(output, nil) else { throw MediaError(.codecFailure, "out of memory") }
            let par = stream.pointee.codecpar!
            if track.video {
                let size = videoSizes[index] ?? PixelSize(width: 640, height: 480)
                par.pointee.codec_type = AVMEDIA_TYPE_VIDEO
                par.pointee.codec_id = ["vp9": AV_CODEC_ID_VP9, "h264": AV_CODEC_ID_H264, "av1": AV_CODEC_ID_AV1][track.codec] ?? AV_CODEC_ID_VP8
                par.pointee.width = Int32(size.width)
                par.pointee.height = Int32(size.height)
                if TrackRecorder.needsCodecPrivate(track.codec) {
                    // Matroska needs the parameter sets up front; the muxer turns Annex B ones (and the Annex B
                    // frames after them) into its length-prefixed form, and an AV1 sequence header into av1C.
                    guard let sets = parameterSets[index] else {
                        let what = track.codec == "h264" ? "H.264 keyframe with its SPS and PPS" : "AV1 keyframe"
                        throw MediaError(.unsupportedCodec, "no \(what) within \(TrackRecorder.headerDeadline / 1_000_000) s", at: path)
                    }
                    guard let extradata = av_mallocz(sets.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { throw MediaError(.codecFailure, "out of memory") }
                    extradata.copyMemory(from: sets, byteCount: sets.count)
                    par.pointee.extradata = extradata.assumingMemoryBound(to: UInt8.self)
                    par.pointee.extradata_size = Int32(sets.count)
                }
            } else {
                par.pointee.codec_type = AVMEDIA_TYPE_AUDIO
                par.pointee.codec_id = AV_CODEC_ID_OPUS
                par.pointee.sample_rate = 48_000
                mcu_codecpar_set_stereo(par)
                // Matroska's Opus CodecPrivate: the OpusHead of RFC 7845 (stereo, 312 samples pre-skip).
                let head: [UInt8] = Array("OpusHead".utf8) + [1, 2, UInt8(TrackRecorder.opusPreSkip & 0xFF), UInt8(TrackRecorder.opusPreSkip >> 8), 0x80, 0xBB, 0, 0, 0, 0, 0]
                guard let extradata = av_mallocz(head.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { throw MediaError(.codecFailure, "out of memory") }
                extradata.copyMemory(from: head, byteCount: head.count)
                par.pointee.extradata = extradata.assumingMemoryBound(to: UInt8.self)
                par.pointee.extradata_size = Int32(head.count)
                par.pointee.initial_padding = Int32(TrackRecorder.opusPreSkip)
            }
            stream.pointee.time_base = AVRational(num: 1, den: 1000)
            streams.append(stream)
        }
        let opened = avio_open(&output.pointee.pb, path, AVIO_FLAG_WRITE)
        if opened < 0 { throw MediaError(.outputUnwritable, "cannot write the track file", underlying: ffmpegErrorText(opened), at: path) }
        output.pointee.flags |= AVFMT_FLAG_FLUSH_PACKETS
        // Clusters of at most a second, each flushed when cut: a killed process loses at most about a second.
        var options: OpaquePointer?
        av_dict_set(&options, "cluster_time_limit", "1000", 0)
        let header = avformat_write_header(output, &options)
        av_dict_free(&options)
        try check(header, .outputUnwritable, "cannot write the track file header", at: path)
        started = true
        let queued = pending
        pending.removeAll()
        for p in queued { try mux(p.track, p.data, p.time, p.keyframe) }
    }

    private func mux(_ index: Int, _ data: [UInt8], _ time: Microseconds, _ keyframe: Bool) throws(MediaError) {
        guard let output, let packet, index < streams.count else { return }
        // Matroska wants non-decreasing times per track; a late frame is stamped right after the previous one.
        let stamped = max(time, lastTime[index] == Microseconds.min ? time : lastTime[index] + 1)
        lastTime[index] = stamped
        try check(av_new_packet(packet, Int32(data.count)), .codecFailure, "out of memory")
        data.withUnsafeBytes { packet.pointee.data.update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: data.count) }
        packet.pointee.stream_index = Int32(index)
        packet.pointee.pts = av_rescale_q(stamped, microsecondBase, streams[index].pointee.time_base)
        packet.pointee.dts = packet.pointee.pts
        if keyframe { packet.pointee.flags |= AV_PKT_FLAG_KEY }
        let written = av_interleaved_write_frame(output, packet)
        av_packet_unref(packet)
        if written < 0 { throw MediaError(.outputUnwritable, "writing the track file failed", underlying: ffmpegErrorText(written), at: path) }
        framesWritten += 1
    }

    /// The SPS and PPS NAL units of an Annex B access unit, with their start codes (nil unless it has both).
    static func h264ParameterSets(_ data: [UInt8]) -> [UInt8]? {
        var units: [Range<Int>] = []
        var i = 0, start: Int?
        while i + 3 <= data.count {
            if data[i] == 0, data[i + 1] == 0, data[i + 2] == 1 {
                if let s = start { units.append(s..<(i > 0 && data[i - 1] == 0 ? i - 1 : i)) }
                start = i + 3
                i += 3
            } else {
                i += 1
            }
        }
        if let s = start, s < data.count { units.append(s..<data.count) }
        var sps: ArraySlice<UInt8>?, pps: ArraySlice<UInt8>?
        for unit in units where !unit.isEmpty {
            switch data[unit.lowerBound] & 0x1F {
            case 7 where sps == nil: sps = data[unit]
            case 8 where pps == nil: pps = data[unit]
            default: break
            }
        }
        guard let sps, let pps else { return nil }
        return [0, 0, 0, 1] + sps + [0, 0, 0, 1] + pps
    }

    /// Writes the index and closes the file (idempotent).
    public func finish() {
        guard let o = output else { return }
        if started {
            av_write_trailer(o)
            avio_closep(&o.pointee.pb)
        }
        avformat_free_context(o)
        output = nil
    }
}
