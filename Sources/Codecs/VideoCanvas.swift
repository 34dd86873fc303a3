import CFFmpeg
import MediaCore

/// The composite picture: a 4:2:0 frame that the compositor draws into and the encoder reads.
/// Owned by one thread (the compositor's); not Sendable.
public final class VideoCanvas {
    let frame: UnsafeMutablePointer<AVFrame>
    public let size: PixelSize

    public init(size: PixelSize) throws(MediaError) {
        guard size.width >= 2, size.height >= 2, size.width % 2 == 0, size.height % 2 == 0 else {
            throw MediaError(.invalidArgument, "canvas size must be even and at least 2x2, not \(size)")
        }
        guard let frame = av_frame_alloc() else { throw MediaError(.codecFailure, "out of memory allocating the canvas") }
        frame.pointee.width = Int32(size.width)
        frame.pointee.height = Int32(size.height)
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        var f: UnsafeMutablePointer<AVFrame>? = frame
        if av_frame_get_buffer(frame, 32) < 0 {
            av_frame_free(&f)
            throw MediaError(.codecFailure, "out of memory allocating a \(size) canvas")
        }
        self.frame = frame
        self.size = size
    }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
    }

    /// Changes when the pixel buffers are replaced (then nothing drawn before is there any more).
    public var bufferIdentity: UInt {
        UInt(bitPattern: frame.pointee.data.0)
    }

    /// Before drawing: if an encoder still references the buffers, draw into fresh ones.
    public func makeWritable() throws(MediaError) {
        try check(av_frame_make_writable(frame), .codecFailure, "cannot make the canvas writable")
    }

    /// Fills a rectangle (clipped to the canvas; even-aligned for chroma) with an opaque colour,
    /// or blends it when the colour has alpha.
    public func fill(_ rect: PixelRect, color: RGBAColor) {
        let r = rect.intersection(PixelRect(x: 0, y: 0, width: size.width, height: size.height))
        guard !r.isEmpty, color.a > 0 else { return }
        let (cy, cu, cv) = color.yuv
        if color.a == 255 {
            fillPlane(0, x: r.x, y: r.y, width: r.width, height: r.height, value: cy)
            let cx0 = r.x >> 1, cy0 = r.y >> 1, cx1 = (r.maxX + 1) >> 1, cy1 = (r.maxY + 1) >> 1
            fillPlane(1, x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0, value: cu)
            fillPlane(2, x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0, value: cv)
        } else {
            let a = Int(color.a)
            blendPlane(0, x: r.x, y: r.y, width: r.width, height: r.height, value: cy, alpha: a)
            let cx0 = r.x >> 1, cy0 = r.y >> 1, cx1 = (r.maxX + 1) >> 1, cy1 = (r.maxY + 1) >> 1
            blendPlane(1, x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0, value: cu, alpha: a)
            blendPlane(2, x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0, value: cv, alpha: a)
        }
    }

    public func fill(color: RGBAColor) {
        fill(PixelRect(x: 0, y: 0, width: size.width, height: size.height), color: color)
    }

    /// Draws a frame of `width` pixels inside `rect`'s edges.
    public func strokeBorder(_ rect: PixelRect, width: Int, color: RGBAColor) {
        guard width > 0 else { return }
        let w = min(width, rect.width / 2, rect.height / 2)
        fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: w), color: color)
        fill(PixelRect(x: rect.x, y: rect.maxY - w, width: rect.width, height: w), color: color)
        fill(PixelRect(x: rect.x, y: rect.y + w, width: w, height: rect.height - 2 * w), color: color)
        fill(PixelRect(x: rect.maxX - w, y: rect.y + w, width: w, height: rect.height - 2 * w), color: color)
    }

    private func fillPlane(_ index: Int, x: Int, y: Int, width: Int, height: Int, value: UInt8) {
        guard width > 0, height > 0, let base = plane(frame, index) else { return }
        let s = stride(frame, index)
        for row in y..<(y + height) {
            (base + row * s + x).update(repeating: value, count: width)
        }
    }

    private func blendPlane(_ index: Int, x: Int, y: Int, width: Int, height: Int, value: UInt8, alpha: Int) {
        guard width > 0, height > 0, let base = plane(frame, index) else { return }
        let s = stride(frame, index)
        let v = Int(value) * alpha, inv = 255 - alpha
        for row in y..<(y + height) {
            let p = base + row * s + x
            for i in 0..<width { p[i] = UInt8((Int(p[i]) * inv + v + 127) / 255) }
        }
    }

    /// Blends `mask` in one colour with its top-left corner at (`x`, `y`), clipped to `clip` and the canvas.
    public func blend(_ mask: AlphaMask, x: Int, y: Int, color: RGBAColor, opacity: Double = 1, clip: PixelRect? = nil) {
        let bounds = PixelRect(x: 0, y: 0, width: size.width, height: size.height)
        let area = PixelRect(x: x, y: y, width: mask.width, height: mask.height)
            .intersection(clip.map { $0.intersection(bounds) } ?? bounds)
        guard !area.isEmpty, let py = plane(frame, 0), let pu = plane(frame, 1), let pv = plane(frame, 2) else { return }
        let (cy, cu, cv) = color.yuv
        let scale = Int((opacity * Double(color.a)).rounded())
        let sy = stride(frame, 0), su = stride(frame, 1)
        mask.pixels.withUnsafeBufferPointer { m in
            for row in area.y..<area.maxY {
                let mrow = (row - y) * mask.width - x
                let yp = py + row * sy
                let chroma = row & 1 == 0
                for col in area.x..<area.maxX {
                    let a = Int(m[mrow + col]) * scale / 255
                    if a == 0 { continue }
                    yp[col] = UInt8((Int(yp[col]) * (255 - a) + Int(cy) * a + 127) / 255)
                    if chroma && col & 1 == 0 {
                        let ci = (row >> 1) * su + (col >> 1)
                        pu[ci] = UInt8((Int(pu[ci]) * (255 - a) + Int(cu) * a + 127) / 255)
                        pv[ci] = UInt8((Int(pv[ci]) * (255 - a) + Int(cv) * a + 127) / 255)
                    }
                }
            }
        }
    }

    /// Copies another canvas of the same size (a pre-scaled background image).
    public func copy(from other: VideoCanvas) {
        guard other.size == size else { return }
        for i in 0..<3 {
            guard let dst = plane(frame, i), let src = plane(other.frame, i) else { continue }
            let rows = i == 0 ? size.height : size.height / 2
            let bytes = i == 0 ? size.width : size.width / 2
            let ds = stride(frame, i), ss = stride(other.frame, i)
            for row in 0..<rows { (dst + row * ds).update(from: src + row * ss, count: bytes) }
        }
    }

    /// An immutable copy of the current picture (snapshots, tests).
    public func snapshot(time: Microseconds = 0) -> VideoPicture? {
        guard let copy = av_frame_clone(frame) else { return nil }
        var c: UnsafeMutablePointer<AVFrame>? = copy
        if av_frame_make_writable(copy) < 0 { av_frame_free(&c); return nil }
        return VideoPicture(taking: copy, time: time)
    }

    public func yuv(x: Int, y: Int) -> (y: UInt8, u: UInt8, v: UInt8)? {
        guard x >= 0, y >= 0, x < size.width, y < size.height,
              let p0 = plane(frame, 0), let p1 = plane(frame, 1), let p2 = plane(frame, 2) else { return nil }
        return (p0[y * stride(frame, 0) + x], p1[(y >> 1) * stride(frame, 1) + (x >> 1)], p2[(y >> 1) * stride(frame, 2) + (x >> 1)])
    }
}

