import MediaCore

/// Reads a layout document (native or Twilio `video_layout` form), refusing anything invalid with the
/// path of the field and the reason: `regions[1].max_rows: must be ≥ 1`.
public enum LayoutParser {
    public static let maxDocumentBytes = 1 << 20
    public static let maxRegions = 64

    public static func parse(_ text: String) throws(MediaError) -> LayoutDocument {
        try parse(bytes: Array(text.utf8))
    }

    public static func parse(bytes: [UInt8]) throws(MediaError) -> LayoutDocument {
        guard bytes.count <= maxDocumentBytes else {
            throw MediaError(.invalidLayout, "document is larger than \(maxDocumentBytes) bytes")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw MediaError(.invalidLayout, "not valid JSON: \(error.description)")
        }
        return try parse(json: json)
    }

    public static func parse(json: JSONValue) throws(MediaError) -> LayoutDocument {
        var root = try Fields(json, path: "")
        var document: LayoutDocument
        if root.has("video_layout") {
            document = try parseTwilio(&root)
        } else {
            document = try parseNative(&root)
        }
        try root.finish()
        document.source = json
        return document
    }

    // MARK: Native form

    private static func parseNative(_ root: inout Fields) throws(MediaError) -> LayoutDocument {
        _ = root.take("$schema")
        _ = root.take("description")
        let name = try root.string("name")
        var canvas = LayoutCanvas()
        if let value = root.take("canvas") {
            var fields = try Fields(value, path: "canvas")
            let width = try fields.int("width", min: 16, max: 7680)
            let height = try fields.int("height", min: 16, max: 4320)
            if (width == nil) != (height == nil) {
                throw MediaError(.invalidLayout, "width and height must be given together", at: "canvas")
            }
            if let width, let height { canvas.size = PixelSize(width: width, height: height) }
            canvas.fps = try fields.rational("fps")
            if let color = try fields.color("background") { canvas.background = color }
            canvas.backgroundImage = try fields.string("background_image")
            try fields.finish()
        }
        guard let regionsValue = root.take("regions") else {
            throw MediaError(.invalidLayout, "is required", at: "regions")
        }
        guard case let .array(items) = regionsValue else {
            throw MediaError(.invalidLayout, "must be an array, not \(regionsValue.typeName)", at: "regions")
        }
        guard !items.isEmpty else { throw MediaError(.invalidLayout, "must hold at least one region", at: "regions") }
        guard items.count <= maxRegions else { throw MediaError(.invalidLayout, "at most \(maxRegions) regions", at: "regions") }
        var regions: [LayoutRegion] = []
        for (index, item) in items.enumerated() {
            var fields = try Fields(item, path: "regions[\(index)]")
            regions.append(try parseNativeRegion(&fields, index: index, canvas: canvas.size))
            try fields.finish()
        }
        var ids = Set<String>()
        for (index, region) in regions.enumerated() where !ids.insert(region.id).inserted {
            throw MediaError(.invalidLayout, "duplicate region id \"\(region.id)\"", at: "regions[\(index)].id")
        }
        var audioSources: [SourceSelector] = [.pattern("*")], audioExcluded: [SourceSelector] = []
        if let value = root.take("audio") {
            var fields = try Fields(value, path: "audio")
            if let s = try fields.selectors("sources") { audioSources = s }
            audioExcluded = try fields.selectors("exclude") ?? []
            try fields.finish()
        }
        return LayoutDocument(name: name, canvas: canvas, regions: regions,
                              audioSources: audioSources, audioExcluded: audioExcluded)
    }

