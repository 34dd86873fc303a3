import CFFmpeg
import MediaCore

/// FFmpeg's `overlay` filter (`format=auto`, 5.1) blends an 8-bit RGB image in RGB: the picture under it goes to RGB
/// (chroma taken from the nearest sample), the image's colour is mixed in per pixel by its alpha, and the result
/// returns to 4:2:0 (chroma averaged over pixel pairs across, filtered down the rows). Blending at full resolution
/// keeps the colour of transparent pixels out of the edge's chroma. We do the same with swscale, but only over the
/// image's region (FFmpeg round-trips the whole frame), and write back only what the image can change.
final class RGBRegionBlend {
    /// Rows around the image that the 4:2:0 conversion's vertical chroma filter reads (it reaches 4 luma rows; more
    /// is kept so the region's own edges never reach what is written back). Across, chroma is the mean of a pixel
    /// pair: nothing beyond the image's own pairs is read.
    static let margin = 12
    static let sideMargin = 2
    /// Chroma rows above and below the image that the vertical filter carries its colour into.
    static let bleedRows = 2

    private var region = PixelSize(width: 0, height: 0)
    private var toRGB: OpaquePointer?
    private var toYUV: OpaquePointer?
    private var rgba: UnsafeMutablePointer<AVFrame>?
    private var yuv: UnsafeMutablePointer<AVFrame>?
    /// Per chroma sample of the image's grid (with `bleedRows` above and below): whether a pixel with alpha lies in
    /// its filter window. Depends on the image only, so it is worked out once per image size.
    private var reach: [Bool] = []
    private var reachWidth = 0
    private var reachSize = PixelSize(width: 0, height: 0)
    private let sourcePlanes = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: 4)
    private let sourceStrides = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
    private let destinationPlanes = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 4)
    private let destinationStrides = UnsafeMutablePointer<Int32>.allocate(capacity: 4)

    init() {}

    deinit {
        sws_freeContext(toRGB); sws_freeContext(toYUV)
        av_frame_free(&rgba); av_frame_free(&yuv)
        sourcePlanes.deallocate(); sourceStrides.deallocate()
        destinationPlanes.deallocate(); destinationStrides.deallocate()
    }

    /// Blends `image` (RGBA rows of `rect`'s size, `imageStride` bytes apart) into `canvas` at `rect` (even corner),
    /// alpha times `strength` / 255. False when the work buffers cannot be made.
    func blend(_ image: UnsafePointer<UInt8>, imageStride: Int, into canvas: VideoCanvas, at rect: PixelRect, strength: Int) -> Bool {
        let size = canvas.size, frame = canvas.frame
        let visible = rect.intersection(PixelRect(x: 0, y: 0, width: size.width, height: size.height))
        guard !visible.isEmpty else { return true }
        let x0 = max(0, visible.x - Self.sideMargin) & ~1, y0 = max(0, visible.y - Self.margin) & ~1
        let x1 = min(size.width, (visible.maxX + Self.sideMargin + 1) & ~1), y1 = min(size.height, (visible.maxY + Self.margin + 1) & ~1)
        guard prepare(PixelSize(width: x1 - x0, height: y1 - y0)), let rgba, let yuv,
              let cy = plane(frame, 0), let cu = plane(frame, 1), let cv = plane(frame, 2),
              let rgb = plane(rgba, 0) else { return false }
        let cs = (y: stride(frame, 0), u: stride(frame, 1), v: stride(frame, 2)), rs = stride(rgba, 0)

        // The region to RGB.
        sourcePlanes[0] = UnsafePointer(cy + y0 * cs.y + x0)
        sourcePlanes[1] = UnsafePointer(cu + (y0 / 2) * cs.u + x0 / 2)
        sourcePlanes[2] = UnsafePointer(cv + (y0 / 2) * cs.v + x0 / 2)
        sourcePlanes[3] = nil
        sourceStrides[0] = Int32(cs.y); sourceStrides[1] = Int32(cs.u); sourceStrides[2] = Int32(cs.v); sourceStrides[3] = 0
        destinationPlanes[0] = rgb; destinationPlanes[1] = nil; destinationPlanes[2] = nil; destinationPlanes[3] = nil
        destinationStrides[0] = Int32(rs); destinationStrides[1] = 0; destinationStrides[2] = 0; destinationStrides[3] = 0
        guard sws_scale(toRGB, sourcePlanes, sourceStrides, 0, Int32(region.height), destinationPlanes, destinationStrides) > 0 else { return false }

        // The image mixed in by its alpha (FFmpeg's packed-RGB blend; the region is opaque, so alpha is used as is).
        for row in visible.y..<visible.maxY {
            let source = image + (row - rect.y) * imageStride, target = rgb + (row - y0) * rs
            for col in visible.x..<visible.maxX {
                let s = source + 4 * (col - rect.x), d = target + 4 * (col - x0)
                let alpha = BlendMath.scale(Int(s[3]), strength)
                if alpha == 0 { continue }
                for c in 0..<3 { d[c] = BlendMath.mix(d[c], s[c], alpha) }
            }
        }

        // Back to 4:2:0, and into the canvas: luma under the image, chroma under it and in the rows the filter reaches.
        for i in 0..<3 { sourcePlanes[i] = nil; sourceStrides[i] = 0 }
        sourcePlanes[0] = UnsafePointer(rgb); sourceStrides[0] = Int32(rs)
        for i in 0..<3 { destinationPlanes[i] = plane(yuv, i); destinationStrides[i] = Int32(stride(yuv, i)) }
        guard sws_scale(toYUV, sourcePlanes, sourceStrides, 0, Int32(region.height), destinationPlanes, destinationStrides) > 0,
              let ry = plane(yuv, 0), let ru = plane(yuv, 1), let rv = plane(yuv, 2) else { return false }
        let ys = stride(yuv, 0), us = stride(yuv, 1), vs = stride(yuv, 2)
        // Only samples the image reaches are written: a pixel it covers with some alpha; a chroma sample whose filter
        // window holds such a pixel. Elsewhere the round trip alone would move colours 4:2:0 cannot hold in RGB.
        for row in visible.y..<visible.maxY {
            let source = image + (row - rect.y) * imageStride + 3, out = ry + (row - y0) * ys, canvasRow = cy + row * cs.y
            for col in visible.x..<visible.maxX where source[4 * (col - rect.x)] != 0 { canvasRow[col] = out[col - x0] }
        }
        let reach = chromaReach(image, imageStride: imageStride, size: PixelSize(width: rect.width, height: rect.height))
        let chromaX0 = visible.x / 2, chromaX1 = (visible.maxX + 1) / 2
        let chromaY0 = max(y0 / 2, visible.y / 2 - Self.bleedRows), chromaY1 = min(y1 / 2, (visible.maxY + 1) / 2 + Self.bleedRows)
        for row in chromaY0..<chromaY1 {
            let reachRow = (row - rect.y / 2 + Self.bleedRows) * reachWidth
            let outU = ru + (row - y0 / 2) * us, outV = rv + (row - y0 / 2) * vs, canvasU = cu + row * cs.u, canvasV = cv + row * cs.v
            for col in chromaX0..<chromaX1 where reach[reachRow + col - rect.x / 2] {
                canvasU[col] = outU[col - x0 / 2]
                canvasV[col] = outV[col - x0 / 2]
            }
        }
        return true
    }

    private func chromaReach(_ image: UnsafePointer<UInt8>, imageStride: Int, size: PixelSize) -> [Bool] {
        if size == reachSize { return reach }
        let columns = (size.width + 1) / 2, rows = (size.height + 1) / 2 + 2 * Self.bleedRows
        var mask = [Bool](repeating: false, count: columns * rows)
        for y in 0..<size.height {
            for x in 0..<size.width where image[y * imageStride + 4 * x + 3] != 0 {
                // Luma row y feeds chroma row y / 2, and the filter carries it `bleedRows` rows each way.
                for r in (y / 2)...(y / 2 + 2 * Self.bleedRows) { mask[r * columns + x / 2] = true }
            }
        }
        reach = mask; reachWidth = columns; reachSize = size
        return mask
    }

    /// Conversion contexts and buffers for a region size, kept while it stays the same.
    private func prepare(_ size: PixelSize) -> Bool {
        if size == region, toRGB != nil, toYUV != nil, rgba != nil, yuv != nil { return true }
        sws_freeContext(toRGB); sws_freeContext(toYUV); toRGB = nil; toYUV = nil
        av_frame_free(&rgba); av_frame_free(&yuv)
        region = PixelSize(width: 0, height: 0)
        let w = Int32(size.width), h = Int32(size.height)
        guard let a = Self.frame(size, AV_PIX_FMT_RGBA), let b = Self.frame(size, AV_PIX_FMT_YUV420P) else { return false }
        rgba = a; yuv = b
        // Bicubic, as FFmpeg's command line sets for the conversions it inserts around the filter.
        toRGB = sws_getContext(w, h, AV_PIX_FMT_YUV420P, w, h, AV_PIX_FMT_RGBA, SWS_BICUBIC, nil, nil, nil)
        toYUV = sws_getContext(w, h, AV_PIX_FMT_RGBA, w, h, AV_PIX_FMT_YUV420P, SWS_BICUBIC, nil, nil, nil)
        guard toRGB != nil, toYUV != nil else { return false }
        region = size
        return true
    }

    static func frame(_ size: PixelSize, _ format: AVPixelFormat) -> UnsafeMutablePointer<AVFrame>? {
        guard let frame = av_frame_alloc() else { return nil }
        frame.pointee.width = Int32(size.width)
        frame.pointee.height = Int32(size.height)
        frame.pointee.format = format.rawValue
        if av_frame_get_buffer(frame, 64) < 0 {
            var owned: UnsafeMutablePointer<AVFrame>? = frame
            av_frame_free(&owned)
            return nil
        }
        return frame
    }
}
