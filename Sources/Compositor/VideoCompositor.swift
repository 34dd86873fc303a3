import Codecs
import Layout
import MediaCore
import Text
#if canImport(Glibc)
import Glibc
#endif

/// Draws one output frame: background, then each placed tile in z-order (skipping tiles an opaque tile
/// hides), each picture scaled straight into its rectangle with the region's fit, slates for sources with
/// no picture yet, borders. Runs on the compositor's thread only.
public final class VideoCompositor {
    public let canvas: VideoCanvas
    public var background: RGBAColor
    private var backgroundImage: VideoCanvas?
    /// One scaler per source and tile size: a source that moves between a large and a small tile (speaker layouts)
    /// keeps both swscale contexts instead of rebuilding one at each switch. Pruned every `scalerLifetime` frames of
    /// those unused as long.
    private struct ScalerKey: Hashable { var source: String; var width: Int; var height: Int }
    private struct Scaler { let scaler: FrameScaler; var lastUsed: Int }
    private var scalers: [ScalerKey: Scaler] = [:]
    private var renders = 0
    static let scalerLifetime = 300
    /// Bicubic tiles (composing files, where the picture is what counts); bilinear in live rooms. Set before the first frame.
    public var sharpScaling = false
    /// Sources scaled bicubic whatever `sharpScaling` says (screen shares: text). Set before their first frame.
    public var sharpSources: Set<String> = []
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

    /// A source that left for good: its scalers (and their swscale contexts) go, and its kernel choice.
    public func forget(_ id: String) {
        scalers = scalers.filter { $0.key.source != id }
        sharpSources.remove(id)
    }
    /// Sources with a scaler now (tests: departed ones are forgotten).
    var scalerCount: Int { Set(scalers.keys.map(\.source)).count }
    /// Scalers kept, one per source and tile size (tests).
    var scalerContextCount: Int { scalers.count }

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

