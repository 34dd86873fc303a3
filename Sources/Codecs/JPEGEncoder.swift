import CFFmpeg
import MediaCore

/// Encodes pictures as baseline JPEG (previews of the composite). The canvas is limited-range Y'CbCr; JPEG is
/// full range, so each picture is converted first. One owner thread; not Sendable.
public final class JPEGEncoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var converted: UnsafeMutablePointer<AVFrame>?
    private var scaler: OpaquePointer?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var size = PixelSize(width: 0, height: 0)
    public let quality: Int

    /// `quality`: 2 (best) to 31, FFmpeg's qscale.
    public init(quality: Int = 5) { self.quality = max(2, min(31, quality)) }

    deinit { reset() }

    private func reset() {
        avcodec_free_context(&context)
        av_frame_free(&converted)
        av_packet_free(&packet)
        sws_freeContext(scaler)
        scaler = nil
    }

    private func open(_ size: PixelSize) throws(MediaError) {
        reset()
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG), let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.codecFailure, "no JPEG encoder in this FFmpeg")
        }
        context = ctx
        ctx.pointee.width = Int32(size.width)
        ctx.pointee.height = Int32(size.height)
        ctx.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        ctx.pointee.color_range = AVCOL_RANGE_JPEG
        ctx.pointee.time_base = AVRational(num: 1, den: 25)
        ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
        ctx.pointee.global_quality = Int32(quality) * FF_QP2LAMBDA
        try check(avcodec_open2(ctx, codec, nil), .codecFailure, "cannot open the JPEG encoder")
        guard let frame = av_frame_alloc(), let packet = av_packet_alloc() else { throw MediaError(.codecFailure, "out of memory") }
        converted = frame
        self.packet = packet
        frame.pointee.width = Int32(size.width)
        frame.pointee.height = Int32(size.height)
        frame.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
        frame.pointee.quality = Int32(quality) * FF_QP2LAMBDA
        try check(av_frame_get_buffer(frame, 0), .codecFailure, "out of memory")
        scaler = sws_getContext(Int32(size.width), Int32(size.height), AV_PIX_FMT_YUV420P, Int32(size.width), Int32(size.height),
                                AV_PIX_FMT_YUVJ420P, SWS_POINT, nil, nil, nil)
        guard scaler != nil else { throw MediaError(.codecFailure, "cannot convert to JPEG's colour range") }
        self.size = size
    }

    /// The picture (8-bit 4:2:0) as a JPEG file's bytes.
    public func encode(_ picture: VideoPicture) throws(MediaError) -> [UInt8] {
        guard AVPixelFormat(picture.frame.pointee.format) == AV_PIX_FMT_YUV420P else {
            throw MediaError(.invalidArgument, "JPEG snapshots take 4:2:0 pictures, not \(picture.pixelFormatName)")
        }
        if picture.size != size || context == nil { try open(picture.size) }
        guard let ctx = context, let frame = converted, let packet else { throw MediaError(.codecFailure, "JPEG encoder not open") }
        try check(av_frame_make_writable(frame), .codecFailure, "out of memory")
        let source = picture.frame
        let sourcePlanes: [UnsafePointer<UInt8>?] = (0..<3).map { plane(source, $0).map { UnsafePointer($0) } } + [nil]
        let sourceStrides: [Int32] = (0..<3).map { Int32(stride(source, $0)) } + [0]
        let planes: [UnsafeMutablePointer<UInt8>?] = (0..<3).map { plane(frame, $0) } + [nil]
        let strides: [Int32] = (0..<3).map { Int32(stride(frame, $0)) } + [0]
        sws_scale(scaler, sourcePlanes, sourceStrides, 0, Int32(size.height), planes, strides)
        frame.pointee.pts = 0
        try check(avcodec_send_frame(ctx, frame), .codecFailure, "JPEG encoding failed")
        try check(avcodec_receive_packet(ctx, packet), .codecFailure, "JPEG encoding failed")
        defer { av_packet_unref(packet) }
        return Array(UnsafeBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size)))
    }
}