    private static func parseNativeRegion(_ f: inout Fields, index: Int, canvas: PixelSize?) throws(MediaError) -> LayoutRegion {
        var region = LayoutRegion(id: try f.string("id") ?? "region\(index)")
        region.x = try f.dimension("x") ?? .pixels(0)
        region.y = try f.dimension("y") ?? .pixels(0)
        region.width = try f.dimension("width", positive: true)
        region.height = try f.dimension("height", positive: true)
        region.z = try f.int("z", min: -1000, max: 1000) ?? 0
        region.sources = try f.selectors("sources") ?? [.pattern("*")]
        region.excluded = try f.selectors("exclude") ?? []
        if let mode = try f.string("mode") {
            guard let m = LayoutRegion.Mode(rawValue: mode) else {
                throw MediaError(.invalidLayout, "must be \"grid\" or \"single\", not \"\(mode)\"", at: f.path("mode"))
            }
            region.mode = m
        }
        region.maxRows = try f.int("max_rows", min: 1, max: 1000)
        region.maxColumns = try f.int("max_columns", min: 1, max: 1000)
        region.gap = try f.int("gap", min: 0, max: 1000) ?? 0
        region.cellsExcluded = try f.intArray("cells_excluded", min: 0, max: 999_999) ?? []
        if let overflow = try f.string("overflow") {
            guard let o = Overflow(rawValue: overflow) else {
                throw MediaError(.invalidLayout, "must be one of show-oldest, show-newest, none; not \"\(overflow)\"", at: f.path("overflow"))
            }
            region.overflow = o
        }
        if let fit = try f.string("fit") {
            guard let value = Fit(rawValue: fit) else {
                throw MediaError(.invalidLayout, "must be one of contain, cover, stretch; not \"\(fit)\"", at: f.path("fit"))
            }
            region.fit = value
        }
        if let borderValue = f.take("border") {
            var b = try Fields(borderValue, path: f.path("border"))
            region.border.width = try b.int("width", min: 0, max: 100) ?? 0
            if let color = try b.color("color") { region.border.color = color }
            try b.finish()
        }
        region.opacity = try f.double("opacity", min: 0, max: 1) ?? 1
        if let value = f.take("labels") {
            switch value {
            case let .bool(on): region.labels = on ? NameLabel() : nil
            case .object:
                var l = try Fields(value, path: f.path("labels"))
                var label = NameLabel()
                label.size = try l.int("size", min: 6, max: 200)
                label.color = try l.color("color") ?? label.color
                label.background = try l.color("background") ?? label.background
                label.backgroundOpacity = try l.double("background_opacity", min: 0, max: 1) ?? label.backgroundOpacity
                if let position = try l.string("position") {
                    guard let p = NameLabel.Position(rawValue: position) else {
                        throw MediaError(.invalidLayout, "must be \"top\" or \"bottom\", not \"\(position)\"", at: l.path("position"))
                    }
                    label.position = p
                }
                try l.finish()
                region.labels = label
            default:
                throw MediaError(.invalidLayout, "must be true, false or an object (size, color, background, background_opacity, position)", at: f.path("labels"))
            }
        }
        try checkPlacement(region, canvas: canvas, path: f.basePath)
        return region
    }

    // MARK: Twilio form

    private static func parseTwilio(_ root: inout Fields) throws(MediaError) -> LayoutDocument {
        let name = try root.string("name")
        var canvas = LayoutCanvas()
        if let resolution = try root.string("resolution") {
            guard let size = PixelSize(parsing: resolution), (16...7680).contains(size.width), (16...4320).contains(size.height) else {
                throw MediaError(.invalidLayout, "must be WIDTHxHEIGHT between 16x16 and 7680x4320, not \"\(resolution)\"", at: "resolution")
            }
            canvas.size = size
        }
        if let format = try root.string("format"), !["mp4", "webm"].contains(format) {
            throw MediaError(.invalidLayout, "must be \"mp4\" or \"webm\"", at: "format")
        }
        _ = try root.bool("trim")
        let audioSources = try root.selectors("audio_sources") ?? [.pattern("*")]
        let audioExcluded = try root.selectors("audio_sources_excluded") ?? []
        guard case let .object(entries)? = root.take("video_layout") else {
            throw MediaError(.invalidLayout, "must be an object mapping region names to regions", at: "video_layout")
        }
        guard !entries.isEmpty else { throw MediaError(.invalidLayout, "must hold at least one region", at: "video_layout") }
        guard entries.count <= maxRegions else { throw MediaError(.invalidLayout, "at most \(maxRegions) regions", at: "video_layout") }
        var regions: [LayoutRegion] = []
        for (key, value) in entries {
            var f = try Fields(value, path: "video_layout.\(key)")
            var region = LayoutRegion(id: key, style: .twilio)
            region.x = .pixels(try f.int("x_pos", min: 0, max: 7680) ?? 0)
            region.y = .pixels(try f.int("y_pos", min: 0, max: 4320) ?? 0)
            region.z = try f.int("z_pos", min: -99, max: 99) ?? 0
            region.width = try f.int("width", min: 16, max: 7680).map { .pixels($0) }
            region.height = try f.int("height", min: 16, max: 4320).map { .pixels($0) }
            region.maxColumns = try f.int("max_columns", min: 1, max: 1000)
            region.maxRows = try f.int("max_rows", min: 1, max: 1000)
            region.cellsExcluded = try f.intArray("cells_excluded", min: 0, max: 999_999) ?? []
            if let reuse = try f.string("reuse") {
                switch reuse {
                case "none": region.overflow = .none
                case "show_oldest": region.overflow = .showOldest
                case "show_newest": region.overflow = .showNewest
                default:
                    throw MediaError(.invalidLayout, "must be one of none, show_oldest, show_newest; not \"\(reuse)\"", at: f.path("reuse"))
                }
            }
            region.sources = try f.selectors("video_sources") ?? []
            region.excluded = try f.selectors("video_sources_excluded") ?? []
            region.fit = .contain
            region.border = Border(width: 0, color: .black)
            try f.finish()
            try checkPlacement(region, canvas: canvas.size, path: "video_layout.\(key)")
            regions.append(region)
        }
        return LayoutDocument(name: name, canvas: canvas, regions: regions,
                              audioSources: audioSources, audioExcluded: audioExcluded)
    }

