import MediaCore

/// A length given in pixels or as a percentage of the canvas side it applies to.
public enum Dimension: Sendable, Hashable {
    case pixels(Int)
    case percent(Double)

    public func resolve(in total: Int) -> Int {
        switch self {
        case let .pixels(value): value
        case let .percent(value): Int((Double(total) * value / 100).rounded(.down))
        }
    }
}

/// How a source's picture fills its tile.
public enum Fit: String, Sendable, Hashable, CaseIterable {
    /// Whole picture visible, bars in the background colour.
    case contain
    /// Tile filled, picture cropped.
    case cover
    /// Tile filled, picture distorted.
    case stretch
}

/// What a grid does with more sources than cells (Twilio's `reuse`).
public enum Overflow: String, Sendable, Hashable, CaseIterable {
    /// A source that arrives when every cell is taken is never shown.
    case none
    /// Earlier arrivals keep their cells; later ones wait for a free cell.
    case showOldest = "show-oldest"
    /// Later arrivals take the cells of earlier ones.
    case showNewest = "show-newest"
}

/// Which sources a region shows.
public enum SourceSelector: Sendable, Hashable, CustomStringConvertible {
    /// Participant id or name, `*` matching any run of characters.
    case pattern(String)
    /// The current active speaker (or the pinned participant).
    case speaker
    /// Screen-share tracks.
    case screen
    /// Everyone not shown by another region.
    case others

    public init(_ text: String) {
        switch text {
        case "@speaker": self = .speaker
        case "@screen": self = .screen
        case "@others": self = .others
        default: self = .pattern(text)
        }
    }

    public var description: String {
        switch self {
        case let .pattern(p): p
        case .speaker: "@speaker"
        case .screen: "@screen"
        case .others: "@others"
        }
    }

    public func matches(_ source: SourceDescriptor) -> Bool {
        switch self {
        case let .pattern(pattern):
            return SourceSelector.wildcard(pattern, matches: source.id) || SourceSelector.wildcard(pattern, matches: source.name)
        case .screen:
            return source.role == .screen
        case .speaker, .others:
            return false // resolved by the solver, which knows the speaker and the other regions
        }
    }

    /// Glob match where `*` stands for any run of characters (including none).
    static func wildcard(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != "*", p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

public struct Border: Sendable, Hashable {
    public var width: Int
    public var color: RGBAColor
    public init(width: Int = 0, color: RGBAColor = .white) { self.width = width; self.color = color }
}

/// A participant's name drawn on its tile.
public struct NameLabel: Sendable, Hashable {
    public enum Position: String, Sendable, Hashable, CaseIterable { case top, bottom }
    /// Text height in pixels; nil: a tenth of the tile's height, 10 to 28.
    public var size: Int?
    public var color = RGBAColor.white
    public var background = RGBAColor.black
    public var backgroundOpacity = 0.6
    public var position = Position.bottom
    public init() {}
}

/// One rectangle of the canvas that shows one source or tiles several.
public struct LayoutRegion: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable { case grid, single }
    /// Twilio regions keep Twilio's cell geometry (2 px frames, fixed grid sized by the most sources
    /// present at once); native regions re-tile to the sources present now.
    public enum Style: Sendable, Hashable { case native, twilio }

    public var id: String
    public var x: Dimension
    public var y: Dimension
    public var width: Dimension?
    public var height: Dimension?
    public var z: Int
    public var sources: [SourceSelector]
    public var excluded: [SourceSelector]
    public var mode: Mode
    public var maxRows: Int?
    public var maxColumns: Int?
    public var gap: Int
    public var cellsExcluded: [Int]
    public var overflow: Overflow
    public var fit: Fit
    public var border: Border
    public var opacity: Double
    public var style: Style
    /// Names on the tiles (off when nil).
    public var labels: NameLabel?

    public init(id: String, x: Dimension = .pixels(0), y: Dimension = .pixels(0), width: Dimension? = nil,
                height: Dimension? = nil, z: Int = 0, sources: [SourceSelector] = [.pattern("*")],
                excluded: [SourceSelector] = [], mode: Mode = .grid, maxRows: Int? = nil, maxColumns: Int? = nil,
                gap: Int = 0, cellsExcluded: [Int] = [], overflow: Overflow = .showOldest, fit: Fit = .contain,
                border: Border = Border(), opacity: Double = 1, style: Style = .native) {
        self.id = id; self.x = x; self.y = y; self.width = width; self.height = height; self.z = z
        self.sources = sources; self.excluded = excluded; self.mode = mode; self.maxRows = maxRows
        self.maxColumns = maxColumns; self.gap = gap; self.cellsExcluded = cellsExcluded; self.overflow = overflow
        self.fit = fit; self.border = border; self.opacity = opacity; self.style = style
    }
}

public struct LayoutCanvas: Sendable, Hashable {
    /// nil: the command line's size, else (Twilio form) the regions' bounding box, else 1280x720.
    public var size: PixelSize?
    public var fps: Rational?
    public var background: RGBAColor
    public var backgroundImage: String?

    public init(size: PixelSize? = nil, fps: Rational? = nil, background: RGBAColor = .black, backgroundImage: String? = nil) {
        self.size = size; self.fps = fps; self.background = background; self.backgroundImage = backgroundImage
    }
}

/// A validated layout: the native form or Twilio's `video_layout`, normalized to one model.
public struct LayoutDocument: Sendable, Equatable {
    public static let defaultSize = PixelSize(width: 1280, height: 720)
    public static let defaultFPS = Rational(30)

    public var name: String?
    public var canvas: LayoutCanvas
    public var regions: [LayoutRegion]
    public var audioSources: [SourceSelector]
    public var audioExcluded: [SourceSelector]
    /// The document as it was given, for the API to answer with.
    public var source: JSONValue

    public init(name: String? = nil, canvas: LayoutCanvas = LayoutCanvas(), regions: [LayoutRegion],
                audioSources: [SourceSelector] = [.pattern("*")], audioExcluded: [SourceSelector] = [],
                source: JSONValue = .null) {
        self.name = name; self.canvas = canvas; self.regions = regions
        self.audioSources = audioSources; self.audioExcluded = audioExcluded; self.source = source
    }

    public static func == (lhs: LayoutDocument, rhs: LayoutDocument) -> Bool {
        lhs.name == rhs.name && lhs.canvas == rhs.canvas && lhs.regions == rhs.regions
            && lhs.audioSources == rhs.audioSources && lhs.audioExcluded == rhs.audioExcluded
    }

    /// The canvas size this layout renders at, given an optional size forced by the caller.
    public func canvasSize(override: PixelSize? = nil) -> PixelSize {
        let size: PixelSize
        if let override {
            size = override
        } else if let given = canvas.size {
            size = given
        } else if regions.contains(where: { $0.style == .twilio }) {
            // Twilio: without `resolution`, the smallest canvas that holds every region.
            var w = 0, h = 0
            for region in regions {
                guard case let .pixels(x) = region.x, case let .pixels(y) = region.y else { continue }
                if case let .pixels(rw)? = region.width { w = max(w, x + rw) }
                if case let .pixels(rh)? = region.height { h = max(h, y + rh) }
            }
            size = (w > 0 && h > 0) ? PixelSize(width: w, height: h) : LayoutDocument.defaultSize
        } else {
            size = LayoutDocument.defaultSize
        }
        return PixelSize(width: max(16, size.width & ~1), height: max(16, size.height & ~1))
    }

    public func audioIncludes(_ source: SourceDescriptor) -> Bool {
        audioSources.contains { $0.matches(source) } && !audioExcluded.contains { $0.matches(source) }
    }
}
