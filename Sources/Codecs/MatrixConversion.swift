import CFFmpeg

/// Re-codes limited-range 4:2:0 Y'CbCr from a source's matrix (BT.709, BT.2020, …) into BT.601, the matrix the
/// composite is encoded and signalled in. swscale scales Y'CbCr to Y'CbCr without touching the matrix, so a BT.709
/// camera drawn as is would shift hue in every player (green 0,192,0 shows as 15,225,6).
///
/// Going through R'G'B' the map is linear with chroma independent of luma:
///   Y' += a·Cb + b·Cr,  Cb' = c·Cb + d·Cr,  Cr' = e·Cb + f·Cr   (Cb, Cr centred on 128)
/// applied per 2x2 block with the block's chroma, in 14-bit fixed point.
struct MatrixConversion: Equatable {
    let a: Int, b: Int, c: Int, d: Int, e: Int, f: Int
    static let shift = 14

    /// Luma weights (Kr, Kb) of the matrices decoders report; nil for BT.601 itself and for what is not Y'CbCr
    /// from one of these (RGB, YCgCo, unspecified: taken as BT.601, as swscale and browsers do).
    static func weights(_ space: AVColorSpace) -> (kr: Double, kb: Double)? {
        switch space {
        case AVCOL_SPC_BT709: return (0.2126, 0.0722)
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: return (0.2627, 0.0593)
        case AVCOL_SPC_SMPTE240M: return (0.212, 0.087)
        case AVCOL_SPC_FCC: return (0.30, 0.11)
        default: return nil
        }
    }

    /// The conversion from `space` into BT.601, or nil when there is nothing to convert.
    init?(from space: AVColorSpace) {
        guard let (kr, kb) = MatrixConversion.weights(space) else { return nil }
        let (tr, tb) = (0.299, 0.114)
        // Source chroma (Pb, Pr in [-0.5, 0.5]) to R'G'B' differences from Y', then into the target's Y', Pb, Pr.
        let kg = 1 - kr - kb
        let rPr = 2 * (1 - kr), bPb = 2 * (1 - kb)
        let gPb = -kb * bPb / kg, gPr = -kr * rPr / kg
        let tg = 1 - tr - tb
        // Target luma change per unit of Pb and Pr (Y' itself carries over: R'=G'=B'=Y' when chroma is zero).
        let yPb = tg * gPb + tb * bPb, yPr = tr * rPr + tg * gPr
        // Target Pb = (B' - Y'out) / (2(1 - tb)), Pr = (R' - Y'out) / (2(1 - tr)).
        let cbPb = (bPb - yPb) / (2 * (1 - tb)), cbPr = (0 - yPr) / (2 * (1 - tb))
        let crPb = (0 - yPb) / (2 * (1 - tr)), crPr = (rPr - yPr) / (2 * (1 - tr))
        // Code values: luma spans 219, chroma 224.
        let one = Double(1 << MatrixConversion.shift)
        func q(_ x: Double) -> Int { Int((x * one).rounded()) }
        a = q(yPb * 219 / 224); b = q(yPr * 219 / 224)
        c = q(cbPb); d = q(cbPr); e = q(crPb); f = q(crPr)
    }

    /// Converts the `width` x `height` picture whose planes start at `planes` (even width and height).
    func apply(_ planes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, _ strides: UnsafeMutablePointer<Int32>, width: Int, height: Int) {
        guard let luma = planes[0], let cbPlane = planes[1], let crPlane = planes[2] else { return }
        let ls = Int(strides[0]), cbs = Int(strides[1]), crs = Int(strides[2])
        let round = 1 << (MatrixConversion.shift - 1), s = MatrixConversion.shift
        @inline(__always) func clamp(_ v: Int) -> UInt8 { UInt8(truncatingIfNeeded: v < 0 ? 0 : v > 255 ? 255 : v) }
        for row in 0..<(height >> 1) {
            let cbRow = cbPlane + row * cbs, crRow = crPlane + row * crs
            let top = luma + 2 * row * ls, bottom = top + ls
            for col in 0..<(width >> 1) {
                let cb = Int(cbRow[col]) - 128, cr = Int(crRow[col]) - 128
                let dy = (a * cb + b * cr + round) >> s
                cbRow[col] = clamp(128 + ((c * cb + d * cr + round) >> s))
                crRow[col] = clamp(128 + ((e * cb + f * cr + round) >> s))
                let x = 2 * col
                top[x] = clamp(Int(top[x]) + dy); top[x + 1] = clamp(Int(top[x + 1]) + dy)
                bottom[x] = clamp(Int(bottom[x]) + dy); bottom[x + 1] = clamp(Int(bottom[x + 1]) + dy)
            }
        }
    }
}
