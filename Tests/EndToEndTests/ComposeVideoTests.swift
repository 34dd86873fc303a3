import Codecs
import Foundation
import Layout
import MediaCore
import Testing

let canvas = PixelSize(width: 640, height: 360)

@Suite(.serialized, .timeLimit(.minutes(10))) struct ComposeVideoTests {
    @Test(arguments: [1, 2, 3, 4, 5, 9, 16])
    func gridTilesShowTheirSources(count: Int) throws {
        let colours = Array(clipColours.prefix(count))
        let files = colours.map { Paths.fixture("colour-\($0).webm") }
        let output = try compose("grid-\(count)", layout: "grid", inputs: files)
        let pictures = try decodePictures(output)
        let layout = try #require(LayoutPresets.document(named: "grid"))
        let solved = LayoutSolver.solve(layout, canvas: canvas, context: LayoutContext(sources: descriptors(files), time: 1_500_000))
        #expect(solved.tiles.count == count)
        let frame = try #require(picture(at: 1.5, in: pictures))
        for (tile, colour) in zip(solved.tiles, colours) {
            // Sources are 4:3 and `contain` keeps that: check where the picture lands inside the tile.
            let placed = tile.fit.placement(of: PixelSize(width: 640, height: 480), in: tile.rect).destination
            expectColour(frame, placed, colour, "grid of \(count), tile \(tile.sourceID ?? "-")")
        }
    }

    @Test(arguments: ["speaker", "pip", "presentation", "single"])
    func presetsPlaceSourcesWhereTheSolverSays(preset: String) throws {
        let colours = Array(clipColours.prefix(3))
        // The tones are equally loud, so nobody dominates and the speaker is the first to join.
        let files = colours.map { Paths.fixture("colour-\($0).webm") }
        let output = try compose("preset-\(preset)", layout: preset, inputs: files)
        let frame = try #require(picture(at: 0.3, in: try decodePictures(output)))
        let layout = try #require(LayoutPresets.document(named: preset))
        let solved = LayoutSolver.solve(layout, canvas: canvas, context: LayoutContext(sources: descriptors(files), time: 300_000))
        #expect(!solved.tiles.isEmpty)
        let visible = solved.tiles.filter { tile in
            !solved.tiles.drop(while: { $0 != tile }).dropFirst().contains { $0.rect.intersection(tile.rect).area > 0 }
        }
        for tile in visible {
            let index = try #require(files.firstIndex { $0.hasSuffix("\(tile.sourceID ?? "").webm") })
            let inset = (tile.border.width + 1) & ~1
            let content = PixelRect(x: tile.rect.x + inset, y: tile.rect.y + inset, width: tile.rect.width - 2 * inset, height: tile.rect.height - 2 * inset)
            let placed = tile.fit.placement(of: PixelSize(width: 640, height: 480), in: content).destination
            expectColour(frame, placed, colours[index], "\(preset): \(tile.regionID)")
        }
    }

    @Test func containLeavesBarsInBackgroundColourAndCoverLeavesNone() throws {
        let wide = Paths.fixture("wide-red.webm")
        let contain = try compose("contain", layout: ##"{"canvas":{"width":640,"height":480,"background":"#0000ff"},"regions":[{"mode":"single","fit":"contain"}]}"##,
                                  inputs: [wide], size: "640x480")
        let cover = try compose("cover", layout: ##"{"canvas":{"width":640,"height":480,"background":"#0000ff"},"regions":[{"mode":"single","fit":"cover"}]}"##,
                                inputs: [wide], size: "640x480")
        let c = try #require(picture(at: 1, in: try decodePictures(contain)))
        // 16:9 in 4:3: 640x360 picture centred, 60-pixel bars above and below.
        expectColour(c, PixelRect(x: 0, y: 0, width: 640, height: 56), "0000ff", "contain: top bar")
        expectColour(c, PixelRect(x: 0, y: 424, width: 640, height: 56), "0000ff", "contain: bottom bar")
        expectColour(c, PixelRect(x: 0, y: 64, width: 640, height: 352), "ff0000", "contain: picture")
        let v = try #require(picture(at: 1, in: try decodePictures(cover)))
        expectColour(v, PixelRect(x: 0, y: 0, width: 640, height: 40), "ff0000", "cover: no top bar")
        expectColour(v, PixelRect(x: 0, y: 440, width: 640, height: 40), "ff0000", "cover: no bottom bar")
        expectColour(v, PixelRect(x: 0, y: 0, width: 640, height: 480), "ff0000", "cover: whole frame")
    }

    @Test func twilioLayoutPlacesTilesByTwilioRules() throws {
        // 5 sources in a full-canvas region at 1280x720: 2 rows x 3 columns, 2-pixel frames between cells only,
        // cells (1280 - 4) / 3 = 425 → 424 wide and (720 - 2) / 2 = 359 → 358 high.
        let colours = Array(clipColours.prefix(5))
        let files = colours.map { Paths.fixture("colour-\($0).webm") }
        let output = try compose("twilio", layout: #"{"resolution":"1280x720","video_layout":{"grid":{"max_rows":3,"max_columns":3,"video_sources":["*"]}}}"#,
                                 inputs: files, size: "1280x720")
        let frame = try #require(picture(at: 1.5, in: try decodePictures(output)))
        #expect(frame.width == 1280 && frame.height == 720)
        let cells = [(0, 0), (426, 0), (852, 0), (0, 360), (426, 360)]
        for ((x, y), colour) in zip(cells, colours) {
            let cell = PixelRect(x: x, y: y, width: 424, height: 358)
            let placed = Fit.contain.placement(of: PixelSize(width: 640, height: 480), in: cell).destination
            expectColour(frame, placed, colour, "Twilio cell at \(x),\(y)")
        }
        // The sixth cell is empty (black) and the 2-pixel frame between cells too.
        expectColour(frame, PixelRect(x: 852, y: 360, width: 424, height: 358), "000000", "empty cell")
    }

    @Test func lateInputAppearsAtItsOffsetAndDurationIsTheLongestInput() throws {
        let red = Paths.fixture("colour-ff0000.webm"), blue = Paths.fixture("colour-0000ff.webm")
        let output = try compose("late", layout: "grid", inputs: [red, blue + "@1.5"])
        let pictures = try decodePictures(output)
        // Longest input ends at 1.5 + 3 = 4.5 s: 135 frames at 30 fps, ± 1.
        #expect(abs(pictures.count - 135) <= 1, "\(pictures.count) frames")
        let last = try #require(pictures.last)
        let videoEnd: Double = Double(last.time) / 1e6 + 1.0 / 30
        #expect(abs(videoEnd - 4.5) <= 0.035, "video ends at \(videoEnd) s")
        let layout = try #require(LayoutPresets.document(named: "grid"))
        let sources = descriptors([red, blue], starts: [0, 1_500_000])
        let before = try #require(picture(at: 1.3, in: pictures))
        let alone = LayoutSolver.solve(layout, canvas: canvas, context: LayoutContext(sources: sources, time: 1_300_000))
        #expect(alone.tiles.count == 1)
        expectColour(before, Fit.contain.placement(of: PixelSize(width: 640, height: 480), in: alone.tiles[0].rect).destination, "ff0000", "before the late join")
        let after = try #require(picture(at: 2.0, in: pictures))
        let both = LayoutSolver.solve(layout, canvas: canvas, context: LayoutContext(sources: sources, time: 2_000_000))
        #expect(both.tiles.count == 2)
        expectColour(after, Fit.contain.placement(of: PixelSize(width: 640, height: 480), in: both.tiles[1].rect).destination, "0000ff", "after the late join")
        // After red ends at 3 s, blue has the canvas alone.
        let end = try #require(picture(at: 4.0, in: pictures))
        expectColour(end, Fit.contain.placement(of: PixelSize(width: 640, height: 480), in: alone.tiles[0].rect).destination, "0000ff", "after red left")
    }

    @Test func mixedCodecsSizesAndRates() throws {
        let inputs = ["pattern-vp8-321x241.ivf", "pattern-vp9-640x480.webm", "pattern-h264-1280x720.mp4",
                      "pattern-h264-360x640.mkv", "vfr-h264.mp4", "tone-1000.ogg", "tall-blue.mp4"].map(Paths.fixture)
        let output = try compose("mixed", layout: "grid", inputs: inputs, size: "1280x720")
        let pictures = try decodePictures(output)
        #expect(abs(pictures.count - 90) <= 1, "constant 30 fps output: \(pictures.count) frames")
        // Output frames are evenly spaced whatever the inputs do (variable frame rate included).
        for (a, b) in zip(pictures, pictures.dropFirst()) {
            let step: Int64 = b.time - a.time
            #expect(abs(step - 33_333) < 1_500, "frame step \(step) µs")
        }
        // The audio-only input has a slate; the portrait clip keeps its aspect inside its tile.
        let frame = try #require(picture(at: 1.5, in: pictures))
        let layout = try #require(LayoutPresets.document(named: "grid"))
        var sources = descriptors(inputs)
        sources[5].hasVideo = false
        let solved = LayoutSolver.solve(layout, canvas: PixelSize(width: 1280, height: 720), context: LayoutContext(sources: sources, time: 1_500_000))
        #expect(solved.tiles.count == 7, "the audio-only input gets a tile with its slate")
        let tall = try #require(solved.tile(for: "tall-blue"))
        expectColour(frame, Fit.contain.placement(of: PixelSize(width: 360, height: 640), in: tall.rect).destination, "0000ff", "portrait tile")
    }

    @Test func sourceWithoutPictureYetShowsSlateNotBlack() throws {
        // An audio-only source placed in a single layout: the slate (lifted background + name) fills the frame.
        let output = try compose("slate", layout: "single", inputs: [Paths.fixture("tone-1000.ogg")])
        let frame = try #require(picture(at: 1, in: try decodePictures(output)))
        let mean = try #require(frame.meanYUV(in: PixelRect(x: 0, y: 0, width: 640, height: 360)))
        #expect(mean.y > 30 && mean.y < 90, "slate luma \(mean.y)")
        #expect(abs(mean.u - 128) < 12 && abs(mean.v - 128) < 12, "slate is grey, not green: \(mean)")
        // The name is drawn in the middle: bright pixels there.
        var bright = 0
        for x in stride(from: 200, to: 440, by: 2) { for y in stride(from: 160, to: 200, by: 2) where (frame.yuv(x: x, y: y)?.y ?? 0) > 150 { bright += 1 } }
        #expect(bright > 20, "name text on the slate")
    }
}

