import MediaCore

/// One source (or a region's backdrop, when `sourceID` is nil) placed on the canvas.
public struct PlacedTile: Sendable, Hashable {
    public var sourceID: String?
    public var regionID: String
    /// Cell index inside the region's grid (0 for single regions and backdrops).
    public var cell: Int
    public var rect: PixelRect
    public var z: Int
    public var fit: Fit
    public var border: Border
    public var opacity: Double
    public var label: NameLabel?

    public init(sourceID: String?, regionID: String, cell: Int, rect: PixelRect, z: Int, fit: Fit, border: Border, opacity: Double,
                label: NameLabel? = nil) {
        self.sourceID = sourceID; self.regionID = regionID; self.cell = cell; self.rect = rect
        self.z = z; self.fit = fit; self.border = border; self.opacity = opacity; self.label = label
    }
}

/// What the solver needs to know of the room at one instant.
public struct LayoutContext: Sendable, Hashable {
    /// Every source known to the room, including those that have left (their `end` set): Twilio regions
    /// size their grid by the most sources present at once and keep each source in its cell.
    public var sources: [SourceDescriptor]
    public var time: Microseconds
    public var speaker: String?
    public var pinned: String?
    public var hidden: Set<String>

    public init(sources: [SourceDescriptor], time: Microseconds, speaker: String? = nil, pinned: String? = nil, hidden: Set<String> = []) {
        self.sources = sources; self.time = time; self.speaker = speaker; self.pinned = pinned; self.hidden = hidden
    }
}

public struct SolvedLayout: Sendable, Hashable {
    public var canvas: PixelSize
    /// In drawing order: lowest z first.
    public var tiles: [PlacedTile]

    public func tile(for sourceID: String) -> PlacedTile? { tiles.last { $0.sourceID == sourceID } }
}

/// A pure function (layout, sources, instant, canvas) → rectangles. Deterministic; every rectangle has even
/// position and size (4:2:0 chroma stays aligned); cells of one grid never overlap.
public enum LayoutSolver {
    public static func solve(_ layout: LayoutDocument, canvas: PixelSize, context: LayoutContext) -> SolvedLayout {
        // Native regions show audio-only participants as slates; Twilio's layouts place video tracks only. Sound
        // that belongs to another source's tile (a second microphone) gets none of its own.
        let visual = context.sources.filter { $0.tiled && !context.hidden.contains($0.id) }
        let speaker = resolveSpeaker(visual, context: context)

        // Regions that show "@others" are resolved last, from who the other regions did not show.
        let order = layout.regions.indices.sorted { a, b in
            let ao = layout.regions[a].sources.contains(.others), bo = layout.regions[b].sources.contains(.others)
            return ao == bo ? a < b : !ao
        }
        var shown = Set<String>()
        var tilesByRegion: [Int: [PlacedTile]] = [:]
        for index in order {
            let region = layout.regions[index]
            let rect = regionRect(region, canvas: canvas)
            guard !rect.isEmpty else { continue }
            // Roles depend on this instant: who speaks, and who the regions resolved so far show.
            let selects = { (selector: SourceSelector, source: SourceDescriptor) -> Bool in
                switch selector {
                case .speaker: source.id == speaker
                case .others: !shown.contains(source.id)
                default: selector.matches(source)
                }
            }
            let candidates = visual.filter { source in
                if region.style == .twilio && !source.hasVideo { return false }
                return region.sources.contains { selects($0, source) } && !region.excluded.contains { selects($0, source) }
            }
            var tiles: [PlacedTile]
            switch (region.style, region.mode) {
            case (.twilio, _):
                tiles = twilioTiles(region, rect: rect, canvas: canvas, candidates: candidates, time: context.time)
            case (.native, .single):
                tiles = singleTile(region, rect: rect, candidates: candidates, time: context.time, selects: selects)
            case (.native, .grid):
                tiles = nativeGridTiles(region, rect: rect, candidates: candidates, time: context.time)
            }
            for tile in tiles { if let id = tile.sourceID { shown.insert(id) } }
            tilesByRegion[index] = tiles
        }
        var ordered: [PlacedTile] = []
        for index in layout.regions.indices.sorted(by: { (layout.regions[$0].z, $0) < (layout.regions[$1].z, $1) }) {
            ordered.append(contentsOf: tilesByRegion[index] ?? [])
        }
        return SolvedLayout(canvas: canvas, tiles: ordered)
    }

    /// Pinned beats detected; with neither, the earliest camera present speaks.
    static func resolveSpeaker(_ sources: [SourceDescriptor], context: LayoutContext) -> String? {
        let present = sources.filter { $0.isPresent(at: context.time) }
        if let pinned = context.pinned, present.contains(where: { $0.id == pinned }) { return pinned }
        if let speaker = context.speaker, present.contains(where: { $0.id == speaker }) { return speaker }
        return joinOrder(present.filter { $0.role == .camera }).first?.id ?? joinOrder(present).first?.id
    }

    static func joinOrder(_ sources: [SourceDescriptor]) -> [SourceDescriptor] {
        sources.sorted { ($0.start, $0.sequence, $0.id) < ($1.start, $1.sequence, $1.id) }
    }

