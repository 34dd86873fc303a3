import Codecs
import Compositor
import Foundation
import Layout
import MediaCore
import Testing

/// Watermark images drawn as FFmpeg's `overlay` filter draws them (alpha honoured, `format=auto`): transparent,
/// palette-transparent, grey+alpha, 16-bit and odd-sized opaque PNGs and a JPEG, at their own size and scaled, over a
/// picture background; compared pixel by pixel over each image's rectangle and a 4-pixel border around it.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WatermarkExactnessTests {
    static let canvas = PixelSize(width: 640, height: 360)

    /// Runs ffmpeg, failing the test with its message if it fails.
    static func ffmpeg(_ arguments: [String]) throws {
        let output = try mcuOutput("/usr/bin/ffmpeg", ["-loglevel", "error", "-y"] + arguments)
        guard FileManager.default.fileExists(atPath: arguments.last!) else { throw MediaError(.invalidArgument, "ffmpeg failed: \(output)") }
    }

    static func firstPicture(_ path: String) throws -> VideoPicture {
        let reader = try MediaFileReader(path: path, wantAudio: false)
        var picture: VideoPicture?
        while picture == nil, reader.step(onVideo: { picture = $0 }, onAudio: { _ in }) {}
        return try #require(picture, "no picture in \(path)")
    }

    /// One 4:2:0 frame of raw video.
    struct RawFrame {
        let bytes: [UInt8], size: PixelSize
        func y(_ x: Int, _ y: Int) -> UInt8 { bytes[y * size.width + x] }
        func u(_ x: Int, _ y: Int) -> UInt8 { bytes[size.width * size.height + y * (size.width / 2) + x] }
        func v(_ x: Int, _ y: Int) -> UInt8 { bytes[size.width * size.height * 5 / 4 + y * (size.width / 2) + x] }
    }

    @Test func imagesBlendLikeFFmpegOverlay() throws {
        let folder = Paths.temporary("watermark-exact")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let size = Self.canvas
        // A busy picture background (FFmpeg's testsrc2: sharp edges, saturated colours), made by FFmpeg in 4:2:0 so
        // both sides start from the same pixels.
        try Self.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=\(size.width)x\(size.height)", "-frames:v", "1", "-pix_fmt", "yuv420p",
                         "-f", "rawvideo", folder + "/background.yuv"])
        let raw = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/background.yuv")))
        let backgroundFrame = RawFrame(bytes: raw, size: size)
        // FFmpeg's RGB blend round-trips the whole frame through RGB, which moves some background pixels by itself
        // (colours the 4:2:0 picture cannot hold come back clipped). A sample we left untouched where FFmpeg's result
        // is just that round trip is not the overlay's doing: there the background is what we compare against.
        try Self.ffmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "\(size.width)x\(size.height)", "-i", folder + "/background.yuv",
                         "-vf", "format=rgba,format=yuv420p", "-f", "rawvideo", folder + "/round-trip.yuv"])
        let roundTrip = RawFrame(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/round-trip.yuv"))), size: size)
        /// FFmpeg's value, or the background's where we left `ours` as it was and FFmpeg's is only its own round trip.
        func expected(_ ours: UInt8, _ reference: RawFrame, _ value: (RawFrame) -> UInt8) -> UInt8 {
            let theirs = value(reference), original = value(backgroundFrame)
            return ours == original && theirs == value(roundTrip) ? original : theirs
        }
        let background = try VideoCanvas(size: size)
        background.withPlanes { y, u, v, strides in
            let chroma = size.width / 2, lumaBytes = size.width * size.height
            for row in 0..<size.height { for col in 0..<size.width { y[row * strides.y + col] = raw[row * size.width + col] } }
            for row in 0..<size.height / 2 {
                for col in 0..<chroma {
                    u[row * strides.u + col] = raw[lumaBytes + row * chroma + col]
                    v[row * strides.v + col] = raw[lumaBytes * 5 / 4 + row * chroma + col]
                }
            }
        }
        // An anti-aliased disc on a transparent ground; a palette PNG with tRNS; grey+alpha; 16-bit RGBA; an opaque odd size.
        let disc = "geq=r='255':g='40+150*X/W':b='60':a='255*clip(30.5-hypot(X-W/2\\,Y-H/2)\\,0\\,1)'"
        try Self.ffmpeg(["-f", "lavfi", "-i", "color=c=black:s=81x67,format=rgba,\(disc)", "-frames:v", "1", folder + "/disc.png"])
        try Self.ffmpeg(["-i", folder + "/disc.png", "-filter_complex", "split[a][b];[a]palettegen=reserve_transparent=1[p];[b][p]paletteuse=alpha_threshold=128",
                         "-frames:v", "1", folder + "/palette.png"])
        try Self.ffmpeg(["-i", folder + "/disc.png", "-vf", "format=ya8", "-frames:v", "1", folder + "/grey.png"])
        try Self.ffmpeg(["-i", folder + "/disc.png", "-vf", "format=rgba64be", "-frames:v", "1", folder + "/deep.png"])
        // A logo as editors save them: black where transparent, so a blend that subsamples before mixing darkens the edge.
        let inside = "gt(30.5-hypot(X-W/2\\,Y-H/2)\\,0)"
        let edge = "geq=r='255*\(inside)':g='200*\(inside)':b='40*\(inside)':a='255*clip(30.5-hypot(X-W/2\\,Y-H/2)\\,0\\,1)'"
        try Self.ffmpeg(["-f", "lavfi", "-i", "color=c=black:s=81x67,format=rgba,\(edge)", "-frames:v", "1", folder + "/edge.png"])
        try Self.ffmpeg(["-f", "lavfi", "-i", "testsrc=s=97x55", "-frames:v", "1", "-pix_fmt", "rgb24", folder + "/opaque.png"])
        try Self.ffmpeg(["-f", "lavfi", "-i", "testsrc=s=97x55", "-frames:v", "1", "-pix_fmt", "yuvj420p", "-q:v", "3", folder + "/photo.jpg"])
        let formats = try ["disc.png", "edge.png", "palette.png", "grey.png", "deep.png", "opaque.png", "photo.jpg"].map { try Self.firstPicture(folder + "/" + $0).pixelFormatName }
        #expect(formats == ["rgba", "rgba", "pal8", "ya8", "rgba64be", "rgb24", "yuvj420p"], "the fixtures cover each kind: \(formats)")

        // (file, width as the document says it, where): own sizes, and scaled to 37 % of its width.
        let cases: [(file: String, width: String?, x: Int, y: Int)] = [
            ("disc.png", nil, 20, 20), ("palette.png", nil, 140, 20), ("grey.png", nil, 260, 20), ("deep.png", nil, 380, 20),
            ("opaque.png", nil, 500, 20), ("opaque.png", "\"37%\"", 20, 160), ("disc.png", "\"37%\"", 300, 160), ("photo.jpg", nil, 540, 200),
            ("edge.png", nil, 540, 100),
        ]
        for (file, width, x, y) in cases {
            let json = #"{"items": [{"image": "\#(file)", "x": \#(x), "y": \#(y)\#(width.map { ", \"width\": \($0)" } ?? "")}]}"#
            let item = try #require(WatermarkDocument.parse(bytes: Array(json.utf8)).items.first)
            let image = try Self.firstPicture(folder + "/" + file)
            guard case let .image(_, documentWidth) = item.content else { Issue.record("not an image item"); continue }
            let drawn = WatermarkOverlay.imageSize(image.size, width: documentWidth, canvas: size)
            let rect = WatermarkOverlay.placement(of: item, size: drawn, canvas: size)
            #expect(rect.x == x && rect.y == y)

            // Ours: the overlay the compositor runs, on a canvas holding the background.
            let ours = try VideoCanvas(size: size)
            ours.copy(from: background)
            WatermarkOverlay(item: item, image: image, text: nil).draw(on: ours, time: 0, wallclock: 0)

            // FFmpeg's: `overlay` with `format=auto` from the same files, the image scaled (bicubic, the default) only when
            // the document scales it. With a 4:2:0 main input FFmpeg blends in 4:2:0 (yuva420p overlay), as we do.
            let referencePath = folder + "/reference.yuv"
            try Self.ffmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "\(size.width)x\(size.height)", "-i", folder + "/background.yuv",
                             "-i", folder + "/" + file, "-filter_complex",
                             (width == nil ? "[0:v][1:v]" : "[1:v]scale=\(drawn.width):\(drawn.height)[l];[0:v][l]") + "overlay=x=\(x):y=\(y):format=auto,format=yuv420p",
                             "-frames:v", "1", "-f", "rawvideo", referencePath])
            let reference = RawFrame(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: referencePath))), size: size)

            let area = PixelRect(x: rect.x - 4, y: rect.y - 4, width: rect.width + 8, height: rect.height + 8)
                .intersection(PixelRect(x: 0, y: 0, width: size.width, height: size.height))
            var total = [0, 0, 0], worst = [0, 0, 0], count = [0, 0, 0], worstAt = [(0, 0), (0, 0), (0, 0)]
            for py in area.y..<area.maxY {
                for px in area.x..<area.maxX {
                    let o = ours.yuv(x: px, y: py)!
                    let d = abs(Int(o.y) - Int(expected(o.y, reference) { $0.y(px, py) }))
                    total[0] += d; count[0] += 1
                    if d > worst[0] { worst[0] = d; worstAt[0] = (px - rect.x, py - rect.y) }
                    guard px & 1 == 0, py & 1 == 0 else { continue }
                    let u = expected(o.u, reference) { $0.u(px / 2, py / 2) }, v = expected(o.v, reference) { $0.v(px / 2, py / 2) }
                    for (c, (a, b)) in [(o.u, u), (o.v, v)].enumerated() {
                        let d = abs(Int(a) - Int(b))
                        total[c + 1] += d; count[c + 1] += 1
                        if d > worst[c + 1] { worst[c + 1] = d; worstAt[c + 1] = (px - rect.x, py - rect.y) }
                    }
                }
            }
            let means = (0..<3).map { Double(total[$0]) / Double(max(1, count[$0])) }
            #expect(means.allSatisfy { $0 <= 2 } && worst.allSatisfy { $0 <= 12 },
                    "\(file) at \(drawn.width)x\(drawn.height): mean |Δ| Y/U/V \(means.map { decimal($0, 2) }), max \(worst) at \(worstAt) from the corner")
            // Outside that area the background is untouched.
            var changed = 0
            for py in 0..<size.height {
                for px in 0..<size.width where !area.contains(PixelRect(x: px, y: py, width: 1, height: 1)) {
                    let o = ours.yuv(x: px, y: py)!
                    if o.y != backgroundFrame.y(px, py) { changed += 1 }
                    if px & 1 == 0, py & 1 == 0, o.u != backgroundFrame.u(px / 2, py / 2) || o.v != backgroundFrame.v(px / 2, py / 2) { changed += 1 }
                }
            }
            #expect(changed == 0, "\(file): \(changed) samples changed outside the image and its border")
        }
    }
}
