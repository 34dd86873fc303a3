import Codecs
import Foundation
import Layout
import MediaCore
import TestSupport
import Testing

enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/mcu-record").path
    static func fixture(_ name: String) -> String { root.appendingPathComponent("Fixtures/generated/\(name)").path }
    static func temporary(_ name: String) -> String { TestScratch.path(name) }
}

struct RunResult { var status: Int32; var stdout: String; var stderr: String }

/// Runs `mcu-record` with `arguments` and waits for it.
func mcuRecord(_ arguments: [String]) throws -> RunResult {
    let result = try run(Paths.binary, arguments)
    return RunResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
}

/// Composes `inputs` with a layout (preset name or JSON text) into a fresh file; fails the test if it fails.
func compose(_ name: String, layout: String, inputs: [String], size: String = "640x360", extra: [String] = []) throws -> String {
    var layoutArgument = layout
    if layout.hasPrefix("{") {
        layoutArgument = Paths.temporary("\(name).layout.json")
        try layout.write(toFile: layoutArgument, atomically: true, encoding: .utf8)
    }
    let output = Paths.temporary("\(name).mp4")
    try? FileManager.default.removeItem(atPath: output)
    var arguments = ["compose", "--layout", layoutArgument, "--output", output, "--size", size, "--preset", "ultrafast", "--quiet"]
    for input in inputs { arguments += ["--input", input] }
    let result = try mcuRecord(arguments + extra)
    #expect(result.status == 0, "compose failed: \(result.stderr)")
    return output
}

/// Every decoded picture of a file's video.
func decodePictures(_ path: String) throws -> [VideoPicture] {
    let reader = try MediaFileReader(path: path, wantAudio: false)
    var pictures: [VideoPicture] = []
    while reader.step(onVideo: { pictures.append($0) }, onAudio: { _ in }) {}
    return pictures
}

/// A file's audio at 48 kHz (left channel and right channel).
func decodeAudio(_ path: String) throws -> (left: [Float], right: [Float], start: Microseconds) {
    let reader = try MediaFileReader(path: path, wantVideo: false)
    var left: [Float] = [], right: [Float] = []
    var start: Microseconds?
    while reader.step(onVideo: { _ in }, onAudio: { s in
        if start == nil { start = s.time }
        left.append(contentsOf: s.left); right.append(contentsOf: s.right)
    }) {}
    return (left, right, start ?? 0)
}

/// Power of `frequency` in `samples` (Goertzel), normalised so a full-scale sine gives about 0.25.
func goertzel(_ samples: ArraySlice<Float>, frequency: Double, rate: Double = 48_000) -> Double {
    let k = 2 * cos(2 * Double.pi * frequency / rate)
    var s1 = 0.0, s2 = 0.0
    for x in samples {
        let s0 = Double(x) + k * s1 - s2
        s2 = s1; s1 = s0
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2
    return power / Double(samples.count * samples.count)
}

/// The colours of the generated clips, by file.
let clipColours = ["ff0000", "00ff00", "0000ff", "ffff00", "ff00ff", "00ffff", "ffffff", "ff8000",
                   "8000ff", "00ff80", "808080", "800000", "008000", "000080", "808000", "008080"]

func yuv(ofHex hex: String) -> (y: Double, u: Double, v: Double) {
    let c = RGBAColor(hex: hex)!.yuv
    return (Double(c.y), Double(c.u), Double(c.v))
}

func distance(_ a: (y: Double, u: Double, v: Double), _ b: (y: Double, u: Double, v: Double)) -> Double {
    max(abs(a.y - b.y), abs(a.u - b.u), abs(a.v - b.v))
}

/// Checks that `rect` of `picture` shows `hex` (inner part, away from scaled edges).
func expectColour(_ picture: VideoPicture, _ rect: PixelRect, _ hex: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let inner = PixelRect(x: rect.x + rect.width / 6, y: rect.y + rect.height / 6, width: rect.width * 2 / 3, height: rect.height * 2 / 3)
    guard let mean = picture.meanYUV(in: inner) else {
        Issue.record("no pixels in \(inner) for \(what)", sourceLocation: sourceLocation); return
    }
    let d = distance(mean, yuv(ofHex: hex))
    #expect(d < 14, "\(what): expected #\(hex) in \(rect), found Y'CbCr \(mean) (off by \(d))", sourceLocation: sourceLocation)
}

func picture(at seconds: Double, in pictures: [VideoPicture]) -> VideoPicture? {
    pictures.min { abs(Double($0.time) / 1e6 - seconds) < abs(Double($1.time) / 1e6 - seconds) }
}

/// The sources `compose` builds for these inputs (ids are file base names).
func descriptors(_ files: [String], starts: [Microseconds]? = nil, end: Microseconds = 3_000_000) -> [SourceDescriptor] {
    files.enumerated().map { i, file in
        let id = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let start = starts?[i] ?? 0
        return SourceDescriptor(id: id, start: start, end: start + end, sequence: i)
    }
}

/// Flash-and-beep analysis: when a region of the picture turns white (a flash) and when a beep starts after
/// silence (first 1 ms window above the threshold), both in seconds of the file's timeline.
func flashesAndBeeps(_ path: String, region: PixelRect) throws -> (flashes: [Double], beeps: [Double]) {
    let pictures = try decodePictures(path)
    var flashes: [Double] = []
    var previousWhite = false
    for p in pictures {
        let white = (p.meanYUV(in: region)?.y ?? 0) > 180
        if white && !previousWhite { flashes.append(Double(p.time) / 1e6) }
        previousWhite = white
    }
    let audio = try decodeAudio(path)
    var beeps: [Double] = []
    var i = 0, quietSince = 0
    let window = 48
    while i + window <= audio.left.count {
        var e: Float = 0
        for x in audio.left[i..<(i + window)] { e += x * x }
        if e / Float(window) > 0.0005 {
            if i - quietSince > 4800 { beeps.append(Double(i) / 48_000 + Double(audio.start) / 1e6) }
            quietSince = i
        }
        i += window
    }
    return (flashes, beeps)
}

/// Each event of `a` paired with the nearest of `b` within 0.4 s: the differences a - b.
func pairedOffsets(_ a: [Double], _ b: [Double]) -> [Double] {
    a.compactMap { x in b.min { abs($0 - x) < abs($1 - x) }.flatMap { abs($0 - x) < 0.4 ? x - $0 : nil } }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}
