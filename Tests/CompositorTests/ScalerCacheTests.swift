import Codecs
@testable import Compositor
import Layout
import MediaCore
import Testing

/// A source moving between a large and a small tile (a speaker layout's switches) keeps a scaler for each size, draws
/// right in both, and a size no longer used is dropped within twice `scalerLifetime` frames.
@Suite(.timeLimit(.minutes(2))) struct ScalerCacheTests {
    static let size = PixelSize(width: 320, height: 180)

    func layout(width: String) throws -> SolvedLayout {
        let json = ##"{"name": "t", "canvas": {"background": "#000000"}, "regions": [{"id": "r", "x": 0, "y": 0, "width": "\##(width)", "height": "\##(width)", "mode": "single", "sources": ["*"], "fit": "stretch"}]}"##
        return LayoutSolver.solve(try LayoutParser.parse(json), canvas: Self.size, context: LayoutContext(sources: [SourceDescriptor(id: "a")], time: 0))
    }

    @Test func aSourceKeepsOneScalerPerTileSize() throws {
        let source = try VideoCanvas(size: PixelSize(width: 64, height: 48))
        source.fill(color: RGBAColor(hex: "40a040")!)
        let picture = try #require(source.snapshot())
        let compositor = try VideoCompositor(size: Self.size, background: .black, text: nil)
        let large = try layout(width: "100%"), small = try layout(width: "50%")
        let green = RGBAColor(hex: "40a040")!.yuv
        for round in 0..<6 {
            let solved = round % 2 == 0 ? large : small
            try compositor.render(solved, picture: { _ in picture }, name: { $0 }, state: { _ in nil })
            let rect = solved.tiles[0].rect
            let centre = try #require(compositor.canvas.yuv(x: rect.x + rect.width / 2, y: rect.y + rect.height / 2))
            #expect(abs(Int(centre.y) - Int(green.y)) <= 2 && abs(Int(centre.u) - Int(green.u)) <= 2, "round \(round): \(centre)")
        }
        #expect(compositor.scalerContextCount == 2, "one scaler per tile size")
        #expect(compositor.scalerCount == 1, "for one source")
        for _ in 0..<(2 * VideoCompositor.scalerLifetime) {   // pruned every lifetime: gone within two
            try compositor.render(small, picture: { _ in picture }, name: { $0 }, state: { _ in nil })
        }
        #expect(compositor.scalerContextCount == 1, "the large tile's scaler, unused for a while, is gone")
    }
}
