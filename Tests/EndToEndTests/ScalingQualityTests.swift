import Foundation
import Testing

/// The compositor's scaling keeps its quality: four detailed 640x480 sources scaled into a 1280x720 grid (to 480x360,
/// the benchmark's 4-up case) against a reference composite rendered losslessly with lanczos. The floor is what the
/// compositor reached when it was set (bicubic: 0.9818; `Benchmarks/quality.py` measures the full-size cases); a
/// bilinear composite of the same inputs (the compositor's scaler before, 0.9774) must fall below it, so the test
/// tells a cheaper scaler.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ScalingQualityTests {
    static let floor = 0.9810
    static let sources = Array(repeating: Paths.fixture("detail-640x480.webm"), count: 4)

    /// ffmpeg's grid of the sources (scale with `flags`, pad, stack) encoded by `codec` arguments into `output`.
    static func ffmpegGrid(flags: String, codec: [String], output: String) throws {
        var arguments = ["-v", "error", "-y"]
        for source in sources { arguments += ["-i", source] }
        let tiles = (0..<4).map { "[\($0):v]scale=640:360:force_original_aspect_ratio=decrease:flags=\(flags),pad=640:360:(ow-iw)/2:(oh-ih)/2[v\($0)]" }
        let graph = tiles.joined(separator: ";") + ";[v0][v1][v2][v3]xstack=inputs=4:layout=0_0|640_0|0_360|640_360[v]"
        arguments += ["-filter_complex", graph, "-map", "[v]", "-r", "30"] + codec + [output]
        let result = try run(try executable("ffmpeg", package: "ffmpeg"), arguments, within: 120)
        #expect(result.status == 0, "ffmpeg: \(result.stderr)")
    }

    /// SSIM (all planes) of `path` against `reference`, frame by frame from the first; `shift` drops `path`'s first frames.
    static func ssim(_ path: String, _ reference: String, shift: Int = 0) throws -> Double {
        let graph = "[0:v]trim=start_frame=\(shift),setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];[d][r]ssim=shortest=1"
        let result = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "info", "-i", path, "-i", reference, "-filter_complex", graph, "-f", "null", "-"], within: 120)
        guard let range = result.stderr.range(of: #"All:([0-9.]+)"#, options: .regularExpression) else {
            Issue.record("no SSIM in ffmpeg's output: \(result.stderr.suffix(500))")
            return 0
        }
        return Double(result.stderr[range].dropFirst(4)) ?? 0
    }

    @Test func gridScalingStaysAboveTheFloor() throws {
        let reference = Paths.temporary("scaling-reference.mkv")
        try Self.ffmpegGrid(flags: "lanczos+accurate_rnd+full_chroma_int+full_chroma_inp", codec: ["-c:v", "ffv1", "-pix_fmt", "yuv420p"], output: reference)
        // Nearly lossless encoding, so that what is measured is the scaling.
        let ours = try compose("scaling-quality", layout: "grid", inputs: Self.sources, size: "1280x720", extra: ["--crf", "8", "--preset", "veryfast"])
        let score = try Self.ssim(ours, reference)
        #expect(score >= Self.floor, "the composite's SSIM against the lanczos reference: \(score)")
        #expect(try Self.ssim(ours, reference, shift: 1) < score - 0.005, "a one-frame shift must score lower (the frames are aligned)")
        let bilinear = Paths.temporary("scaling-bilinear.mp4")
        try Self.ffmpegGrid(flags: "bilinear", codec: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "8", "-pix_fmt", "yuv420p"], output: bilinear)
        let cheap = try Self.ssim(bilinear, reference)
        #expect(cheap < Self.floor, "bilinear scaling scores \(cheap): the floor tells it apart")
        print("scaling SSIM: ours \(score), bilinear \(cheap), floor \(Self.floor)")
    }
}
