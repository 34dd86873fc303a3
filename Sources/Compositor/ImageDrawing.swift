import Codecs
import MediaCore

extension VideoCanvas {
    /// Blends `image` scaled to `rect` (top-left corner on even coordinates, any width and height), with the image's
    /// own alpha times `opacity`, as FFmpeg's `overlay` filter (`format=auto`) does: 8-bit RGB images in RGB (see
    /// `OverlayImage.blendsInRGB`), others in 4:2:0: luma by each pixel's alpha, chroma by the mean alpha of the luma
    /// pixels it covers. Clipped to the canvas; in 4:2:0 nothing outside `rect` is touched.
    public func blend(_ image: OverlayImage, in rect: PixelRect, opacity: Double = 1) {
        let bounds = PixelRect(x: 0, y: 0, width: size.width, height: size.height)
        let visible = rect.intersection(bounds)
        let strength = Int((min(1, max(0, opacity)) * 255).rounded())
        guard !visible.isEmpty, strength > 0, rect.x & 1 == 0, rect.y & 1 == 0 else { return }
        if image.blendsInRGB(at: PixelSize(width: rect.width, height: rect.height)) {
            image.blendInRGB(onto: self, in: rect, strength: strength)
            return
        }
        _ = image.withPlanes(size: PixelSize(width: rect.width, height: rect.height)) { sy, su, sv, sa, ss in
            withPlanes { dy, du, dv, ds in
                sy.withUnsafeBufferPointer { iy in sa.withUnsafeBufferPointer { ia in
                    dy.withUnsafeMutableBufferPointer { cy in
                        for row in visible.y..<visible.maxY {
                            let imageRow = (row - rect.y) * ss.y, alphaRow = (row - rect.y) * ss.alpha, canvasRow = row * ds.y
                            for col in visible.x..<visible.maxX {
                                let a = BlendMath.scale(Int(ia[alphaRow + col - rect.x]), strength)
                                if a == 0 { continue }
                                cy[canvasRow + col] = BlendMath.mix(cy[canvasRow + col], iy[imageRow + col - rect.x], a)
                            }
                        }
                    }
                } }
                // Chroma: canvas sample (cx, cy) covers luma columns 2cx, 2cx+1 and rows 2cy, 2cy+1.
                let cx0 = visible.x >> 1, cx1 = (visible.maxX + 1) >> 1, cy0 = visible.y >> 1, cy1 = (visible.maxY + 1) >> 1
                let originX = rect.x >> 1, originY = rect.y >> 1
                su.withUnsafeBufferPointer { iu in sv.withUnsafeBufferPointer { iv in sa.withUnsafeBufferPointer { ia in
                    du.withUnsafeMutableBufferPointer { cu in dv.withUnsafeMutableBufferPointer { cv in
                        let chromaRows = (rect.height + 1) >> 1, chromaCols = (rect.width + 1) >> 1
                        for crow in cy0..<cy1 {
                            let imageRow = crow - originY, below = imageRow + 1 < chromaRows
                            for ccol in cx0..<cx1 {
                                let imageCol = ccol - originX, right = imageCol + 1 < chromaCols
                                let at = 2 * imageRow * ss.alpha + 2 * imageCol
                                let a0 = Int(ia[at])
                                // FFmpeg's rule: the mean of the 2x2 block inside the image; in its last chroma row or
                                // column, the mean of the horizontal and the vertical pair's means.
                                let alpha: Int
                                if below && right {
                                    alpha = (a0 + Int(ia[at + 1]) + Int(ia[at + ss.alpha]) + Int(ia[at + ss.alpha + 1])) >> 2
                                } else {
                                    let horizontal = right ? (a0 + Int(ia[at + 1])) >> 1 : a0
                                    let vertical = below ? (a0 + Int(ia[at + ss.alpha])) >> 1 : a0
                                    alpha = (horizontal + vertical) >> 1
                                }
                                let a = BlendMath.scale(alpha, strength)
                                if a == 0 { continue }
                                let u = crow * ds.u + ccol, v = crow * ds.v + ccol
                                cu[u] = BlendMath.mix(cu[u], iu[imageRow * ss.u + imageCol], a)
                                cv[v] = BlendMath.mix(cv[v], iv[imageRow * ss.v + imageCol], a)
                            }
                        }
                    } }
                } } }
            }
        }
    }
}
