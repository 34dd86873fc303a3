import MediaCore

/// Where an overlay item sits: a corner, an edge's middle or the centre, `margin` pixels in from the canvas
/// edges; or an absolute position (`x`, `y`) of its top-left corner.
public enum OverlayAnchor: String, Sendable, Hashable, CaseIterable {
    case topLeft = "top-left", top = "top", topRight = "top-right"
    case left = "left", center = "center", right = "right"
    case bottomLeft = "bottom-left", bottom = "bottom", bottomRight = "bottom-right"

    /// The top-left corner of a `size` box anchored on `canvas`.
    public func origin(of size: PixelSize, in canvas: PixelSize, margin: Int) -> (x: Int, y: Int) {
        let left = margin, right = canvas.width - margin - size.width, midX = (canvas.width - size.width) / 2
        let top = margin, bottom = canvas.height - margin - size.height, midY = (canvas.height - size.height) / 2
        switch self {
        case .topLeft: return (left, top)
        case .top: return (midX, top)
        case .topRight: return (right, top)
        case .left: return (left, midY)
        case .center: return (midX, midY)
        case .right: return (right, midY)
        case .bottomLeft: return (left, bottom)
        case .bottom: return (midX, bottom)
        case .bottomRight: return (right, bottom)
        }
    }
}

/// One watermark: an image (PNG or JPEG) or a line of text, placed by anchor and margin or by position.
public struct WatermarkItem: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        /// Path of the image (relative paths are relative to the watermark file).
        case image(path: String, width: Dimension?)
        /// Text; `{wallclock}` becomes the UTC time of the frame, `{recording_time}` the time since the start.
        case text(String, size: Dimension, color: RGBAColor, background: RGBAColor?, backgroundOpacity: Double)
    }
    public var content: Content
    public var anchor: OverlayAnchor
    public var margin: Int
    public var x: Dimension?
    public var y: Dimension?
    public var opacity: Double
    /// Above the tiles (the default) or under them, on the background.
    public var aboveTiles: Bool

    public var isDynamic: Bool {
        if case let .text(text, _, _, _, _) = content { return text.contains("{wallclock}") || text.contains("{recording_time}") }
        return false
    }
}

/// A watermark file (`--watermark file.json`): `{"items": [...]}`.
public struct WatermarkDocument: Sendable, Equatable {
    public var items: [WatermarkItem]
    /// The document as given (the API answers with it).
    public var source: JSONValue = .object([("items", .array([]))])
    public init(items: [WatermarkItem]) { self.items = items }

