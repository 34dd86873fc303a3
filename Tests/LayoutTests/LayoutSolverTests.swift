import Layout
import MediaCore
import Testing

func sources(_ n: Int, start: Microseconds = 0) -> [SourceDescriptor] {
    (0..<n).map { SourceDescriptor(id: "s\($0)", start: start, sequence: $0) }
}

let hd = PixelSize(width: 1280, height: 720)

@Suite(.timeLimit(.minutes(2))) struct GridDimensionTests {
    // Hisui's documentation of Twilio's rules.
    @Test(arguments: [
        (1, nil, nil, 1, 1), (2, nil, nil, 1, 2), (3, nil, nil, 2, 2), (4, nil, nil, 2, 2), (5, nil, nil, 2, 3),
        (7, nil, nil, 3, 3), (9, nil, nil, 3, 3), (10, nil, nil, 3, 4), (16, nil, nil, 4, 4),
        (5, nil, 2, 3, 2), (5, 2, 2, 2, 2), (5, 1, nil, 1, 5), (3, 2, 2, 2, 2), (2, 3, 3, 1, 2),
    ] as [(Int, Int?, Int?, Int, Int)])
    func dimensions(cells: Int, maxRows: Int?, maxColumns: Int?, rows: Int, columns: Int) {
        let d = LayoutSolver.gridDimension(cells: cells, maxRows: maxRows, maxColumns: maxColumns)
        #expect(d.rows == rows && d.columns == columns, "\(cells) cells, max \(String(describing: maxRows))x\(String(describing: maxColumns)) → \(d)")
    }
}

