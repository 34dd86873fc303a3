import CFFmpeg
import MediaCore

/// The composite picture: a 4:2:0 frame that the compositor draws into (through `withPlanes`) and the encoder reads.
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

    /// The canvas's Y, U and V planes (4:2:0) with their row strides, for drawing (the compositor's `CanvasDrawing`);
    /// the spans are valid during `body` only. Call `makeWritable()` first if an encoder may still hold the buffers.
    public func withPlanes<R>(_ body: (_ y: inout MutableSpan<UInt8>, _ u: inout MutableSpan<UInt8>, _ v: inout MutableSpan<UInt8>,
                                       _ strides: (y: Int, u: Int, v: Int)) throws -> R) rethrows -> R {
        let strides = (y: stride(frame, 0), u: stride(frame, 1), v: stride(frame, 2))
        let chromaRows = (size.height + 1) / 2
        var y = UnsafeMutableBufferPointer(start: plane(frame, 0), count: strides.y * size.height).mutableSpan
        var u = UnsafeMutableBufferPointer(start: plane(frame, 1), count: strides.u * chromaRows).mutableSpan
        var v = UnsafeMutableBufferPointer(start: plane(frame, 2), count: strides.v * chromaRows).mutableSpan
        return try body(&y, &u, &v, strides)
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
    /// What lies right of the destination rectangle, kept across `sws_scale` (see `spillBytes`).
    private var spill: UnsafeMutableBufferPointer<UInt8> = .init(start: nil, count: 0)
    /// swscale writes rows in whole SIMD blocks: up to this many bytes past a row's last pixel (measured: 15 in luma
    /// for widths that are not multiples of 16). Scaling straight into a canvas rectangle would paint a column of
    /// stray pixels over whatever is to its right, so those bytes are saved before and put back after.
    static let spillBytes = 32

    private let flags: Int32

    /// `sharp`: bicubic, what ffmpeg's default scale gives (composing files: about 0.005 SSIM better against a lanczos
    /// reference than bilinear); otherwise bilinear, cheaper on a live room's real-time deadline (with bicubic a live
    /// Firefox room on two cores showed 60–90 ms stalls of single flashes in half the runs of OtherStacksTests).
    public init(sharp: Bool = false) { flags = sharp ? SWS_BICUBIC : SWS_BILINEAR }

    deinit {
        sws_freeContext(context)
        sourcePlanes.deallocate(); sourceStrides.deallocate()
        destinationPlanes.deallocate(); destinationStrides.deallocate()
        av_frame_free(&scratch)
        spill.deallocate()
    }

    /// Scales the `crop` part of `picture` into `destination` of `canvas`, blending when
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
                                       flags, nil, nil, nil)
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
            guard keepRight(of: destination, in: canvas, restore: false) else { return false }
            sws_scale(context, sourcePlanes, sourceStrides, 0, Int32(h), destinationPlanes, destinationStrides)
            _ = keepRight(of: destination, in: canvas, restore: true)
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

    /// Saves (or, with `restore`, puts back) the bytes right of `rect` on each of its rows in every plane, up to
    /// `spillBytes` and the row's end. Allocates only when a taller canvas needs more room.
    private func keepRight(of rect: PixelRect, in canvas: VideoCanvas, restore: Bool) -> Bool {
        let rows = rect.height + 2 * ((rect.height + 1) / 2)
        let needed = rows * FrameScaler.spillBytes
        if spill.count < needed {
            guard !restore else { return false }
            spill.deallocate()
            spill = .allocate(capacity: needed)
        }
        var offset = 0
        for i in 0..<3 {
            guard let base = plane(canvas.frame, i) else { continue }
            let isChroma = i > 0
            let x = isChroma ? rect.x >> 1 : rect.x, y = isChroma ? rect.y >> 1 : rect.y
            let end = x + (isChroma ? (rect.width + 1) >> 1 : rect.width)
            let count = min(FrameScaler.spillBytes, stride(canvas.frame, i) - end)
            let planeRows = isChroma ? (rect.height + 1) >> 1 : rect.height
            guard count > 0 else { offset += planeRows * FrameScaler.spillBytes; continue }
            let s = stride(canvas.frame, i)
            for row in 0..<planeRows {
                let pixels = base + (y + row) * s + end, saved = spill.baseAddress! + offset
                if restore { pixels.update(from: saved, count: count) } else { saved.update(from: pixels, count: count) }
                offset += FrameScaler.spillBytes
            }
        }
        return true
    }
}