@Suite(.serialized, .timeLimit(.minutes(10))) struct ComposeStyleTests {
    @Test func backgroundImageBordersAndOpacity() throws {
        let red = Paths.fixture("colour-ff0000.webm"), blue = Paths.fixture("colour-0000ff.webm")
        // Red on the left half with a white 8-pixel border; blue at half opacity over the right half of red's
        // region; the orange background image shows in the empty right part.
        let layout = """
        {"canvas":{"width":640,"height":360,"background_image":"\(Paths.fixture("background-orange.png"))"},
         "regions":[
          {"id":"left","x":0,"y":0,"width":"50%","height":"100%","mode":"single","sources":["colour-ff0000"],"fit":"stretch",
           "border":{"width":8,"color":"#ffffff"}},
          {"id":"over","x":160,"y":120,"width":160,"height":120,"z":1,"mode":"single","sources":["colour-0000ff"],"fit":"stretch","opacity":0.5}
         ]}
        """
        let output = try compose("style", layout: layout, inputs: [red, blue])
        let frame = try #require(picture(at: 1, in: try decodePictures(output)))
        expectColour(frame, PixelRect(x: 400, y: 40, width: 200, height: 280), "ff8000", "background image")
        expectColour(frame, PixelRect(x: 0, y: 0, width: 320, height: 8), "ffffff", "top border")
        expectColour(frame, PixelRect(x: 0, y: 8, width: 8, height: 344), "ffffff", "left border")
        expectColour(frame, PixelRect(x: 16, y: 16, width: 120, height: 320), "ff0000", "red inside the border")
        // Half blue over red, blended in Y'CbCr: the mean of the two colours.
        let r = yuv(ofHex: "ff0000"), b = yuv(ofHex: "0000ff")
        let blended = try #require(frame.meanYUV(in: PixelRect(x: 180, y: 140, width: 120, height: 80)))
        #expect(distance(blended, ((r.y + b.y) / 2, (r.u + b.u) / 2, (r.v + b.v) / 2)) < 10, "blend \(blended)")
    }

    @Test func damagedMiddleIsSkippedAndTheRestKept() throws {
        let output = Paths.temporary("corrupt.mp4")
        try? FileManager.default.removeItem(atPath: output)
        let result = try mcuRecord(["compose", "--input", Paths.fixture("corrupt-middle.webm"), "--output", output,
                                    "--size", "640x360", "--preset", "ultrafast"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning:") && result.stderr.contains("no video data for"), "\(result.stderr)")
        let pictures = try decodePictures(output)
        // The output keeps the constant rate through the damage and goes on past it.
        #expect(Double(pictures.last?.time ?? 0) / 1e6 > 15, "last picture at \(Double(pictures.last?.time ?? 0) / 1e6) s")
    }

    @Test func inputGainScalesItsAudio() throws {
        let tone = Paths.fixture("tone-1000.ogg")
        let loud = try decodeAudio(try compose("gain-1", layout: "single", inputs: [tone]))
        let quiet = try decodeAudio(try compose("gain-quarter", layout: "single", inputs: ["file=\(tone),gain=0.25"]))
        let a = goertzel(loud.left[24_000..<72_000], frequency: 1000), b = goertzel(quiet.left[24_000..<72_000], frequency: 1000)
        // Power goes with the square of the gain: 1/16.
        #expect(abs(b / a - 1.0 / 16) < 0.01, "power ratio \(b / a)")
    }
}
