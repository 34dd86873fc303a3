import Foundation
import MediaCore
import Testing

/// Sources coded otherwise than the composite (limited-range BT.601) keep their colour: green 0,192,0 in BT.709
/// (coded 132,63,52 where BT.601 codes 113,72,57: off by 19) and in full range (VP9, 113,64,47: off by 10), composed
/// into a tile of the same size (swscale's plain-copy case) and into a larger one (its scaling case).
@Suite(.serialized, .timeLimit(.minutes(3))) struct SourceCodingTests {
    static let green = "00c000"

    @Test(arguments: ["bt709-green.mp4", "fullrange-green.webm"])
    func sourceCodingIsConvertedIntoTheComposites(_ fixture: String) throws {
        for (size, rect) in [("320x240", PixelRect(x: 0, y: 0, width: 320, height: 240)), ("640x480", PixelRect(x: 0, y: 0, width: 640, height: 480))] {
            let name = "coding-\(fixture.prefix(while: { $0 != "." }))-\(size)"
            let path = try compose(name, layout: "grid", inputs: [Paths.fixture(fixture)], size: size, extra: ["--crf", "10"])
            let pictures = try decodePictures(path)
            let middle = try #require(picture(at: 0.5, in: pictures), "\(name): no pictures")
            let inner = PixelRect(x: rect.width / 4, y: rect.height / 4, width: rect.width / 2, height: rect.height / 2)
            let mean = try #require(middle.meanYUV(in: inner))
            let d = distance(mean, yuv(ofHex: Self.green))
            #expect(d < 4, "\(name): Y'CbCr \(mean), expected \(yuv(ofHex: Self.green)) (off by \(d))")
        }
    }
}

/// Chroma is read where the source says it sits and written centred (as the composite's stream says): an H.264
/// source (chroma sited left) scaled 2x matches ffmpeg's scale told the same positions, and differs from ffmpeg's
/// default (both centred) at the colour edge, so the test tells them apart.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ChromaSitingTests {
    /// Row 120 of the U plane of `fixture`'s first frame scaled to 640x480 by ffmpeg (bicubic) with `positions`.
    static func ffmpegChroma(_ positions: String) throws -> [UInt8] {
        let raw = Paths.temporary("siting-\(positions.isEmpty ? "default" : "exact").yuv")
        let scale = "scale=640:480:flags=bicubic" + (positions.isEmpty ? "" : ":" + positions)
        let result = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-y", "-i", Paths.fixture("edge-red-blue.mp4"),
                             "-frames:v", "1", "-vf", scale + ",format=yuv420p", "-f", "rawvideo", raw], within: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        let row = 640 * 480 + 120 * 320
        return bytes.count >= row + 320 ? Array(bytes[row..<(row + 320)]) : []
    }

    @Test func leftSitedChromaIsMovedToTheCentre() throws {
        let path = try compose("siting", layout: "grid", inputs: [Paths.fixture("edge-red-blue.mp4")], size: "640x480", extra: ["--crf", "1"])
        let picture = try #require(try decodePictures(path).first)
        let exact = try Self.ffmpegChroma("in_h_chr_pos=0:in_v_chr_pos=128:out_h_chr_pos=128:out_v_chr_pos=128")
        let naive = try Self.ffmpegChroma("")
        try #require(exact.count == 320 && naive.count == 320)
        let columns = 152..<168   // the edge is at chroma column 160
        let ours = columns.map { Int(picture.yuv(x: 2 * $0, y: 240)?.u ?? 0) }
        let offExact = zip(ours, columns.map { Int(exact[$0]) }).map { abs($0 - $1) }.max() ?? 255
        let apart = zip(columns.map { Int(naive[$0]) }, columns.map { Int(exact[$0]) }).map { abs($0 - $1) }.max() ?? 0
        #expect(offExact <= 3, "our chroma across the edge \(ours) against ffmpeg's with the positions \(columns.map { exact[$0] })")
        #expect(apart >= 10, "ffmpeg's default siting differs at the edge by \(apart): the test tells siting apart")
    }
}
