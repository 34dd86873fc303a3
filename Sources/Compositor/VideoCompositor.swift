import Codecs
import Layout
import MediaCore
import Text

/// Draws one output frame: background, then each placed tile in z-order (skipping tiles an opaque tile
/// hides), each picture scaled straight into its rectangle with the region's fit, slates for sources with
/// no picture yet, borders. Runs on the compositor's thread only.
public final class VideoCompositor {
    public let canvas: VideoCanvas
    public var background: RGBAColor
    private var backgroundImage: VideoCanvas?
    private var scalers: [String: FrameScaler] = [:]
    private let text: TextRenderer?
    private struct LabelKey: Hashable { var text: String; var size: Int }
    private var labels: [LabelKey: AlphaMask] = [:]

    public init(size: PixelSize, background: RGBAColor, backgroundImage: VideoPicture? = nil, text: TextRenderer?) throws(MediaError) {
        canvas = try VideoCanvas(size: size)
        self.background = background
        self.text = text
        if let backgroundImage {
            let image = try VideoCanvas(size: size)
            image.fill(color: background)
            let placement = Fit.cover.placement(of: backgroundImage.size, in: PixelRect(x: 0, y: 0, width: size.width, height: size.height))
            FrameScaler().draw(backgroundImage, crop: placement.crop, into: image, destination: placement.destination)
            self.backgroundImage = image
        }
    }

    /// Tiles that some later opaque tile fully covers are not drawn at all.
    public static func visibleTiles(_ tiles: [PlacedTile]) -> [PlacedTile] {
        var visible: [PlacedTile] = []
        for (i, tile) in tiles.enumerated() {
            let hidden = tiles[(i + 1)...].contains { above in
                above.opacity >= 1 && above.rect.contains(tile.rect)
            }
            if !hidden { visible.append(tile) }
        }
        return visible
    }

    public func render(_ layout: SolvedLayout, picture: (String) -> VideoPicture?, name: (String) -> String) throws(MediaError) {
        try canvas.makeWritable()
        if let backgroundImage { canvas.copy(from: backgroundImage) } else { canvas.fill(color: background) }
        for tile in VideoCompositor.visibleTiles(layout.tiles) {
            guard let id = tile.sourceID else {
                canvas.fill(tile.rect, color: background)
                continue
            }
            let inset = (tile.border.width + 1) & ~1
            let content = PixelRect(x: tile.rect.x + inset, y: tile.rect.y + inset,
                                    width: tile.rect.width - 2 * inset, height: tile.rect.height - 2 * inset)
            if content.width >= 2, content.height >= 2 {
                if let picture = picture(id) {
                    let placement = tile.fit.placement(of: picture.size, in: content)
                    if placement.destination != content && tile.opacity >= 1 { canvas.fill(content, color: background) }
                    let scaler = scalers[id] ?? FrameScaler()
                    scalers[id] = scaler
                    if !scaler.draw(picture, crop: placement.crop, into: canvas, destination: placement.destination, opacity: tile.opacity) {
                        drawSlate(content, title: name(id))
                    }
                } else {
                    drawSlate(content, title: name(id))
                }
            }
            if tile.border.width > 0 { canvas.strokeBorder(tile.rect, width: inset, color: tile.border.color) }
        }
    }

    /// Forgets per-source state of sources that are gone.
    public func retain(sources: Set<String>) {
        scalers = scalers.filter { sources.contains($0.key) }
    }

    /// Background lifted toward grey with the name in the middle: never black or green garbage.
    func drawSlate(_ rect: PixelRect, title: String) {
        let b = background
        let slate = RGBAColor(r: UInt8((Int(b.r) + 48) * 3 / 4), g: UInt8((Int(b.g) + 48) * 3 / 4), b: UInt8((Int(b.b) + 56) * 3 / 4))
        canvas.fill(rect, color: slate)
        guard let text, !title.isEmpty else { return }
        let size = max(10, min(48, rect.height / 8))
        let line = text.fitting(title, size: size, maxWidth: rect.width - 8)
        let key = LabelKey(text: line, size: size)
        let mask: AlphaMask
        if let cached = labels[key] { mask = cached } else {
            mask = text.render(line, size: size)
            if labels.count > 256 { labels.removeAll() }
            labels[key] = mask
        }
        canvas.blend(mask, x: rect.x + (rect.width - mask.width) / 2, y: rect.y + (rect.height - mask.height) / 2,
                     color: .white, opacity: 0.9, clip: rect)
    }
}
