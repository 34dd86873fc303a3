import MediaCore

extension Fit {
    /// Where a `source`-sized picture goes inside `rect`: the part of the picture to use (`crop`, in source
    /// pixels) and where it lands (`destination`, inside `rect`). Offsets are even so 4:2:0 chroma stays aligned.
    public func placement(of source: PixelSize, in rect: PixelRect) -> (crop: PixelRect, destination: PixelRect) {
        let full = PixelRect(x: 0, y: 0, width: source.width, height: source.height)
        guard source.width > 0, source.height > 0, !rect.isEmpty else { return (full, rect) }
        switch self {
        case .stretch:
            return (full, rect)
        case .contain:
            let scale = min(Double(rect.width) / Double(source.width), Double(rect.height) / Double(source.height))
            let w = min(rect.width, max(2, Int((Double(source.width) * scale).rounded()) & ~1))
            let h = min(rect.height, max(2, Int((Double(source.height) * scale).rounded()) & ~1))
            let x = rect.x + (((rect.width - w) / 2) & ~1)
            let y = rect.y + (((rect.height - h) / 2) & ~1)
            return (full, PixelRect(x: x, y: y, width: w, height: h))
        case .cover:
            let scale = max(Double(rect.width) / Double(source.width), Double(rect.height) / Double(source.height))
            let cw = min(source.width, max(2, Int((Double(rect.width) / scale).rounded())))
            let ch = min(source.height, max(2, Int((Double(rect.height) / scale).rounded())))
            let cx = ((source.width - cw) / 2) & ~1
            let cy = ((source.height - ch) / 2) & ~1
            return (PixelRect(x: cx, y: cy, width: cw, height: ch), rect)
        }
    }
}
