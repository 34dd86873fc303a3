import Codecs
import Compositor
import Layout
import MediaCore
import Testing
import Text

@Suite(.timeLimit(.minutes(2))) struct PresentationTests {
    static let size = PixelSize(width: 320, height: 180)

    func render(layout: String, state: String? = nil, pictureAge: Bool = true) throws -> VideoCanvas {
        let source = try VideoCanvas(size: Self.size)
        source.fill(color: RGBAColor(hex: "40a040")!)
        let picture = try #require(source.snapshot())
        let compositor = try VideoCompositor(size: Self.size, background: .black, text: try TextRenderer())
        let solved = LayoutSolver.solve(try LayoutParser.parse(layout), canvas: Self.size,
                                        context: LayoutContext(sources: [SourceDescriptor(id: "p", name: "Eve")], time: 0))
        try compositor.render(solved, picture: { _ in pictureAge ? picture : nil }, name: { _ in "Eve Example" }, state: { _ in state })
        return compositor.canvas
    }

    func spread(_ canvas: VideoCanvas, _ rect: PixelRect) -> Int {
        var low = 255, high = 0
        for y in rect.y..<rect.maxY { for x in rect.x..<rect.maxX { if let v = canvas.yuv(x: x, y: y)?.y { low = min(low, Int(v)); high = max(high, Int(v)) } } }
        return high - low
    }

    @Test func nameLabelsShowOnlyWhenTheRegionAsks() throws {
        let corner = PixelRect(x: 2, y: 140, width: 100, height: 38)
        let plain = try render(layout: #"{"regions": [{"id": "a", "sources": ["*"], "fit": "stretch"}]}"#)
        #expect(spread(plain, corner) < 8, "no label: the picture only")
        let labelled = try render(layout: #"{"regions": [{"id": "a", "sources": ["*"], "fit": "stretch", "labels": true}]}"#)
        #expect(spread(labelled, corner) > 100, "a label with the name at the bottom left")
        let top = try render(layout: #"{"regions": [{"id": "a", "sources": ["*"], "fit": "stretch", "labels": {"position": "top", "size": 14}}]}"#)
        #expect(spread(top, PixelRect(x: 2, y: 2, width: 100, height: 30)) > 100 && spread(top, corner) < 8)
    }

    @Test func aSlateShowsTheNameAndTheState() throws {
        let slate = try render(layout: #"{"regions": [{"id": "a", "sources": ["*"]}]}"#, state: "video stopped", pictureAge: false)
        // Name in the middle, state below it: text in both bands, not the participant's green.
        #expect(spread(slate, PixelRect(x: 40, y: 60, width: 240, height: 30)) > 100)
        #expect(spread(slate, PixelRect(x: 40, y: 95, width: 240, height: 30)) > 60)
        let middle = try #require(slate.yuv(x: 4, y: 90))
        #expect(abs(Int(middle.y) - Int(RGBAColor(hex: "40a040")!.yuv.y)) > 20)
    }

    @Test func layoutLabelErrorsNameTheField() {
        #expect(throws: MediaError.self) { try LayoutParser.parse(#"{"regions": [{"id": "a", "labels": {"position": "left"}}]}"#) }
        do { _ = try LayoutParser.parse(#"{"regions": [{"id": "a", "labels": 3}]}"#) } catch { #expect(error.location == "regions[0].labels") }
    }
}