    private static func checkPlacement(_ region: LayoutRegion, canvas: PixelSize?, path: String) throws(MediaError) {
        guard let canvas else { return }
        let x = region.x.resolve(in: canvas.width), y = region.y.resolve(in: canvas.height)
        let xKey = region.style == .twilio ? "x_pos" : "x", yKey = region.style == .twilio ? "y_pos" : "y"
        if x >= canvas.width { throw MediaError(.invalidLayout, "must be inside the \(canvas.width)-pixel-wide canvas", at: "\(path).\(xKey)") }
        if y >= canvas.height { throw MediaError(.invalidLayout, "must be inside the \(canvas.height)-pixel-high canvas", at: "\(path).\(yKey)") }
        if let w = region.width?.resolve(in: canvas.width), x + w > canvas.width {
            throw MediaError(.invalidLayout, "\(xKey) + width (\(x + w)) exceeds the canvas width \(canvas.width)", at: "\(path).width")
        }
        if let h = region.height?.resolve(in: canvas.height), y + h > canvas.height {
            throw MediaError(.invalidLayout, "\(yKey) + height (\(y + h)) exceeds the canvas height \(canvas.height)", at: "\(path).height")
        }
    }
}

/// The fields of one JSON object, taken one by one; whatever is left at the end is an unknown field.
struct Fields {
    private var entries: [(String, JSONValue)]
    let basePath: String

    init(_ value: JSONValue, path: String) throws(MediaError) {
        guard case let .object(entries) = value else {
            throw MediaError(.invalidLayout, "must be an object, not \(value.typeName)", at: path.isEmpty ? "(document)" : path)
        }
        self.entries = entries
        self.basePath = path
    }

    func path(_ key: String) -> String { basePath.isEmpty ? key : "\(basePath).\(key)" }

    func has(_ key: String) -> Bool { entries.contains { $0.0 == key } }

    mutating func take(_ key: String) -> JSONValue? {
        guard let index = entries.firstIndex(where: { $0.0 == key }) else { return nil }
        let value = entries[index].1
        entries.remove(at: index)
        if case .null = value { return nil }
        return value
    }

    func finish() throws(MediaError) {
        if let (key, _) = entries.first {
            throw MediaError(.invalidLayout, "unknown field", at: path(key))
        }
    }

    mutating func string(_ key: String) throws(MediaError) -> String? {
        guard let value = take(key) else { return nil }
        guard case let .string(s) = value else { throw MediaError(.invalidLayout, "must be a string, not \(value.typeName)", at: path(key)) }
        return s
    }

    mutating func bool(_ key: String) throws(MediaError) -> Bool? {
        guard let value = take(key) else { return nil }
        guard case let .bool(b) = value else { throw MediaError(.invalidLayout, "must be true or false, not \(value.typeName)", at: path(key)) }
        return b
    }

    mutating func double(_ key: String, min: Double, max: Double) throws(MediaError) -> Double? {
        guard let value = take(key) else { return nil }
        guard case let .number(n) = value else { throw MediaError(.invalidLayout, "must be a number, not \(value.typeName)", at: path(key)) }
        guard n >= min, n <= max else { throw MediaError(.invalidLayout, "must be between \(min) and \(max)", at: path(key)) }
        return n
    }

