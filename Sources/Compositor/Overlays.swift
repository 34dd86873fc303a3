import Codecs
import Layout
import MediaCore
import Text
#if canImport(Glibc)
import Glibc
#endif

/// Something drawn on every output frame besides the tiles. Runs on the compositor's thread only.
public protocol FrameOverlay: AnyObject {
    /// Over the tiles, or on the background under them.
    var aboveTiles: Bool { get }
    /// `time`: from the start of the recording; `wallclock`: seconds since 1970 of the same frame.
    func draw(on canvas: VideoCanvas, time: Microseconds, wallclock: Double)
}

/// A solid box blended at an opacity (the mask is kept: one allocation per box size).
final class TranslucentBox {
    private var mask = AlphaMask(width: 0, height: 0)

    func draw(_ rect: PixelRect, on canvas: VideoCanvas, color: RGBAColor, opacity: Double) {
        guard rect.width > 0, rect.height > 0, opacity > 0 else { return }
        if opacity >= 1 { canvas.fill(rect, color: color); return }
        if mask.width != rect.width || mask.height != rect.height {
            mask = AlphaMask(width: rect.width, height: rect.height, pixels: [UInt8](repeating: 255, count: rect.width * rect.height))
        }
        canvas.blend(mask, x: rect.x, y: rect.y, color: color, opacity: opacity)
    }
}

/// One watermark item: an image scaled once to its size, or a text line re-rendered only when it changes.
public final class WatermarkOverlay: FrameOverlay {
    public let item: WatermarkItem
    public var aboveTiles: Bool { item.aboveTiles }
    private let image: OverlayImage?
    private let text: TextRenderer?
    private let box = TranslucentBox()
    private var rendered: (text: String, mask: AlphaMask)?

    /// `image`: the decoded picture of an image item; `text`: the renderer for a text item.
    public init(item: WatermarkItem, image: VideoPicture?, text: TextRenderer?) {
        self.item = item; self.image = image.map(OverlayImage.init); self.text = text
    }

    /// Where an item of `size` goes on `canvas`.
    public static func placement(of item: WatermarkItem, size: PixelSize, canvas: PixelSize) -> PixelRect {
        var origin: (x: Int, y: Int)
        if let x = item.x, let y = item.y {
            origin = (x.resolve(in: canvas.width), y.resolve(in: canvas.height))
        } else {
            origin = item.anchor.origin(of: size, in: canvas, margin: item.margin)
        }
        return PixelRect(x: origin.x & ~1, y: origin.y & ~1, width: size.width, height: size.height)
    }

    /// The size an image item is drawn at: its own, or its `width` (pixels or % of the canvas width) with the aspect
    /// kept; odd sizes stay odd (only the corner is placed on even coordinates, for 4:2:0 chroma).
    public static func imageSize(_ picture: PixelSize, width: Dimension?, canvas: PixelSize) -> PixelSize {
        let w = max(1, min(canvas.width, width?.resolve(in: canvas.width) ?? picture.width))
        let h = max(1, min(canvas.height, Int((Double(w) * Double(picture.height) / Double(max(1, picture.width))).rounded())))
        return PixelSize(width: w, height: h)
    }

    public func draw(on canvas: VideoCanvas, time: Microseconds, wallclock: Double) {
        switch item.content {
        case let .image(_, width):
            guard let image else { return }
            let size = WatermarkOverlay.imageSize(image.picture.size, width: width, canvas: canvas.size)
            let rect = WatermarkOverlay.placement(of: item, size: size, canvas: canvas.size)
            canvas.blend(image, in: rect, opacity: item.opacity)
        case let .text(template, size, color, background, backgroundOpacity):
            guard let text else { return }
            let line = WatermarkOverlay.expand(template, time: time, wallclock: wallclock)
            if rendered?.text != line {
                rendered = (line, text.render(line, size: max(6, size.resolve(in: canvas.size.width))))
            }
            guard let mask = rendered?.mask else { return }
            let pad = background == nil ? 0 : max(2, mask.height / 6) & ~1
            let rect = WatermarkOverlay.placement(of: item, size: PixelSize(width: mask.width + 2 * pad, height: mask.height + 2 * pad), canvas: canvas.size)
            if let background { box.draw(rect, on: canvas, color: background, opacity: backgroundOpacity * item.opacity) }
            canvas.blend(mask, x: rect.x + pad, y: rect.y + pad, color: color, opacity: item.opacity)
        }
    }

    /// `{recording_time}` as H:MM:SS, `{wallclock}` as `YYYY-MM-DD HH:MM:SS UTC`.
    public static func expand(_ template: String, time: Microseconds, wallclock: Double) -> String {
        var out = template
        if out.contains("{recording_time}") {
            let s = max(0, time / 1_000_000)
            out = out.replacing("{recording_time}", with: "\(s / 3600):\(two((s / 60) % 60)):\(two(s % 60))")
        }
        if out.contains("{wallclock}") {
            var seconds = time_t(wallclock)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let date = "\(parts.tm_year + 1900)-\(two(Int64(parts.tm_mon + 1)))-\(two(Int64(parts.tm_mday)))"
            out = out.replacing("{wallclock}", with: "\(date) \(two(Int64(parts.tm_hour))):\(two(Int64(parts.tm_min))):\(two(Int64(parts.tm_sec))) UTC")
        }
        return out
    }

