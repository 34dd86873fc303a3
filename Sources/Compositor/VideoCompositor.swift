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
    /// What the last frame painted where; when the next is the same, the background and bars are still there.
    private struct Paint: Equatable { var tile: PixelRect; var picture: PixelRect?; var border: Border }
    private var lastPaint: [Paint] = []
    private var plan: [Paint] = []

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
        let buffer = canvas.bufferIdentity
        try canvas.makeWritable()
        let tiles = VideoCompositor.visibleTiles(layout.tiles)
        // Every opaque picture is redrawn each frame; the background, bars and borders only when the geometry
        // changed (or the encoder kept our buffer and we were handed a fresh one).
        plan.removeAll(keepingCapacity: true)
        var translucent = false
        for tile in tiles {
            translucent = translucent || tile.opacity < 1
            let content = VideoCompositor.content(of: tile)
            let placed = tile.sourceID.flatMap(picture).map { tile.fit.placement(of: $0.size, in: content).destination }
            plan.append(Paint(tile: tile.rect, picture: placed, border: tile.border))
        }
        let repaint = translucent || plan != lastPaint || buffer != canvas.bufferIdentity
        swap(&plan, &lastPaint)
        if repaint {
            if let backgroundImage { canvas.copy(from: backgroundImage) } else { canvas.fill(color: background) }
        }
        for tile in tiles {
            guard let id = tile.sourceID else {
                if repaint { canvas.fill(tile.rect, color: background) }
                continue
            }
            let inset = (tile.border.width + 1) & ~1
            let content = VideoCompositor.content(of: tile)
            if content.width >= 2, content.height >= 2 {
                if let picture = picture(id) {
                    let placement = tile.fit.placement(of: picture.size, in: content)
                    if repaint && placement.destination != content && tile.opacity >= 1 { canvas.fill(content, color: background) }
                    let scaler = scalers[id] ?? FrameScaler()
                    scalers[id] = scaler
                    if !scaler.draw(picture, crop: placement.crop, into: canvas, destination: placement.destination, opacity: tile.opacity) {
                        drawSlate(content, title: name(id))
                    }
                } else {
                    drawSlate(content, title: name(id))
                }
            }
            if repaint && tile.border.width > 0 { canvas.strokeBorder(tile.rect, width: inset, color: tile.border.color) }
        }
    }

    static func content(of tile: PlacedTile) -> PixelRect {
        let inset = (tile.border.width + 1) & ~1
        return PixelRect(x: tile.rect.x + inset, y: tile.rect.y + inset, width: tile.rect.width - 2 * inset, height: tile.rect.height - 2 * inset)
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