    public static func regionRect(_ region: LayoutRegion, canvas: PixelSize) -> PixelRect {
        let x = min(region.x.resolve(in: canvas.width), canvas.width) & ~1
        let y = min(region.y.resolve(in: canvas.height), canvas.height) & ~1
        let w = min(region.width?.resolve(in: canvas.width) ?? (canvas.width - x), canvas.width - x) & ~1
        let h = min(region.height?.resolve(in: canvas.height) ?? (canvas.height - y), canvas.height - y) & ~1
        return PixelRect(x: x, y: y, width: max(0, w), height: max(0, h))
    }

    // MARK: Grid dimensions (shared by both forms)

    /// Near-square grid for `cells` cells: as many columns as rows, or one more; then the limits.
    public static func gridDimension(cells: Int, maxRows: Int?, maxColumns: Int?) -> (rows: Int, columns: Int) {
        precondition(cells > 0)
        func unconstrained() -> (Int, Int) {
            var columns = Int(Double(cells).squareRoot())
            if columns * columns < cells { columns += 1 }
            return ((cells + columns - 1) / columns, columns)
        }
        switch (maxRows, maxColumns) {
        case (nil, nil):
            return unconstrained()
        case let (nil, maxColumns?):
            if maxColumns >= cells { return unconstrained() }
            return ((cells + maxColumns - 1) / maxColumns, maxColumns)
        case let (maxRows?, nil):
            if maxRows >= cells { return unconstrained() }
            return (maxRows, (cells + maxRows - 1) / maxRows)
        case let (maxRows?, maxColumns?):
            if maxRows * maxColumns <= cells { return (maxRows, maxColumns) }
            let (r, c) = unconstrained()
            if r <= maxRows, c <= maxColumns { return (r, c) }
            if maxRows >= maxColumns {
                let columns = min(cells, maxColumns)
                return (min(maxRows, (cells + columns - 1) / columns), columns)
            }
            let rows = min(cells, maxRows)
            return (rows, min(maxColumns, (cells + rows - 1) / rows))
        }
    }

    /// Excluded cells count as cells holding nothing, so the grid grows to keep room for the sources.
    static func cellsIncludingExcluded(sources: Int, excluded: [Int]) -> Int {
        var total = sources
        for cell in Set(excluded).sorted() {
            if cell < total { total += 1 } else { break }
        }
        return total
    }

    // MARK: Single

    static func singleTile(_ region: LayoutRegion, rect: PixelRect, candidates: [SourceDescriptor], time: Microseconds,
                           selects: (SourceSelector, SourceDescriptor) -> Bool) -> [PlacedTile] {
        let present = candidates.filter { $0.isPresent(at: time) }
        // Selector order decides: ["@screen", "@speaker"] shows a screen share when there is one.
        for selector in region.sources {
            let matching = joinOrder(present.filter { selects(selector, $0) })
            let pick = region.overflow == .showNewest ? matching.last : matching.first
            if let pick {
                return [PlacedTile(sourceID: pick.id, regionID: region.id, cell: 0, rect: rect, z: region.z,
                                   fit: region.fit, border: region.border, opacity: region.opacity, label: region.labels)]
            }
        }
        return []
    }

    // MARK: Native grid

    static func nativeGridTiles(_ region: LayoutRegion, rect: PixelRect, candidates: [SourceDescriptor], time: Microseconds) -> [PlacedTile] {
        var present = joinOrder(candidates.filter { $0.isPresent(at: time) })
        guard !present.isEmpty else { return [] }
        let excluded = Set(region.cellsExcluded)
        if let maxRows = region.maxRows, let maxColumns = region.maxColumns {
            let capacity = (0..<(maxRows * maxColumns)).count { !excluded.contains($0) }
            if present.count > capacity {
                switch region.overflow {
                case .showOldest:
                    present = Array(present.prefix(capacity))
                case .showNewest:
                    present = Array(present.suffix(capacity))
                case .none:
                    // Only sources that found a free cell when they arrived.
                    present = present.filter { source in
                        let before = candidates.filter { $0.isPresent(at: source.start) && ($0.start, $0.sequence, $0.id) < (source.start, source.sequence, source.id) }
                        return before.count < capacity
                    }
                    present = Array(present.prefix(capacity))
                }
            }
        }
        guard !present.isEmpty else { return [] }
        let cells = cellsIncludingExcluded(sources: present.count, excluded: region.cellsExcluded)
        let (rows, columns) = gridDimension(cells: cells, maxRows: region.maxRows, maxColumns: region.maxColumns)
        let gap = (region.gap + 1) & ~1
        let cellW = max(0, (rect.width - gap * (columns - 1)) / columns) & ~1
        let cellH = max(0, (rect.height - gap * (rows - 1)) / rows) & ~1
        guard cellW >= 2, cellH >= 2 else { return [] }
        let blockW = columns * cellW + (columns - 1) * gap
        let blockH = rows * cellH + (rows - 1) * gap
        let originX = rect.x + (((rect.width - blockW) / 2) & ~1)
        let originY = rect.y + (((rect.height - blockH) / 2) & ~1)

        var cellIndices: [Int] = []
        var cell = 0
        while cellIndices.count < present.count, cell < rows * columns {
            if !excluded.contains(cell) { cellIndices.append(cell) }
            cell += 1
        }
        // A partly filled last row is centred when no cell is excluded (the usual video-call look).
        let lastRowCount = cellIndices.count - (rows - 1) * columns
        let centreLastRow = excluded.isEmpty && rows > 1 && lastRowCount > 0 && lastRowCount < columns
        let lastRowShift = centreLastRow ? (((columns - lastRowCount) * (cellW + gap) / 2) & ~1) : 0

        var tiles: [PlacedTile] = []
        for (source, index) in zip(present, cellIndices) {
            let row = index / columns, column = index % columns
            let shift = (row == rows - 1) ? lastRowShift : 0
            let cellRect = PixelRect(x: originX + column * (cellW + gap) + shift, y: originY + row * (cellH + gap),
                                     width: cellW, height: cellH)
            tiles.append(PlacedTile(sourceID: source.id, regionID: region.id, cell: index, rect: cellRect, z: region.z,
                                    fit: region.fit, border: region.border, opacity: region.opacity, label: region.labels))
        }
        return tiles
    }