    private static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// Chat messages in a box: newest at the bottom, long ones wrapped, each gone after the style's lifetime.
public final class ChatOverlay: FrameOverlay {
    public struct Message: Sendable {
        public var from: String; public var text: String; public var time: Microseconds
        public init(from: String, text: String, time: Microseconds) { self.from = from; self.text = text; self.time = time }
    }
    public let style: ChatOverlayStyle
    public var aboveTiles: Bool { true }
    private let text: TextRenderer
    private let box = TranslucentBox()
    private var messages: [Message] = []
    private struct Line: Equatable { var name: String; var text: String }
    private var masks: [String: AlphaMask] = [:]

    public init(style: ChatOverlayStyle, text: TextRenderer) {
        self.style = style; self.text = text
    }

    public func add(_ message: Message) {
        messages.append(message)
        if messages.count > 200 { messages.removeFirst(messages.count - 200) }
    }

    public func region(in canvas: PixelSize) -> PixelRect {
        let x = style.x.resolve(in: canvas.width) & ~1, y = style.y.resolve(in: canvas.height) & ~1
        return PixelRect(x: x, y: y, width: min(canvas.width - x, style.width.resolve(in: canvas.width)) & ~1,
                         height: min(canvas.height - y, style.height.resolve(in: canvas.height)) & ~1)
    }

    /// Words wrapped into lines no wider than `width` (a word longer than a line is cut by characters).
    static func wrap(_ message: String, prefixWidth: Int, width: Int, measure: (String) -> Int) -> [String] {
        var lines: [String] = [], current = ""
        var available = width - prefixWidth
        for word in message.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let candidate = current.isEmpty ? word : current + " " + word
            if measure(candidate) <= available { current = candidate; continue }
            if !current.isEmpty { lines.append(current); available = width; current = "" }
            var piece = ""
            for character in word {
                if measure(piece + String(character)) > available, !piece.isEmpty {
                    lines.append(piece); available = width; piece = ""
                }
                piece.append(character)
            }
            current = piece
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    private func mask(_ line: String) -> AlphaMask {
        if let cached = masks[line] { return cached }
        let rendered = text.render(line, size: style.size)
        if masks.count > 512 { masks.removeAll() }
        masks[line] = rendered
        return rendered
    }

    /// The newest messages' lines, newest last, cut to what fits.
    private func lines(of visible: ArraySlice<Message>, width: Int, maxLines: Int) -> [Line] {
        var lines: [Line] = []
        for message in visible.reversed() {
            let name = style.showNames && !message.from.isEmpty ? message.from + ": " : ""
            let wrapped = ChatOverlay.wrap(message.text, prefixWidth: name.isEmpty ? 0 : text.measure(name, size: style.size),
                                           width: width, measure: { self.text.measure($0, size: self.style.size) })
            var block = wrapped.enumerated().map { Line(name: $0.offset == 0 ? name : "", text: $0.element) }
            if lines.count + block.count > maxLines { block = Array(block.suffix(maxLines - lines.count)) }
            lines.insert(contentsOf: block, at: 0)
            if lines.count >= maxLines { break }
        }
        return lines
    }

    /// The wrapped lines of the messages on screen: computed again only when that set or the region changes.
    private struct LinesKey: Equatable { var count: Int; var first: Microseconds; var last: Microseconds; var area: PixelRect }
    private var linesKey: LinesKey?
    private var cachedLines: [Line] = []

    public func draw(on canvas: VideoCanvas, time: Microseconds, wallclock: Double) {
        let lifetime = Microseconds(style.lifetime * 1_000_000)
        if let expired = messages.firstIndex(where: { time - $0.time < lifetime }), expired > 0 { messages.removeFirst(expired) }
        else if let last = messages.last, time - last.time >= lifetime { messages.removeAll() }
        // Messages come in time order: those on screen are a prefix.
        let shown = messages.firstIndex { $0.time > time } ?? messages.count
        guard shown > 0 else { return }
        let area = region(in: canvas.size)
        let pad = max(4, style.size / 3), lineHeight = text.lineHeight(size: style.size)
        let width = area.width - 2 * pad
        guard width > style.size, area.height > lineHeight + 2 * pad else { return }
        let key = LinesKey(count: shown, first: messages[0].time, last: messages[shown - 1].time, area: area)
        if key != linesKey {
            linesKey = key
            cachedLines = lines(of: messages[..<shown], width: width, maxLines: min(style.maxLines, (area.height - 2 * pad) / lineHeight))
        }
        let lines = cachedLines
        let height = (lines.count * lineHeight + 2 * pad + 1) & ~1
        let boxRect = PixelRect(x: area.x, y: area.maxY - height, width: area.width, height: height)
        box.draw(boxRect, on: canvas, color: style.background, opacity: style.backgroundOpacity)
        for (i, line) in lines.enumerated() {
            let y = boxRect.y + pad + i * lineHeight
            var x = boxRect.x + pad
            if !line.name.isEmpty {
                let nameMask = mask(line.name)
                canvas.blend(nameMask, x: x, y: y, color: style.nameColor, clip: boxRect)
                x += text.measure(line.name, size: style.size)
            }
            canvas.blend(mask(line.text), x: x, y: y, color: style.color, clip: boxRect)
        }
    }
}