@Suite(.timeLimit(.minutes(2))) struct TwilioRegionTests {
    func solve(_ json: String, _ sources: [SourceDescriptor], at time: Microseconds = 0) throws -> SolvedLayout {
        let layout = try LayoutParser.parse(json)
        return LayoutSolver.solve(layout, canvas: layout.canvasSize(), context: LayoutContext(sources: sources, time: time))
    }

    @Test func cellGeometryFollowsTwilio() throws {
        // 640x480 region on a 1920x1080 canvas, 2x2: 2 px frames all round, (640-4-2)/2 = 317 → 316, (480-4-2)/2 = 237 → 236.
        let solved = try solve(#"{"resolution":"1920x1080","video_layout":{"main":{"width":640,"height":480,"max_columns":2,"max_rows":2,"video_sources":["*"]}}}"#, sources(4))
        let cells = solved.tiles.filter { $0.sourceID != nil }.map(\.rect)
        #expect(cells == [
            PixelRect(x: 2, y: 2, width: 316, height: 236), PixelRect(x: 320, y: 2, width: 316, height: 236),
            PixelRect(x: 2, y: 240, width: 316, height: 236), PixelRect(x: 320, y: 240, width: 316, height: 236),
        ])
    }

    @Test func fullCanvasRegionHasNoOuterFrame() throws {
        // 5 sources → 2 rows x 3 columns; (1280 - 2*2)/3 = 425 → 424; (720 - 2)/2 = 359 → 358.
        let solved = try solve(#"{"resolution":"1280x720","video_layout":{"grid":{"video_sources":["*"]}}}"#, sources(5))
        let cells = solved.tiles.filter { $0.sourceID != nil }
        #expect(cells.map(\.sourceID) == ["s0", "s1", "s2", "s3", "s4"])
        #expect(cells.map(\.rect) == [
            PixelRect(x: 0, y: 0, width: 424, height: 358), PixelRect(x: 426, y: 0, width: 424, height: 358),
            PixelRect(x: 852, y: 0, width: 424, height: 358), PixelRect(x: 0, y: 360, width: 424, height: 358),
            PixelRect(x: 426, y: 360, width: 424, height: 358),
        ])
        #expect(solved.tiles.first?.sourceID == nil, "the region's backdrop comes first")
    }

    @Test func excludedCellsStayEmpty() throws {
        // Hisui's example: 3 sources, max 2x2, cells_excluded [1, 5, 8] → user1 | (excluded) / user2 | user3.
        let solved = try solve(#"{"resolution":"1280x720","video_layout":{"main":{"max_rows":2,"max_columns":2,"cells_excluded":[1,5,8],"video_sources":["*"]}}}"#, sources(3))
        let cells = solved.tiles.filter { $0.sourceID != nil }
        #expect(cells.map(\.cell) == [0, 2, 3])
        #expect(cells.map(\.sourceID) == ["s0", "s1", "s2"])
    }

    // Hisui's reuse timeline: A 2–12 s, B 5–15 s, C 0–20 s, one row of two cells.
    func reuseTimeline(_ reuse: String, at seconds: Double) throws -> [String?] {
        let s = [
            SourceDescriptor(id: "A", start: 2_000_000, end: 12_000_000, sequence: 0),
            SourceDescriptor(id: "B", start: 5_000_000, end: 15_000_000, sequence: 1),
            SourceDescriptor(id: "C", start: 0, end: 20_000_000, sequence: 2),
        ]
        let solved = try solve(#"{"resolution":"1280x720","video_layout":{"main":{"max_rows":1,"max_columns":2,"reuse":"\#(reuse)","video_sources":["*"]}}}"#,
                               s, at: Microseconds(seconds * 1e6))
        var cells: [String?] = [nil, nil]
        for tile in solved.tiles where tile.sourceID != nil { cells[tile.cell] = tile.sourceID }
        return cells
    }

    @Test func reuseNone() throws {
        #expect(try reuseTimeline("none", at: 1) == ["C", nil])
        #expect(try reuseTimeline("none", at: 3) == ["C", "A"])
        #expect(try reuseTimeline("none", at: 6) == ["C", "A"])
        #expect(try reuseTimeline("none", at: 13) == ["C", nil])
    }

    @Test func reuseShowOldest() throws {
        #expect(try reuseTimeline("show_oldest", at: 6) == ["C", "A"])
        #expect(try reuseTimeline("show_oldest", at: 13) == ["C", "B"])
        #expect(try reuseTimeline("show_oldest", at: 16) == ["C", nil])
    }

    @Test func reuseShowNewest() throws {
        #expect(try reuseTimeline("show_newest", at: 3) == ["C", "A"])
        #expect(try reuseTimeline("show_newest", at: 6) == ["C", "B"])
        #expect(try reuseTimeline("show_newest", at: 13) == ["C", "B"])
    }

    @Test func excludedSourcesAndZOrder() throws {
        let layout = #"{"resolution":"1280x720","video_layout":{"pip":{"z_pos":2,"x_pos":1000,"y_pos":30,"width":240,"height":180,"video_sources":["presenter"]},"main":{"z_pos":1,"video_sources":["*"],"video_sources_excluded":["presenter"]}}}"#
        let s = [SourceDescriptor(id: "presenter", sequence: 0), SourceDescriptor(id: "guest", sequence: 1)]
        let solved = try solve(layout, s)
        let placed = solved.tiles.filter { $0.sourceID != nil }
        #expect(placed.map(\.sourceID) == ["guest", "presenter"], "z order: main (1) below pip (2)")
        #expect(placed.last?.rect == PixelRect(x: 1002, y: 32, width: 236, height: 176))
    }
}