/// Scales pictures straight into a canvas rectangle (no intermediate copy). One per tile: it keeps its
/// swscale context while the source's size and the tile's size stay the same. Not Sendable.
public final class FrameScaler {
    private var context: OpaquePointer?
    private let sourcePlanes = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: 4)
    private let sourceStrides = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
    private let destinationPlanes = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 4)
    private let destinationStrides = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
    private var scratch: UnsafeMutablePointer<AVFrame>?

    public init() {}

    deinit {
        sws_freeContext(context)
        sourcePlanes.deallocate(); sourceStrides.deallocate()
        destinationPlanes.deallocate(); destinationStrides.deallocate()
        av_frame_free(&scratch)
    }

    /// Scales the `crop` part of `picture` into `destination` of `canvas` (bilinear), blending when
    /// `opacity` < 1. Returns false when the picture cannot be drawn (odd format, empty rectangle).
    @discardableResult
    public func draw(_ picture: VideoPicture, crop: PixelRect, into canvas: VideoCanvas, destination: PixelRect, opacity: Double = 1) -> Bool {
        let bounds = PixelRect(x: 0, y: 0, width: canvas.size.width, height: canvas.size.height)
        guard !destination.isEmpty, bounds.contains(destination), destination.x % 2 == 0, destination.y % 2 == 0,
              !crop.isEmpty, crop.maxX <= picture.width, crop.maxY <= picture.height else { return false }
        let format = AVPixelFormat(picture.frame.pointee.format)
        guard let desc = av_pix_fmt_desc_get(format) else { return false }
        let planar = desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_PLANAR) != 0
        let planes = planar ? Int(desc.pointee.nb_components) : 1
        let chromaW = Int(desc.pointee.log2_chroma_w), chromaH = Int(desc.pointee.log2_chroma_h)
        let bytesPerSample = (Int(desc.pointee.comp.0.depth) + 7) / 8
        // Crop by moving the source plane pointers; packed formats are cropped at whole pixels.
        var cropX = crop.x, cropY = crop.y
        if planar { cropX &= ~((1 << chromaW) - 1); cropY &= ~((1 << chromaH) - 1) }
        for i in 0..<4 {
            guard i < max(planes, 1), let base = plane(picture.frame, i) else {
                sourcePlanes[i] = nil; sourceStrides[i] = 0; continue
            }
            let s = stride(picture.frame, i)
            let isChroma = planar && (i == 1 || i == 2)
            let px = isChroma ? cropX >> chromaW : cropX
            let py = isChroma ? cropY >> chromaH : cropY
            let step = planar ? bytesPerSample : Int(av_get_padded_bits_per_pixel(desc)) / 8
            sourcePlanes[i] = UnsafePointer(base + py * s + px * step)
            sourceStrides[i] = Int32(s)
        }
        let w = crop.width, h = crop.height
        context = sws_getCachedContext(context, Int32(w), Int32(h), format,
                                       Int32(destination.width), Int32(destination.height), AV_PIX_FMT_YUV420P,
                                       SWS_BILINEAR, nil, nil, nil)
        guard let context else { return false }
        if opacity >= 0.999 {
            for i in 0..<3 {
                let isChroma = i > 0
                let x = isChroma ? destination.x >> 1 : destination.x
                let y = isChroma ? destination.y >> 1 : destination.y
                destinationPlanes[i] = plane(canvas.frame, i).map { $0 + y * stride(canvas.frame, i) + x }
                destinationStrides[i] = Int32(stride(canvas.frame, i))
            }
            destinationPlanes[3] = nil; destinationStrides[3] = 0
            sws_scale(context, sourcePlanes, sourceStrides, 0, Int32(h), destinationPlanes, destinationStrides)
            return true
        }
        // Translucent: scale into a scratch picture, then blend.
        if scratch == nil || scratch!.pointee.width != Int32(destination.width) || scratch!.pointee.height != Int32(destination.height) {
            av_frame_free(&scratch)
            scratch = av_frame_alloc()
            guard let scratch else { return false }
            scratch.pointee.width = Int32(destination.width)
            scratch.pointee.height = Int32(destination.height)
            scratch.pointee.format = AV_PIX_FMT_YUV420P.rawValue
            if av_frame_get_buffer(scratch, 32) < 0 { av_frame_free(&self.scratch); return false }
        }
        guard let scratch else { return false }
        for i in 0..<3 {
            destinationPlanes[i] = plane(scratch, i)
            destinationStrides[i] = Int32(stride(scratch, i))
        }
        destinationPlanes[3] = nil; destinationStrides[3] = 0
        sws_scale(context, sourcePlanes, sourceStrides, 0, Int32(h), destinationPlanes, destinationStrides)
        let a = Int((opacity * 255).rounded()), inv = 255 - a
        for i in 0..<3 {
            let isChroma = i > 0
            let x = isChroma ? destination.x >> 1 : destination.x
            let y = isChroma ? destination.y >> 1 : destination.y
            let rows = isChroma ? destination.height >> 1 : destination.height
            let cols = isChroma ? destination.width >> 1 : destination.width
            guard let dst = plane(canvas.frame, i), let src = plane(scratch, i) else { continue }
            let ds = stride(canvas.frame, i), ss = stride(scratch, i)
            for row in 0..<rows {
                let d = dst + (y + row) * ds + x, s = src + row * ss
                for col in 0..<cols { d[col] = UInt8((Int(d[col]) * inv + Int(s[col]) * a + 127) / 255) }
            }
        }
        return true
    }
}
