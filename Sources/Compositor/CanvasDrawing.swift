import Codecs
import MediaCore

/// Drawing on the composite: filled and blended rectangles, borders, and alpha masks (text, icons) in one colour.
/// Rectangles are clipped to the canvas; chroma is covered for every luma pixel touched (4:2:0). The loops run over
/// the planes' memory directly: they are per-pixel paths.
extension VideoCanvas {
    /// Fills a rectangle with an opaque colour, or blends it when the colour has alpha.
    public func fill(_ rect: PixelRect, color: RGBAColor) {
        let r = rect.intersection(PixelRect(x: 0, y: 0, width: size.width, height: size.height))
        guard !r.isEmpty, color.a > 0 else { return }
        let (cy, cu, cv) = color.yuv
        let a = Int(color.a)
        let cx0 = r.x >> 1, cy0 = r.y >> 1, cx1 = (r.maxX + 1) >> 1, cy1 = (r.maxY + 1) >> 1
        withPlanes { y, u, v, strides in
            CanvasDrawing.paint(&y, stride: strides.y, x: r.x, y: r.y, width: r.width, height: r.height, value: cy, alpha: a)
            CanvasDrawing.paint(&u, stride: strides.u, x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0, value: cu, alpha: a)
            CanvasDrawing.paint(&v, stride: strides.v, x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0, value: cv, alpha: a)
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

    /// Blends `mask` in one colour with its top-left corner at (`x`, `y`), clipped to `clip` and the canvas.
    public func blend(_ mask: AlphaMask, x: Int, y: Int, color: RGBAColor, opacity: Double = 1, clip: PixelRect? = nil) {
        let bounds = PixelRect(x: 0, y: 0, width: size.width, height: size.height)
        let area = PixelRect(x: x, y: y, width: mask.width, height: mask.height)
            .intersection(clip.map { $0.intersection(bounds) } ?? bounds)
        guard !area.isEmpty else { return }
        let (cy, cu, cv) = color.yuv
        let scale = Int((opacity * Double(color.a)).rounded())
        withPlanes { yPlane, uPlane, vPlane, strides in
            yPlane.withUnsafeMutableBufferPointer { py in
                uPlane.withUnsafeMutableBufferPointer { pu in
                    vPlane.withUnsafeMutableBufferPointer { pv in
                        mask.pixels.withUnsafeBufferPointer { m in
                            for row in area.y..<area.maxY {
                                let mrow = (row - y) * mask.width - x
                                let yrow = row * strides.y
                                let chroma = row & 1 == 0
                                for col in area.x..<area.maxX {
                                    let a = Int(m[mrow + col]) * scale / 255
                                    if a == 0 { continue }
                                    py[yrow + col] = CanvasDrawing.mix(py[yrow + col], cy, a)
                                    if chroma && col & 1 == 0 {
                                        let ci = (row >> 1) * strides.u + (col >> 1)
                                        pu[ci] = CanvasDrawing.mix(pu[ci], cu, a)
                                        pv[ci] = CanvasDrawing.mix(pv[ci], cv, a)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

enum CanvasDrawing {
    /// `under` covered by `over` at `alpha` (0-255), rounded.
    @inline(__always)
    static func mix(_ under: UInt8, _ over: UInt8, _ alpha: Int) -> UInt8 {
        UInt8((Int(under) * (255 - alpha) + Int(over) * alpha + 127) / 255)
    }

    /// A rectangle of one plane set to `value` (alpha 255) or blended with it.
    static func paint(_ plane: inout MutableSpan<UInt8>, stride: Int, x: Int, y: Int, width: Int, height: Int, value: UInt8, alpha: Int) {
        guard width > 0, height > 0 else { return }
        plane.withUnsafeMutableBufferPointer { p in
            for row in y..<(y + height) {
                let start = row * stride + x
                if alpha == 255 {
                    p.baseAddress.map { ($0 + start).update(repeating: value, count: width) }
                } else {
                    for i in start..<(start + width) { p[i] = mix(p[i], value, alpha) }
                }
            }
        }
    }
}
