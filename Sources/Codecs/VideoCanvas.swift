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
