import CFFmpeg
import MediaCore

/// A still image drawn over the composite (a watermark), with its own transparency: PNG alpha (PNG alpha is always
/// straight, never premultiplied), palette transparency (`tRNS`), grey+alpha and 16-bit images; JPEG and other
/// formats without alpha are opaque. Converted once per drawn size (bicubic, as FFmpeg's `scale` does by default)
/// to 4:2:0 with a full-resolution alpha plane; the compositor blends it. One owner (the engine's thread).
public final class OverlayImage {
    public let picture: VideoPicture
    /// Whether the source format carries transparency at all.
    public let hasAlpha: Bool
    private var rendered: UnsafeMutablePointer<AVFrame>?
    private var renderedRGBA: UnsafeMutablePointer<AVFrame>?
    private lazy var rgbBlend = RGBRegionBlend()

    public init(_ picture: VideoPicture) {
        self.picture = picture
        let format = AVPixelFormat(picture.frame.pointee.format)
        let flags = av_pix_fmt_desc_get(format)?.pointee.flags ?? 0
        hasAlpha = flags & UInt64(AV_PIX_FMT_FLAG_ALPHA) != 0 || format == AV_PIX_FMT_PAL8
    }

    deinit { av_frame_free(&rendered); av_frame_free(&renderedRGBA) }

    /// Whether the image is blended in RGB at `size` rather than in 4:2:0: what FFmpeg's `overlay` (`format=auto`)
    /// does for 8-bit RGB images that carry alpha or are scaled; palette, grey, 16-bit and YUV images blend in 4:2:0.
    public func blendsInRGB(at size: PixelSize) -> Bool {
        switch AVPixelFormat(picture.frame.pointee.format) {
        case AV_PIX_FMT_RGBA, AV_PIX_FMT_BGRA, AV_PIX_FMT_ARGB, AV_PIX_FMT_ABGR: true
        case AV_PIX_FMT_RGB24, AV_PIX_FMT_BGR24, AV_PIX_FMT_RGB0, AV_PIX_FMT_BGR0, AV_PIX_FMT_0RGB, AV_PIX_FMT_0BGR:
            size != picture.size
        default: false
        }
    }

    /// Blends the image, scaled to `rect`, into `canvas` in RGB (see `RGBRegionBlend`), alpha times `strength` / 255.
    /// False when it cannot be converted.
    @discardableResult
    public func blendInRGB(onto canvas: VideoCanvas, in rect: PixelRect, strength: Int) -> Bool {
        let size = PixelSize(width: rect.width, height: rect.height)
        guard size.width > 0, size.height > 0, rect.x & 1 == 0, rect.y & 1 == 0 else { return false }
        if renderedRGBA == nil || Int(renderedRGBA!.pointee.width) != size.width || Int(renderedRGBA!.pointee.height) != size.height {
            av_frame_free(&renderedRGBA)
            renderedRGBA = convert(to: size, format: AV_PIX_FMT_RGBA)
        }
        guard let image = renderedRGBA, let pixels = plane(image, 0) else { return false }
        return rgbBlend.blend(pixels, imageStride: stride(image, 0), into: canvas, at: rect, strength: strength)
    }

    /// The image at `size` as Y, U, V (4:2:0, chroma sizes rounded up) and alpha (full resolution) rows, with their
    /// strides; nil when it cannot be converted. The spans are valid during `body` only.
    public func withPlanes<R>(size: PixelSize, _ body: (_ y: Span<UInt8>, _ u: Span<UInt8>, _ v: Span<UInt8>, _ alpha: Span<UInt8>,
                                                        _ strides: (y: Int, u: Int, v: Int, alpha: Int)) -> R) -> R? {
        guard size.width > 0, size.height > 0, let frame = render(size) else { return nil }
        let strides = (y: stride(frame, 0), u: stride(frame, 1), v: stride(frame, 2), alpha: stride(frame, 3))
        let chromaRows = (size.height + 1) / 2
        guard let y = plane(frame, 0), let u = plane(frame, 1), let v = plane(frame, 2), let a = plane(frame, 3) else { return nil }
        return body(UnsafeBufferPointer(start: y, count: strides.y * size.height).span,
                    UnsafeBufferPointer(start: u, count: strides.u * chromaRows).span,
                    UnsafeBufferPointer(start: v, count: strides.v * chromaRows).span,
                    UnsafeBufferPointer(start: a, count: strides.alpha * size.height).span, strides)
    }

    private func render(_ size: PixelSize) -> UnsafeMutablePointer<AVFrame>? {
        if let rendered, Int(rendered.pointee.width) == size.width, Int(rendered.pointee.height) == size.height { return rendered }
        av_frame_free(&rendered)
        guard let frame = convert(to: size, format: AV_PIX_FMT_YUVA420P) else { return nil }
        if !hasAlpha, let alpha = plane(frame, 3) {
            alpha.update(repeating: 255, count: stride(frame, 3) * size.height)
        }
        rendered = frame
        return frame
    }

    /// The image scaled (bicubic, as FFmpeg's `scale` does by default) and converted; nil when it cannot be.
    private func convert(to size: PixelSize, format: AVPixelFormat) -> UnsafeMutablePointer<AVFrame>? {
        guard let frame = av_frame_alloc() else { return nil }
        var owned: UnsafeMutablePointer<AVFrame>? = frame
        frame.pointee.width = Int32(size.width)
        frame.pointee.height = Int32(size.height)
        frame.pointee.format = format.rawValue
        let source = picture.frame
        guard av_frame_get_buffer(frame, 32) >= 0,
              let context = sws_getContext(source.pointee.width, source.pointee.height, AVPixelFormat(source.pointee.format),
                                           Int32(size.width), Int32(size.height), format, SWS_BICUBIC, nil, nil, nil) else {
            av_frame_free(&owned)
            return nil
        }
        defer { sws_freeContext(context) }
        // Every plane of the source, the palette of a PAL8 image included (swscale reads it as plane 1).
        let sourcePlanes: [UnsafePointer<UInt8>?] = (0..<4).map { plane(source, $0).map { UnsafePointer($0) } }
        let sourceStrides: [Int32] = (0..<4).map { Int32(stride(source, $0)) }
        let destinationPlanes: [UnsafeMutablePointer<UInt8>?] = (0..<4).map { plane(frame, $0) }
        let destinationStrides: [Int32] = (0..<4).map { Int32(stride(frame, $0)) }
        let scaled = sws_scale(context, sourcePlanes, sourceStrides, 0, source.pointee.height, destinationPlanes, destinationStrides)
        guard scaled > 0 else { av_frame_free(&owned); return nil }
        return frame
    }
}
