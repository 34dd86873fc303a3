import CFFmpeg
import MediaCore

/// A decoded picture on the room timeline. It owns its AVFrame and never changes after decoding, so it may
/// be read from any thread: that immutability is why it is `@unchecked Sendable`.
public final class VideoPicture: @unchecked Sendable {
    let frame: UnsafeMutablePointer<AVFrame>
    /// Presentation time on the room timeline.
    public let time: Microseconds

    /// Takes ownership of `frame`.
    init(taking frame: UnsafeMutablePointer<AVFrame>, time: Microseconds) {
        self.frame = frame
        self.time = time
    }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
    }

    public var width: Int { Int(frame.pointee.width) }
    public var height: Int { Int(frame.pointee.height) }
    public var size: PixelSize { PixelSize(width: width, height: height) }
    /// The picture's pixel data in bytes (what holding it costs).
    public var byteCount: Int { Int(max(0, av_image_get_buffer_size(AVPixelFormat(frame.pointee.format), frame.pointee.width, frame.pointee.height, 1))) }
    public var pixelFormatName: String {
        String(cString: av_get_pix_fmt_name(AVPixelFormat(frame.pointee.format)) ?? "unknown".withCString { $0 })
    }

    /// The Y'CbCr value at a pixel (tests and probes; 8-bit planar YUV only, else nil).
    public func yuv(x: Int, y: Int) -> (y: UInt8, u: UInt8, v: UInt8)? {
        guard x >= 0, y >= 0, x < width, y < height,
              let desc = av_pix_fmt_desc_get(AVPixelFormat(frame.pointee.format)),
              desc.pointee.nb_components >= 3, desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_PLANAR) != 0,
              desc.pointee.comp.0.depth == 8 else { return nil }
        let cx = x >> Int(desc.pointee.log2_chroma_w), cy = y >> Int(desc.pointee.log2_chroma_h)
        guard let p0 = plane(frame, 0), let p1 = plane(frame, 1), let p2 = plane(frame, 2) else { return nil }
        return (p0[y * stride(frame, 0) + x], p1[cy * stride(frame, 1) + cx], p2[cy * stride(frame, 2) + cx])
    }

    /// Mean Y'CbCr over a rectangle (tests and probes).
    public func meanYUV(in rect: PixelRect) -> (y: Double, u: Double, v: Double)? {
        var sy = 0.0, su = 0.0, sv = 0.0, n = 0.0
        let r = rect.intersection(PixelRect(x: 0, y: 0, width: width, height: height))
        guard !r.isEmpty else { return nil }
        let step = max(1, min(r.width, r.height) / 16)
        var yy = r.y
        while yy < r.maxY {
            var xx = r.x
            while xx < r.maxX {
                guard let p = yuv(x: xx, y: yy) else { return nil }
                sy += Double(p.y); su += Double(p.u); sv += Double(p.v); n += 1
                xx += step
            }
            yy += step
        }
        return (sy / n, su / n, sv / n)
    }
}