    // MARK: Twilio grid

    /// Twilio's cell geometry: 2-pixel frames between cells, and around the region when it is narrower
    /// (or lower) than the canvas; cell sides rounded down to even.
    static func twilioCellSpans(cells: Int, regionLength: Int, framesOnEnds: Bool) -> (length: Int, positions: [Int]) {
        let frame = 2
        let usable = regionLength - (framesOnEnds ? cells + 1 : cells - 1) * frame
        let length = max(0, usable / cells) & ~1
        let positions = (0..<cells).map { frame * (framesOnEnds ? $0 + 1 : $0) + length * $0 }
        return (length, positions)
    }

    static func maxConcurrent(_ sources: [SourceDescriptor]) -> Int {
        var events: [(Microseconds, Int)] = []
        for s in sources {
            events.append((s.start, 1))
            if let end = s.end { events.append((end, -1)) }
        }
        // At equal times, leaving comes before joining: [a, b) intervals.
        events.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var now = 0, peak = 0
        for (_, delta) in events { now += delta; peak = max(peak, now) }
        return peak
    }

    static func twilioTiles(_ region: LayoutRegion, rect: PixelRect, canvas: PixelSize, candidates: [SourceDescriptor], time: Microseconds) -> [PlacedTile] {
        var tiles = [PlacedTile(sourceID: nil, regionID: region.id, cell: 0, rect: rect, z: region.z, fit: region.fit,
                                border: Border(), opacity: 1)]
        let sources = joinOrder(candidates)
        let concurrent = maxConcurrent(sources)
        guard concurrent > 0 else { return tiles }
        let cells = cellsIncludingExcluded(sources: concurrent, excluded: region.cellsExcluded)
        let (rows, columns) = gridDimension(cells: cells, maxRows: region.maxRows, maxColumns: region.maxColumns)
        let cellCount = min(cells, rows * columns)
        let excluded = Set(region.cellsExcluded)
        let horizontal = twilioCellSpans(cells: columns, regionLength: rect.width, framesOnEnds: rect.width != canvas.width)
        let vertical = twilioCellSpans(cells: rows, regionLength: rect.height, framesOnEnds: rect.height != canvas.height)
        guard horizontal.length >= 2, vertical.length >= 2 else { return tiles }

        // Assign each source to a cell once, in order of arrival; the assignment never changes.
        var assigned = [[Int]](repeating: [], count: cellCount)
        func end(_ i: Int) -> Microseconds { sources[i].end ?? .max }
        for (i, source) in sources.enumerated() {
            let free = (0..<cellCount).first { cell in
                !excluded.contains(cell) && assigned[cell].allSatisfy { end($0) <= source.start }
            }
            if let free {
                assigned[free].append(i)
                continue
            }
            if region.overflow == .none { continue }
            let usable = (0..<cellCount).filter { !excluded.contains($0) }
            guard let soonest = usable.min(by: { a, b in
                (assigned[a].map(end).max() ?? .min, a) < (assigned[b].map(end).max() ?? .min, b)
            }) else { continue }
            assigned[soonest].append(i)
        }
        for cell in 0..<cellCount {
            let present = assigned[cell].filter { sources[$0].isPresent(at: time) }
            guard let shown = region.overflow == .showNewest ? present.last : present.first else { continue }
            let row = cell / columns, column = cell % columns
            let cellRect = PixelRect(x: rect.x + horizontal.positions[column], y: rect.y + vertical.positions[row],
                                     width: horizontal.length, height: vertical.length)
            tiles.append(PlacedTile(sourceID: sources[shown].id, regionID: region.id, cell: cell, rect: cellRect,
                                    z: region.z, fit: .contain, border: Border(), opacity: 1))
        }
        return tiles
    }
}
