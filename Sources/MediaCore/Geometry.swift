/// An integer rectangle on the canvas, in pixels.
public struct PixelRect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var area: Int { isEmpty ? 0 : width * height }

    public func intersection(_ other: PixelRect) -> PixelRect {
        let x0 = Swift.max(x, other.x), y0 = Swift.max(y, other.y)
        let x1 = Swift.min(maxX, other.maxX), y1 = Swift.min(maxY, other.maxY)
        return PixelRect(x: x0, y: y0, width: Swift.max(0, x1 - x0), height: Swift.max(0, y1 - y0))
    }

    public func contains(_ other: PixelRect) -> Bool {
        other.x >= x && other.y >= y && other.maxX <= maxX && other.maxY <= maxY
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

public struct PixelSize: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    public var description: String { "\(width)x\(height)" }

    /// Parses `1280x720`.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        self.init(width: w, height: h)
    }
}

/// An sRGB colour with alpha, as written in layouts (`#rrggbb`, `#rrggbbaa`, `#rgb`).
public struct RGBAColor: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8

    public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }

    public static let black = RGBAColor(r: 0, g: 0, b: 0)
    public static let white = RGBAColor(r: 255, g: 255, b: 255)

    public init?(hex text: String) {
        var digits = Substring(text)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        guard digits.allSatisfy(\.isHexDigit) else { return nil }
        let expanded: String
        switch digits.count {
        case 3, 4: expanded = digits.map { "\($0)\($0)" }.joined()
        case 6, 8: expanded = String(digits)
        default: return nil
        }
        guard let value = UInt32(expanded, radix: 16) else { return nil }
        if expanded.count == 8 {
            self.init(r: UInt8(value >> 24), g: UInt8((value >> 16) & 0xff), b: UInt8((value >> 8) & 0xff), a: UInt8(value & 0xff))
        } else {
            self.init(r: UInt8(value >> 16), g: UInt8((value >> 8) & 0xff), b: UInt8(value & 0xff))
        }
    }

    public var description: String {
        let hex = [r, g, b].map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        return a == 255 ? "#" + hex : "#" + hex + (a < 16 ? "0" : "") + String(a, radix: 16)
    }

    /// BT.601 limited-range Y'CbCr, the colour space of the H.264 output.
    public var yuv: (y: UInt8, u: UInt8, v: UInt8) {
        let rf = Double(r), gf = Double(g), bf = Double(b)
        let y = 16 + (65.481 * rf + 128.553 * gf + 24.966 * bf) / 255
        let u = 128 + (-37.797 * rf - 74.203 * gf + 112.0 * bf) / 255
        let v = 128 + (112.0 * rf - 93.786 * gf - 18.214 * bf) / 255
        func clamp(_ x: Double) -> UInt8 { UInt8(Swift.max(0, Swift.min(255, x.rounded()))) }
        return (clamp(y), clamp(u), clamp(v))
    }
}
