/// An 8-bit coverage image (rendered text, shapes) to be blended onto a canvas in one colour.
public struct AlphaMask: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Row-major, `width * height` bytes; 255 is fully covered.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]? = nil) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.pixels = pixels ?? [UInt8](repeating: 0, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }
}
