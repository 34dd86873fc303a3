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
