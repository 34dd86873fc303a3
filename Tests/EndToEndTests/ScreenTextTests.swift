import Compositor
import Foundation
import Layout
import MediaCore
import Testing

/// Small text in a screen share stays legible in the presentation layout: a 1920x1080 slide of 22 px text shown at
/// about half size (11 px glyphs). Legibility is measured as edge contrast — the mean luma step between neighbouring
/// pixels over the slide — against the same slide scaled losslessly with lanczos. Measured when set: bicubic 0.912
/// of the reference (0.914 composed and encoded at CRF 18), bilinear 0.732; the floor is 0.90, so a softer scaler fails.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ScreenTextTests {
    static let floor = 0.90
    static let slide = Paths.fixture("slide-text-1920x1080.mp4")
    static let canvas = PixelSize(width: 1280, height: 720)

    /// Mean |horizontal step| + |vertical step| of luma over a `width` x `height` picture (inset by 4 % each side).
    static func edgeContrast(width: Int, height: Int, _ luma: (Int, Int) -> Int) -> Double {
        let x0 = width / 25, y0 = height / 25, x1 = width - x0 - 1, y1 = height - y0 - 1
        var sum = 0, count = 0
        for y in y0..<y1 {
            for x in x0..<x1 {
                let here = luma(x, y)
                sum += abs(luma(x + 1, y) - here) + abs(luma(x, y + 1) - here)
                count += 1
            }
        }
        return Double(sum) / Double(max(count, 1))
    }

    /// The slide's first frame scaled to `size` by ffmpeg's lanczos: its luma plane (limited range, as the composite's).
    static func reference(_ size: PixelSize) throws -> (Int, Int) -> Int {
        let raw = Paths.temporary("slide-reference-\(size.width)x\(size.height).yuv")
        let result = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-y", "-i", slide, "-frames:v", "1", "-vf",
                             "scale=\(size.width):\(size.height):flags=lanczos+accurate_rnd,format=yuv420p", "-f", "rawvideo", raw], within: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        guard bytes.count >= size.width * size.height else { return { _, _ in 0 } }
        return { x, y in Int(bytes[y * size.width + x]) }
    }

    /// Where the presentation layout puts a 1920x1080 screen share on the canvas.
    static func screenPlacement(role: SourceDescriptor.Role) throws -> (SolvedLayout, PixelRect) {
        let layout = try #require(LayoutPresets.document(named: "presentation"))
        let sources = [SourceDescriptor(id: "slide", name: "Slides", role: role), SourceDescriptor(id: "cam", name: "Cam")]
        let solved = LayoutSolver.solve(layout, canvas: canvas, context: LayoutContext(sources: sources, time: 0))
        let tile = try #require(solved.tiles.first { $0.sourceID == "slide" }, "the slide has a tile")
        return (solved, tile.fit.placement(of: PixelSize(width: 1920, height: 1080), in: tile.rect).destination)
    }

    /// A live room's compositor (the real-time default kernel) draws the slide as a screen share; as a camera in the
    /// same tile it would get the cheaper kernel, which must fall below the floor (the measure tells them apart).
    @Test func liveScreenShareTextKeepsItsEdges() throws {
        let picture = try #require(try decodePictures(Self.slide).first)
        var scores: [SourceDescriptor.Role: Double] = [:]
        for role in [SourceDescriptor.Role.screen, .camera] {
            let (solved, placement) = try Self.screenPlacement(role: role)
            let compositor = try VideoCompositor(size: Self.canvas, background: .black, text: nil)
            if role == .screen { compositor.sharpSources = ["slide"] }
            try compositor.render(solved, picture: { $0 == "slide" ? picture : nil }, name: { $0 }, state: { _ in nil })
            let ours = Self.edgeContrast(width: placement.width, height: placement.height) { x, y in
                Int(compositor.canvas.yuv(x: placement.x + x, y: placement.y + y)?.y ?? 0)
            }
            let reference = Self.edgeContrast(width: placement.width, height: placement.height, try Self.reference(PixelSize(width: placement.width, height: placement.height)))
            scores[role] = ours / reference
        }
        print("screen text edge contrast against lanczos: screen share \(scores[.screen]!), camera kernel \(scores[.camera]!)")
        #expect(scores[.screen]! >= Self.floor, "a live screen share's text: \(scores[.screen]!) of the reference's edge contrast")
        #expect(scores[.camera]! < Self.floor, "the cheaper kernel scores \(scores[.camera]!): the floor tells it apart")
    }

    /// `compose` with the slide as a screen share: the glyphs survive scaling and encoding.
    @Test func composedScreenShareTextKeepsItsEdges() throws {
        let path = try compose("screen-text", layout: "presentation", inputs: ["file=\(Self.slide),role=screen,name=Slides", Paths.fixture("colour-ff0000.webm")],
                               size: "1280x720", extra: ["--crf", "18"])
        let picture = try #require(try decodePictures(path).first)
        let (_, placement) = try Self.screenPlacement(role: .screen)
        let ours = Self.edgeContrast(width: placement.width, height: placement.height) { x, y in
            Int(picture.yuv(x: placement.x + x, y: placement.y + y)?.y ?? 0)
        }
        let score = ours / Self.edgeContrast(width: placement.width, height: placement.height, try Self.reference(PixelSize(width: placement.width, height: placement.height)))
        print("composed screen text edge contrast against lanczos: \(score)")
        #expect(score >= Self.floor, "the composed slide's text: \(score) of the reference's edge contrast")
    }
}
