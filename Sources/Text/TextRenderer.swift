import CFreeType
import MediaCore

/// Renders UTF-8 text to coverage masks with FreeType. Glyphs are cached per size; a character the font
/// lacks is drawn as a hollow box. One owner thread; not Sendable.
public final class TextRenderer {
    public static let defaultFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

    private var library: FT_Library?
    private var face: FT_Face?
    public let fontPath: String
    private struct GlyphKey: Hashable { var scalar: UInt32; var size: Int }
    private struct Glyph { var mask: AlphaMask; var left: Int; var top: Int; var advance: Int }
    private var cache: [GlyphKey: Glyph] = [:]
    private var currentSize = 0

    public init(fontPath: String = TextRenderer.defaultFontPath) throws(MediaError) {
        self.fontPath = fontPath
        guard FT_Init_FreeType(&library) == 0 else { throw MediaError(.fontUnavailable, "cannot start FreeType") }
        guard FT_New_Face(library, fontPath, 0, &face) == 0, face != nil else {
            FT_Done_FreeType(library)
            library = nil
            throw MediaError(.fontUnavailable, "cannot load the font (install fonts-dejavu-core or give another font file)", at: fontPath)
        }
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    private func setSize(_ size: Int) {
        guard size != currentSize, let face else { return }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(size))
        currentSize = size
    }

    public func lineHeight(size: Int) -> Int {
        setSize(size)
        guard let face, let metrics = face.pointee.size?.pointee.metrics else { return size }
        return Int(metrics.height >> 6)
    }

    private func ascender(size: Int) -> Int {
        setSize(size)
        guard let face, let metrics = face.pointee.size?.pointee.metrics else { return size }
        return Int(metrics.ascender >> 6)
    }

    private func glyph(_ scalar: Unicode.Scalar, size: Int) -> Glyph {
        let key = GlyphKey(scalar: scalar.value, size: size)
        if let cached = cache[key] { return cached }
        setSize(size)
        var result = Glyph(mask: AlphaMask(width: 0, height: 0), left: 0, top: 0, advance: size / 3)
        if let face {
            let index = FT_Get_Char_Index(face, FT_ULong(scalar.value))
            if index == 0 && scalar.value > 0x20 {
                result = TextRenderer.missingGlyphBox(size: size)
            } else if FT_Load_Glyph(face, index, FT_Int32(FT_LOAD_RENDER)) == 0, let slot = face.pointee.glyph {
                let bitmap = slot.pointee.bitmap
                var mask = AlphaMask(width: Int(bitmap.width), height: Int(bitmap.rows))
                if let buffer = bitmap.buffer, bitmap.pixel_mode == UInt8(FT_PIXEL_MODE_GRAY.rawValue) {
                    let pitch = Int(bitmap.pitch)
                    for row in 0..<mask.height {
                        for col in 0..<mask.width { mask[col, row] = buffer[row * pitch + col] }
                    }
                }
                result = Glyph(mask: mask, left: Int(slot.pointee.bitmap_left), top: Int(slot.pointee.bitmap_top),
                               advance: Int(slot.pointee.advance.x >> 6))
            }
        }
        if cache.count > 4096 { cache.removeAll(keepingCapacity: true) }
        cache[key] = result
        return result
    }

    private static func missingGlyphBox(size: Int) -> Glyph {
        let w = max(4, size / 2), h = max(6, size * 2 / 3)
        var mask = AlphaMask(width: w, height: h)
        for x in 0..<w { mask[x, 0] = 255; mask[x, h - 1] = 255 }
        for y in 0..<h { mask[0, y] = 255; mask[w - 1, y] = 255 }
        return Glyph(mask: mask, left: 1, top: h, advance: w + 2)
    }

    /// Width in pixels of one line of text.
    public func measure(_ text: String, size: Int) -> Int {
        text.unicodeScalars.reduce(0) { $0 + glyph($1, size: size).advance }
    }

    /// One line of text as a mask, `lineHeight` high.
    public func render(_ text: String, size: Int) -> AlphaMask {
        let width = max(1, measure(text, size: size))
        let height = max(1, lineHeight(size: size))
        let baseline = ascender(size: size)
        var mask = AlphaMask(width: width, height: height)
        var penX = 0
        for scalar in text.unicodeScalars {
            let g = glyph(scalar, size: size)
            let originX = penX + g.left, originY = baseline - g.top
            for row in 0..<g.mask.height {
                let y = originY + row
                guard y >= 0, y < height else { continue }
                for col in 0..<g.mask.width {
                    let x = originX + col
                    guard x >= 0, x < width else { continue }
                    let v = g.mask[col, row]
                    if v > mask[x, y] { mask[x, y] = v }
                }
            }
            penX += g.advance
        }
        return mask
    }

    /// Shortens `text` with an ellipsis until it fits `maxWidth`.
    public func fitting(_ text: String, size: Int, maxWidth: Int) -> String {
        if measure(text, size: size) <= maxWidth { return text }
        var scalars = Array(text.unicodeScalars)
        while !scalars.isEmpty {
            scalars.removeLast()
            var s = String.UnicodeScalarView(); s.append(contentsOf: scalars); s.append("…")
            let candidate = String(s)
            if measure(candidate, size: size) <= maxWidth { return candidate }
        }
        return ""
    }
}
