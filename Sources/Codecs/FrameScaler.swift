import CFFmpeg
import MediaCore

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
    private var contextKey: ContextKey?

    /// What a swscale context is made for: it is remade only when one of these changes.
    struct ContextKey: Equatable {
        var width: Int, height: Int, format: Int32, destination: PixelSize, fullRange: Bool
        var chromaX: Int32, chromaY: Int32, colorspace: UInt32
    }
    /// The context's matrix conversion (nil: the source is BT.601 already).
    private var matrix: MatrixConversion?

    /// How the source's samples are coded, from its decoder: full-range sources (JPEG-style cameras, some phones,
    /// screen captures) are mapped into the composite's limited range by swscale itself; a matrix other than
    /// BT.601 is converted after scaling (`MatrixConversion`). Unspecified means limited BT.601. Chroma samples are
    /// read where the decoder says they sit (H.264: left, between rows; unspecified: centred, swscale's and ffmpeg's
    /// default) and written centred, as the encoder signals.
    struct SourceCoding {
        let fullRange: Bool
        /// The source's matrix (unspecified for RGB sources, which swscale converts itself).
        var colorspace = AVCOL_SPC_UNSPECIFIED
        /// Chroma position in swscale's units (256 spans the two luma samples of a 4:2:0 chroma sample).
        var chromaX: Int32 = 128, chromaY: Int32 = 128

        init(_ frame: AVFrame, format: AVPixelFormat, description: UnsafePointer<AVPixFmtDescriptor>) {
            let yuv = description.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB) == 0 && description.pointee.nb_components >= 3
            let jpegFormat: Bool
            switch format {
            case AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P: jpegFormat = true
            default: jpegFormat = false
            }
            fullRange = yuv && (frame.color_range == AVCOL_RANGE_JPEG || jpegFormat)
            if yuv { colorspace = frame.colorspace }
            var x: Int32 = 0, y: Int32 = 0
            if yuv, avcodec_enum_to_chroma_pos(&x, &y, frame.chroma_location) >= 0 { chromaX = x; chromaY = y }
        }
    }

    /// A context scaling `key`'s source into limited-range 4:2:0, from full range when the source is.
    static func makeContext(_ key: ContextKey, flags: Int32) -> OpaquePointer? {
        guard let context = sws_alloc_context() else { return nil }
        let options: [(String, Int64)] = [
            ("srcw", Int64(key.width)), ("srch", Int64(key.height)), ("src_format", Int64(key.format)),
            ("dstw", Int64(key.destination.width)), ("dsth", Int64(key.destination.height)),
            ("dst_format", Int64(AV_PIX_FMT_YUV420P.rawValue)), ("sws_flags", Int64(flags)),
            // Set before init: with equal sizes and formats swscale would otherwise pick a plain copy that ignores range.
            ("src_range", key.fullRange ? 1 : 0), ("dst_range", 0),
            ("src_h_chr_pos", Int64(key.chromaX)), ("src_v_chr_pos", Int64(key.chromaY)),
            ("dst_h_chr_pos", 128), ("dst_v_chr_pos", 128),
        ]
        for (name, value) in options where av_opt_set_int(UnsafeMutableRawPointer(context), name, value, 0) < 0 {
            sws_freeContext(context); return nil
        }
        guard sws_init_context(context, nil, nil) >= 0 else { sws_freeContext(context); return nil }
        return context
    }

    /// `sharp`: bicubic, what ffmpeg's default scale gives (composing files: about 0.005 SSIM better against a lanczos
    /// reference than bilinear); otherwise bilinear, cheaper on a live room's real-time deadline (with bicubic a live
    /// Firefox room on two cores showed 60–90 ms stalls of single flashes in half the runs of OtherStacksTests).
    /// Live screen shares are sharp too (small text: ScreenTextTests). Area averaging, often advised for large
    /// downscales, was measured worse than bicubic at every ratio against the lanczos reference (swscale widens its
    /// kernels with the downscale already): 4x 0.985 against 0.9987, 2.7x 0.988 against 0.9987.
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
        let coding = SourceCoding(picture.frame.pointee, format: format, description: desc)
        let key = ContextKey(width: w, height: h, format: format.rawValue, destination: PixelSize(width: destination.width, height: destination.height),
                             fullRange: coding.fullRange, chromaX: coding.chromaX, chromaY: coding.chromaY, colorspace: coding.colorspace.rawValue)
        if key != contextKey || context == nil {
            sws_freeContext(context)
            context = FrameScaler.makeContext(key, flags: flags)
            matrix = MatrixConversion(from: coding.colorspace)
            contextKey = key
        }
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
            matrix?.apply(destinationPlanes, destinationStrides, width: destination.width, height: destination.height)
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
        matrix?.apply(destinationPlanes, destinationStrides, width: destination.width, height: destination.height)
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