    static func integer(_ value: JSONValue, min: Int, max: Int, path: String) throws(MediaError) -> Int {
        guard case let .number(n) = value else { throw MediaError(.invalidLayout, "must be an integer, not \(value.typeName)", at: path) }
        guard n == n.rounded(), abs(n) < 1e9 else { throw MediaError(.invalidLayout, "must be an integer", at: path) }
        let i = Int(n)
        if i < min { throw MediaError(.invalidLayout, "must be ≥ \(min)", at: path) }
        if i > max { throw MediaError(.invalidLayout, "must be ≤ \(max)", at: path) }
        return i
    }

    mutating func int(_ key: String, min: Int, max: Int) throws(MediaError) -> Int? {
        guard let value = take(key) else { return nil }
        return try Fields.integer(value, min: min, max: max, path: path(key))
    }

    mutating func intArray(_ key: String, min: Int, max: Int) throws(MediaError) -> [Int]? {
        guard let value = take(key) else { return nil }
        guard case let .array(items) = value else { throw MediaError(.invalidLayout, "must be an array of integers", at: path(key)) }
        guard items.count <= 10_000 else { throw MediaError(.invalidLayout, "too many entries", at: path(key)) }
        var out: [Int] = []
        for (i, item) in items.enumerated() {
            out.append(try Fields.integer(item, min: min, max: max, path: "\(path(key))[\(i)]"))
        }
        return out
    }

    mutating func selectors(_ key: String) throws(MediaError) -> [SourceSelector]? {
        guard let value = take(key) else { return nil }
        guard case let .array(items) = value else { throw MediaError(.invalidLayout, "must be an array of strings", at: path(key)) }
        guard items.count <= 1000 else { throw MediaError(.invalidLayout, "too many entries", at: path(key)) }
        var out: [SourceSelector] = []
        for (i, item) in items.enumerated() {
            guard case let .string(s) = item, !s.isEmpty else {
                throw MediaError(.invalidLayout, "must be a non-empty string", at: "\(path(key))[\(i)]")
            }
            if s.hasPrefix("@"), !["@speaker", "@screen", "@others"].contains(s) {
                throw MediaError(.invalidLayout, "unknown role \"\(s)\" (roles: @speaker, @screen, @others)", at: "\(path(key))[\(i)]")
            }
            out.append(SourceSelector(s))
        }
        return out
    }

    mutating func color(_ key: String) throws(MediaError) -> RGBAColor? {
        guard let text = try string(key) else { return nil }
        guard let color = RGBAColor(hex: text) else {
            throw MediaError(.invalidLayout, "must be a colour like \"#1a2b3c\", not \"\(text)\"", at: path(key))
        }
        return color
    }

    mutating func rational(_ key: String) throws(MediaError) -> Rational? {
        guard let value = take(key) else { return nil }
        let rate: Rational?
        switch value {
        case let .number(n): rate = abs(n) < 1e6 ? Rational(parsing: n == n.rounded() ? String(Int(n)) : String(n)) : nil
        case let .string(s): rate = Rational(parsing: s)
        default: rate = nil
        }
        guard let rate, rate.doubleValue >= 1, rate.doubleValue <= 120 else {
            throw MediaError(.invalidLayout, "must be a frame rate between 1 and 120 (30, 29.97 or \"30000/1001\")", at: path(key))
        }
        return rate
    }

    mutating func dimension(_ key: String, positive: Bool = false) throws(MediaError) -> Dimension? {
        guard let value = take(key) else { return nil }
        switch value {
        case let .number(n):
            let i = try Fields.integer(.number(n), min: positive ? 1 : 0, max: 7680, path: path(key))
            return .pixels(i)
        case let .string(s):
            if s.hasSuffix("%"), let p = Double(s.dropLast()), p.isFinite {
                guard p >= 0, p <= 100, !(positive && p == 0) else {
                    throw MediaError(.invalidLayout, "percentage must be \(positive ? "above 0" : "from 0") up to 100", at: path(key))
                }
                return .percent(p)
            }
            if s.hasSuffix("px"), let i = Int(s.dropLast(2)), i >= (positive ? 1 : 0), i <= 7680 { return .pixels(i) }
            throw MediaError(.invalidLayout, "must be pixels (640 or \"640px\") or a percentage (\"50%\"), not \"\(s)\"", at: path(key))
        default:
            throw MediaError(.invalidLayout, "must be pixels or a percentage string, not \(value.typeName)", at: path(key))
        }
    }
}