    public static func parse(bytes: [UInt8]) throws(MediaError) -> WatermarkDocument {
        let json = try OverlayDocuments.json(bytes)
        var root = try Fields(json, path: "")
        _ = root.take("$schema"); _ = root.take("description")
        guard let value = root.take("items") else { throw MediaError(.invalidLayout, "is required (a list of images and texts)", at: "items") }
        guard case let .array(list) = value else { throw MediaError(.invalidLayout, "must be an array", at: "items") }
        guard list.count <= 32 else { throw MediaError(.invalidLayout, "at most 32 items", at: "items") }
        try root.finish()
        var items: [WatermarkItem] = []
        for (i, entry) in list.enumerated() {
            var f = try Fields(entry, path: "items[\(i)]")
            let content: WatermarkItem.Content
            if let image = try f.string("image") {
                guard !image.isEmpty else { throw MediaError(.invalidLayout, "must name an image file", at: f.path("image")) }
                if f.has("text") { throw MediaError(.invalidLayout, "an item is an image or a text, not both", at: f.path("text")) }
                content = .image(path: image, width: try f.dimension("width", positive: true))
            } else if let text = try f.string("text") {
                guard !text.isEmpty, text.count <= 200 else { throw MediaError(.invalidLayout, "must be 1-200 characters", at: f.path("text")) }
                content = .text(text, size: try f.dimension("size", positive: true) ?? .pixels(24), color: try f.color("color") ?? .white,
                                background: try f.color("background"), backgroundOpacity: try f.double("background_opacity", min: 0, max: 1) ?? 0.5)
            } else {
                throw MediaError(.invalidLayout, "needs \"image\" or \"text\"", at: "items[\(i)]")
            }
            let anchorName = try f.string("anchor") ?? "top-right"
            guard let anchor = OverlayAnchor(rawValue: anchorName) else {
                throw MediaError(.invalidLayout, "must be one of \(OverlayAnchor.allCases.map(\.rawValue).joined(separator: ", "))", at: f.path("anchor"))
            }
            let x = try f.dimension("x"), y = try f.dimension("y")
            if (x == nil) != (y == nil) { throw MediaError(.invalidLayout, "give both x and y, or neither (then anchor and margin place it)", at: f.path(x == nil ? "y" : "x")) }
            let margin = try f.int("margin", min: 0, max: 4000) ?? 16
            let opacity = try f.double("opacity", min: 0, max: 1) ?? 1
            let z = try f.string("z") ?? "above"
            guard z == "above" || z == "below" else { throw MediaError(.invalidLayout, "must be \"above\" or \"below\" (the tiles)", at: f.path("z")) }
            try f.finish()
            items.append(WatermarkItem(content: content, anchor: anchor, margin: margin, x: x, y: y, opacity: opacity, aboveTiles: z == "above"))
        }
        var document = WatermarkDocument(items: items)
        document.source = json
        return document
    }
}

/// The chat overlay file (`--chat-overlay file.json`): where and how chat messages show.
public struct ChatOverlayStyle: Sendable, Hashable {
    public var x: Dimension = .percent(2)
    public var y: Dimension = .percent(50)
    public var width: Dimension = .percent(40)
    public var height: Dimension = .percent(45)
    public var font: String?
    public var size = 18
    public var color = RGBAColor.white
    public var nameColor = RGBAColor(r: 255, g: 215, b: 94)
    public var background = RGBAColor.black
    public var backgroundOpacity = 0.55
    public var maxLines = 8
    /// Seconds a message stays on screen.
    public var lifetime: Double = 30
    public var showNames = true

    public init() {}

    public static func parse(bytes: [UInt8]) throws(MediaError) -> ChatOverlayStyle {
        var f = try Fields(try OverlayDocuments.json(bytes), path: "")
        _ = f.take("$schema"); _ = f.take("description")
        var style = ChatOverlayStyle()
        if let value = f.take("region") {
            var r = try Fields(value, path: "region")
            style.x = try r.dimension("x") ?? style.x
            style.y = try r.dimension("y") ?? style.y
            style.width = try r.dimension("width", positive: true) ?? style.width
            style.height = try r.dimension("height", positive: true) ?? style.height
            try r.finish()
        }
        style.font = try f.string("font")
        style.size = try f.int("size", min: 6, max: 200) ?? style.size
        style.color = try f.color("color") ?? style.color
        style.nameColor = try f.color("name_color") ?? style.nameColor
        style.background = try f.color("background") ?? style.background
        style.backgroundOpacity = try f.double("background_opacity", min: 0, max: 1) ?? style.backgroundOpacity
        style.maxLines = try f.int("max_lines", min: 1, max: 100) ?? style.maxLines
        style.lifetime = try f.double("lifetime", min: 0.5, max: 86_400) ?? style.lifetime
        style.showNames = try f.bool("show_names") ?? style.showNames
        try f.finish()
        return style
    }
}

enum OverlayDocuments {
    static func json(_ bytes: [UInt8]) throws(MediaError) -> JSONValue {
        guard bytes.count <= 1 << 20 else { throw MediaError(.invalidLayout, "document is larger than 1 MiB") }
        do { return try JSONParser.parse(bytes) } catch { throw MediaError(.invalidLayout, "not valid JSON: \(error.description)") }
    }
}