    /// `state`: why a source shows its slate ("camera off"…), drawn under its name; `overlays` go on top of the
    /// tiles (or under them), at `time` from the start of the recording.
    public func render(_ layout: SolvedLayout, picture: (String) -> VideoPicture?, name: (String) -> String,
                       state: (String) -> String? = { _ in nil }, overlays: [any FrameOverlay] = [], time: Microseconds = 0) throws(MediaError) {
        let buffer = canvas.bufferIdentity
        try canvas.makeWritable()
        let tiles = VideoCompositor.visibleTiles(layout.tiles)
        // Every opaque picture is redrawn each frame; the background, bars and borders only when the geometry
        // changed (or the encoder kept our buffer and we were handed a fresh one).
        plan.removeAll(keepingCapacity: true)
        var translucent = false
        for tile in tiles {
            // Translucent tiles and name labels (which may overlap the bars) blend over what is under them.
            translucent = translucent || tile.opacity < 1 || tile.label != nil
            let content = VideoCompositor.content(of: tile)
            let placed = tile.sourceID.flatMap(picture).map { tile.fit.placement(of: $0.size, in: content).destination }
            plan.append(Paint(tile: tile.rect, picture: placed, border: tile.border))
        }
        // Overlays blend onto what is under them: redraw everything under them each frame, or they would
        // accumulate over the previous frame's copy.
        let repaint = translucent || !overlays.isEmpty || plan != lastPaint || buffer != canvas.bufferIdentity
        swap(&plan, &lastPaint)
        let wallclock = overlays.isEmpty ? 0 : VideoCompositor.wallclock()
        if repaint {
            if let backgroundImage { canvas.copy(from: backgroundImage) } else { canvas.fill(color: background) }
            for overlay in overlays where !overlay.aboveTiles { overlay.draw(on: canvas, time: time, wallclock: wallclock) }
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
                    let key = ScalerKey(source: id, width: placement.destination.width, height: placement.destination.height)
                    let scaler = scalers[key]?.scaler ?? FrameScaler(sharp: sharpScaling || sharpSources.contains(id))
                    scalers[key] = Scaler(scaler: scaler, lastUsed: renders)
                    if !scaler.draw(picture, crop: placement.crop, into: canvas, destination: placement.destination, opacity: tile.opacity) {
                        drawSlate(content, title: name(id), state: state(id))
                    } else if let label = tile.label {
                        // On the picture itself, not on the bars around it.
                        drawLabel(name(id), style: label, in: placement.destination.intersection(content))
                    }
                } else {
                    drawSlate(content, title: name(id), state: state(id))
                }
            }
            if repaint && tile.border.width > 0 { canvas.strokeBorder(tile.rect, width: inset, color: tile.border.color) }
        }
        for overlay in overlays where overlay.aboveTiles { overlay.draw(on: canvas, time: time, wallclock: wallclock) }
        renders += 1
        if renders % VideoCompositor.scalerLifetime == 0 {
            scalers = scalers.filter { renders - $0.value.lastUsed < VideoCompositor.scalerLifetime }
        }
    }

    static func wallclock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func content(of tile: PlacedTile) -> PixelRect {
        let inset = (tile.border.width + 1) & ~1
        return PixelRect(x: tile.rect.x + inset, y: tile.rect.y + inset, width: tile.rect.width - 2 * inset, height: tile.rect.height - 2 * inset)
    }

    /// Forgets per-source state of sources that are gone.
    public func retain(sources: Set<String>) {
        scalers = scalers.filter { sources.contains($0.key.source) }
    }

    /// Background lifted toward grey with the name in the middle: never black or green garbage.
    func drawSlate(_ rect: PixelRect, title: String, state: String? = nil) {
        let b = background
        let slate = RGBAColor(r: UInt8((Int(b.r) + 48) * 3 / 4), g: UInt8((Int(b.g) + 48) * 3 / 4), b: UInt8((Int(b.b) + 56) * 3 / 4))
        canvas.fill(rect, color: slate)
        guard let text, !title.isEmpty else { return }
        let size = max(10, min(48, rect.height / 8))
        let mask = label(title, size: size, width: rect.width - 8, text: text)
        let stateMask = state.flatMap { rect.height >= 4 * size ? label($0, size: max(8, size / 2), width: rect.width - 8, text: text) : nil }
        let y = rect.y + (rect.height - mask.height - (stateMask.map { $0.height + size / 3 } ?? 0)) / 2
        canvas.blend(mask, x: rect.x + (rect.width - mask.width) / 2, y: y, color: .white, opacity: 0.9, clip: rect)
        if let stateMask {
            canvas.blend(stateMask, x: rect.x + (rect.width - stateMask.width) / 2, y: y + mask.height + size / 3,
                         color: RGBAColor(r: 200, g: 200, b: 200), opacity: 0.9, clip: rect)
        }
    }

    private let labelBox = TranslucentBox()

    /// The participant's name in a box at the bottom (or top) left of its picture.
    func drawLabel(_ title: String, style: NameLabel, in rect: PixelRect) {
        guard let text, !title.isEmpty else { return }
        let size = style.size ?? max(10, min(28, rect.height / 10))
        let pad = max(2, size / 4) & ~1
        guard rect.width > 4 * pad + size, rect.height > size + 4 * pad else { return }
        let mask = label(title, size: size, width: rect.width - 4 * pad, text: text)
        let box = PixelRect(x: rect.x + pad, y: style.position == .top ? rect.y + pad : rect.maxY - pad - (mask.height + 2 * pad),
                            width: (mask.width + 2 * pad + 1) & ~1, height: (mask.height + 2 * pad + 1) & ~1)
        labelBox.draw(box, on: canvas, color: style.background, opacity: style.backgroundOpacity)
        canvas.blend(mask, x: box.x + pad, y: box.y + pad, color: style.color, clip: box)
    }

    private func label(_ title: String, size: Int, width: Int, text: TextRenderer) -> AlphaMask {
        let line = text.fitting(title, size: size, maxWidth: width)
        let key = LabelKey(text: line, size: size)
        if let cached = labels[key] { return cached }
        let mask = text.render(line, size: size)
        if labels.count > 256 { labels.removeAll() }
        labels[key] = mask
        return mask
    }
}
