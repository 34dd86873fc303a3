import CFFmpeg
import MediaCore

/// Decodes frames that arrive one by one (from RTP depacketizers): VP8, VP9, H.264 (Annex B), AV1 to pictures,
/// Opus to 48 kHz stereo samples, each stamped with the time given. Opus goes to libopus directly
/// (`OpusPacketDecoder`), the rest through libavcodec. One owner (the track's decoder worker); not Sendable.
public final class FrameDecoder {
    public let codec: String
    private let opus: OpusPacketDecoder?
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var refused = 0
    public var errors: Int { refused + (opus?.errors ?? 0) }

    static let decoders: [String: [String]] = ["vp8": ["vp8"], "vp9": ["vp9"], "h264": ["h264"], "av1": ["libdav1d", "av1"]]

    public init(codec: String, threads: Int = 1) throws(MediaError) {
        self.codec = codec
        if codec == "opus" {
            opus = try OpusPacketDecoder()
            return
        }
        opus = nil
        guard let names = FrameDecoder.decoders[codec],
              let decoder = names.lazy.compactMap({ avcodec_find_decoder_by_name($0) }).first else {
            throw MediaError(.unsupportedCodec, "no decoder for \(codec)")
        }
        guard let ctx = avcodec_alloc_context3(decoder) else { throw MediaError(.codecFailure, "out of memory") }
        context = ctx
        ctx.pointee.thread_count = Int32(max(1, threads))
        ctx.pointee.pkt_timebase = microsecondBase
        try check(avcodec_open2(ctx, decoder, nil), .codecFailure, "cannot open the \(codec) decoder")
        packet = av_packet_alloc()
        guard packet != nil else { throw MediaError(.codecFailure, "out of memory") }
    }

    deinit {
        avcodec_free_context(&context)
        av_packet_free(&packet)
    }

    /// Decodes one frame; false when the decoder refused it (the caller asks for a keyframe).
    @discardableResult
    public func decode(_ data: [UInt8], time: Microseconds, onVideo: (VideoPicture) -> Void, onAudio: (AudioSamples) -> Void) -> Bool {
        if let opus { return opus.decode(data, time: time, onAudio: onAudio) }
        guard let context, let packet, !data.isEmpty, data.count < 16 << 20 else { return false }
        guard av_new_packet(packet, Int32(data.count)) == 0 else { return false }
        defer { av_packet_unref(packet) }
        data.withUnsafeBytes { packet.pointee.data.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: data.count) }
        packet.pointee.pts = time
        packet.pointee.dts = time
        let sent = avcodec_send_packet(context, packet)
        if sent < 0 && sent != AVERROR_EAGAIN { refused += 1; return false }
        receive(onVideo: onVideo)
        return true
    }

    /// Every picture the decoder has ready (libavcodec decodes only video here; Opus never reaches it).
    private func receive(onVideo: (VideoPicture) -> Void) {
        guard let context else { return }
        while true {
            guard let picture = av_frame_alloc() else { return }
            if avcodec_receive_frame(context, picture) < 0 {
                var p: UnsafeMutablePointer<AVFrame>? = picture
                av_frame_free(&p)
                return
            }
            let t = picture.pointee.best_effort_timestamp == AV_NOPTS ? picture.pointee.pts : picture.pointee.best_effort_timestamp
            onVideo(VideoPicture(taking: picture, time: t))
        }
    }
}

/// Reads a file's encoded packets without decoding them (the built-in publisher streams them; tests feed
/// them to `FrameDecoder`). One owner; not Sendable.
public final class MediaFileDemuxer {
    public struct Packet: Sendable {
        public var video: Bool
        public var codec: String
        public var data: [UInt8]
        public var time: Microseconds
        public var keyframe: Bool
    }

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?

    public init(path: String) throws(MediaError) {
        let opened = avformat_open_input(&format, path, nil, nil)
        guard opened >= 0, let format else { throw MediaError(.inputUnreadable, "cannot open input: \(ffmpegErrorText(opened))", at: path) }
        try check(avformat_find_stream_info(format, nil), .inputUnreadable, "cannot read the file's streams", at: path)
        packet = av_packet_alloc()
    }

    deinit {
        avformat_close_input(&format)
        av_packet_free(&packet)
    }

    public func next() -> Packet? {
        guard let format, let packet else { return nil }
        while av_read_frame(format, packet) >= 0 {
            defer { av_packet_unref(packet) }
            guard let stream = format.pointee.streams[Int(packet.pointee.stream_index)], let par = stream.pointee.codecpar else { continue }
            let type = par.pointee.codec_type
            guard type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO, packet.pointee.size > 0 else { continue }
            let pts = packet.pointee.pts == AV_NOPTS ? packet.pointee.dts : packet.pointee.pts
            let data = Array(UnsafeBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size)))
            return Packet(video: type == AVMEDIA_TYPE_VIDEO, codec: String(cString: avcodec_get_name(par.pointee.codec_id)), data: data,
                          time: av_rescale_q(pts, stream.pointee.time_base, microsecondBase),
                          keyframe: packet.pointee.flags & AV_PKT_FLAG_KEY != 0)
        }
        return nil
    }
}
