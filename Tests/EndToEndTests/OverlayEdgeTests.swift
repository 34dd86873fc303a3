import Codecs
import Compositor
import Foundation
import Layout
import MediaCore
import Testing
import Text

/// Keeps the last frame the engine hands it.
private final class LastFrame: CompositeSink {
    var picture: VideoPicture?
    func takes(frame index: Int64) -> Bool { true }
    func write(frame index: Int64, canvas: VideoCanvas) throws(MediaError) { picture = canvas.snapshot(time: index) }
    func write(audioLeft left: ArraySlice<Float>, right: ArraySlice<Float>) throws(MediaError) {}
}

/// Tiles, slates, name labels, a text watermark and the chat box touch nothing outside their own rectangles, at
/// canvas sizes whose rows are not multiples of 16 (where swscale writes whole blocks past a row's end).
@Suite(.timeLimit(.minutes(3))) struct OverlayEdgeTests {
    static func picture(_ size: PixelSize, _ hex: String) throws -> VideoPicture {
        let canvas = try VideoCanvas(size: size)
        canvas.fill(color: RGBAColor(hex: hex)!)
        // A stripe so scaling has edges to smear.
        canvas.fill(PixelRect(x: size.width / 3, y: 0, width: 6, height: size.height), color: RGBAColor(hex: "ffffff")!)
        return try #require(canvas.snapshot())
    }

    @Test(arguments: [PixelSize(width: 1278, height: 718), PixelSize(width: 718, height: 1278), PixelSize(width: 720, height: 1280)])
    func drawingStaysInsideEachElement(canvas size: PixelSize) throws {
        let layout = try LayoutParser.parse(##"{"name": "edges", "canvas": {"background": "#2050a0"}, "regions": [{"id": "grid", "x": 10, "y": 14, "width": "83%", "height": "71%", "gap": 6, "labels": true, "sources": ["*"]}]}"##)
        let sink = LastFrame()
        let text = try TextRenderer()
        let engine = try CompositionEngine(layout: layout, canvasSize: size, fps: Rational(25), sinks: [sink], text: text)
        let names = ["Ann Wide", "Bo", "Slate Person"]
        for (i, name) in names.enumerated() {
            engine.add(CompositionEngine.Source(descriptor: SourceDescriptor(id: "p\(i)", name: name, start: 0, hasVideo: i < 2, hasAudio: false, sequence: i),
                                                buffer: SourceBuffer(mode: .live)))
        }
        let mark = try #require(WatermarkDocument.parse(bytes: Array(##"{"items": [{"text": "REC 0:00:01", "anchor": "top-right", "margin": 7, "size": 17, "color": "#ffffff", "background": "#000000", "background_opacity": 0.6}]}"##.utf8)).items.first)
        let style = try ChatOverlayStyle.parse(bytes: Array(#"{"region": {"x": 5, "y": "80%", "width": "45%", "height": "15%"}, "size": 15}"#.utf8))
        let chat = ChatOverlay(style: style, text: text)
        chat.add(ChatOverlay.Message(from: "Zoë", text: "edges stay clean", time: 0))
        engine.overlays = [WatermarkOverlay(item: mark, image: nil, text: text), chat]
        try engine.tick(time: 40_000, pictures: ["p0": try Self.picture(PixelSize(width: 334, height: 188), "c04040"),
                                                  "p1": try Self.picture(PixelSize(width: 640, height: 480), "40c040")])
        let frame = try #require(sink.picture)
        let solved = try #require(engine.lastSolved)
        #expect(solved.tiles.count == 3)

        // Where each element may draw: the tiles (slate and label inside), the text box, the chat region.
        var allowed = solved.tiles.map(\.rect)
        let mask = text.render("REC 0:00:01", size: 17)
        let pad = max(2, mask.height / 6) & ~1
        allowed.append(WatermarkOverlay.placement(of: mark, size: PixelSize(width: mask.width + 2 * pad, height: mask.height + 2 * pad), canvas: size))
        allowed.append(chat.region(in: size))
        let background = RGBAColor(hex: "2050a0")!.yuv
        func inside(_ x: Int, _ y: Int) -> Bool { allowed.contains { x >= $0.x && x < $0.maxX && y >= $0.y && y < $0.maxY } }
        var strayLuma: [(Int, Int)] = [], strayChroma: [(Int, Int)] = []
        for y in 0..<size.height {
            for x in 0..<size.width where !inside(x, y) {
                let p = frame.yuv(x: x, y: y)!
                if p.y != background.y { strayLuma.append((x, y)) }
                // A chroma sample is the background's when none of the four pixels it covers is inside an element.
                if x & 1 == 0, y & 1 == 0, !inside(x + 1, y), !inside(x, y + 1), !inside(x + 1, y + 1), p.u != background.u || p.v != background.v {
                    strayChroma.append((x, y))
                }
            }
        }
        #expect(strayLuma.isEmpty && strayChroma.isEmpty,
                "\(size): \(strayLuma.count) luma and \(strayChroma.count) chroma samples changed outside the elements, first \(strayLuma.prefix(4)) \(strayChroma.prefix(4))")
        // And the elements are really there: each tile differs from the background.
        for tile in solved.tiles {
            let mean = try #require(frame.meanYUV(in: tile.rect))
            #expect(abs(mean.y - Double(background.y)) > 3 || abs(mean.u - Double(background.u)) > 3, "tile \(tile.sourceID ?? "?") drawn")
        }
    }
}