@Suite(.timeLimit(.minutes(2))) struct NativeRegionTests {
    @Test func gridInvariantsHoldForManySizes() throws {
        let layout = try #require(LayoutPresets.document(named: "grid"))
        for canvas in [hd, PixelSize(width: 1920, height: 1080), PixelSize(width: 640, height: 360), PixelSize(width: 720, height: 1280), PixelSize(width: 642, height: 482)] {
            for n in 1...30 {
                let solved = LayoutSolver.solve(layout, canvas: canvas, context: LayoutContext(sources: sources(n), time: 0))
                #expect(solved.tiles.count == n)
                for (i, a) in solved.tiles.enumerated() {
                    #expect(a.rect.x % 2 == 0 && a.rect.y % 2 == 0 && a.rect.width % 2 == 0 && a.rect.height % 2 == 0)
                    #expect(PixelRect(x: 0, y: 0, width: canvas.width, height: canvas.height).contains(a.rect))
                    for b in solved.tiles[(i + 1)...] { #expect(a.rect.intersection(b.rect).isEmpty, "\(n) on \(canvas): \(a.rect) overlaps \(b.rect)") }
                }
            }
        }
    }

    @Test func gridRetilesOnJoinAndLeave() throws {
        let layout = try #require(LayoutPresets.document(named: "grid"))
        let s = [SourceDescriptor(id: "a", start: 0, end: 10_000_000, sequence: 0), SourceDescriptor(id: "b", start: 5_000_000, sequence: 1)]
        #expect(LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: s, time: 1_000_000)).tiles.map(\.rect) == [PixelRect(x: 0, y: 0, width: 1280, height: 720)])
        #expect(LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: s, time: 6_000_000)).tiles.count == 2)
        #expect(LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: s, time: 11_000_000)).tiles.map(\.sourceID) == ["b"])
    }

    @Test func overflowPolicies() throws {
        func shown(_ overflow: String) throws -> [String?] {
            let layout = try LayoutParser.parse(#"{"regions":[{"max_rows":1,"max_columns":2,"overflow":"\#(overflow)"}]}"#)
            let s = [SourceDescriptor(id: "a", start: 0, sequence: 0), SourceDescriptor(id: "b", start: 1, sequence: 1), SourceDescriptor(id: "c", start: 2, sequence: 2)]
            return LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: s, time: 5)).tiles.map(\.sourceID)
        }
        #expect(try shown("show-oldest") == ["a", "b"])
        #expect(try shown("show-newest") == ["b", "c"])
        #expect(try shown("none") == ["a", "b"])
    }

    @Test func speakerPresetPutsSpeakerLargeAndOthersInStrip() throws {
        let layout = try #require(LayoutPresets.document(named: "speaker"))
        let solved = LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: sources(4), time: 0, speaker: "s2"))
        let big = try #require(solved.tile(for: "s2"))
        #expect(big.regionID == "speaker")
        #expect(Set(solved.tiles.filter { $0.regionID == "strip" }.compactMap(\.sourceID)) == ["s0", "s1", "s3"])
        // Pinned beats the detected speaker.
        let pinned = LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: sources(4), time: 0, speaker: "s2", pinned: "s1"))
        #expect(pinned.tile(for: "s1")?.regionID == "speaker")
    }

    @Test func presentationPrefersScreenShare() throws {
        let layout = try #require(LayoutPresets.document(named: "presentation"))
        var s = sources(3)
        s[2].role = .screen
        let solved = LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: s, time: 0))
        #expect(solved.tile(for: "s2")?.regionID == "screen")
        #expect(solved.tiles.filter { $0.regionID == "cameras" }.count == 2)
    }

    @Test func pipInsetIsAboveMain() throws {
        let layout = try #require(LayoutPresets.document(named: "pip"))
        let solved = LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: sources(2), time: 0))
        #expect(solved.tiles.map(\.regionID) == ["main", "inset"])
        #expect(solved.tiles.last?.border.width == 2)
    }

    @Test func hiddenSourcesAreNotPlaced() throws {
        let layout = try #require(LayoutPresets.document(named: "grid"))
        let solved = LayoutSolver.solve(layout, canvas: hd, context: LayoutContext(sources: sources(3), time: 0, hidden: ["s1"]))
        #expect(solved.tiles.map(\.sourceID) == ["s0", "s2"])
    }
}

@Suite(.timeLimit(.minutes(2))) struct FitTests {
    let cell = PixelRect(x: 100, y: 50, width: 640, height: 360)

    @Test func containLetterboxes() {
        let p = Fit.contain.placement(of: PixelSize(width: 640, height: 480), in: cell)
        #expect(p.destination == PixelRect(x: 180, y: 50, width: 480, height: 360))
        #expect(p.crop == PixelRect(x: 0, y: 0, width: 640, height: 480))
    }

    @Test func coverCrops() {
        let p = Fit.cover.placement(of: PixelSize(width: 640, height: 480), in: cell)
        #expect(p.destination == cell)
        #expect(p.crop == PixelRect(x: 0, y: 60, width: 640, height: 360))
    }

    @Test func oddSourcesStayAligned() {
        for w in [321, 99, 1281] {
            for h in [241, 77, 719] {
                for fit in Fit.allCases {
                    let p = fit.placement(of: PixelSize(width: w, height: h), in: cell)
                    #expect(cell.contains(p.destination))
                    #expect(p.destination.x % 2 == 0 && p.destination.y % 2 == 0 && p.destination.width % 2 == 0 && p.destination.height % 2 == 0)
                    #expect(p.crop.x % 2 == 0 && p.crop.y % 2 == 0 && p.crop.maxX <= w && p.crop.maxY <= h)
                }
            }
        }
    }
}
