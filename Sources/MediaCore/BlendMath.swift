/// FFmpeg's 8-bit alpha blend arithmetic, shared by every drawing path so they round alike.
public enum BlendMath {
    /// x / 255, rounded, for x in 0...255 * 255 (FFmpeg's FAST_DIV255).
    @inline(__always)
    public static func divide255(_ x: Int) -> Int { ((x + 128) * 257) >> 16 }

    /// `alpha` (0...255) scaled by `strength` (0...255).
    @inline(__always)
    public static func scale(_ alpha: Int, _ strength: Int) -> Int { strength == 255 ? alpha : divide255(alpha * strength) }

    /// `over` on `under` at `alpha` (0...255).
    @inline(__always)
    public static func mix(_ under: UInt8, _ over: UInt8, _ alpha: Int) -> UInt8 {
        alpha == 255 ? over : UInt8(divide255(Int(under) * (255 - alpha) + Int(over) * alpha))
    }
}
