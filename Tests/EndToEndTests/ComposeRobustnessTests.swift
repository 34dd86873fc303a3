import Codecs
import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct ComposeRobustnessTests {
    @Test func sigkillLeavesAPlayableFileMissingAtMostTwoSeconds() throws {
        let output = Paths.temporary("killed.mp4")
        let partial = Paths.temporary("killed.recording.mp4")
        for path in [output, partial] { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary)
        // A slow preset at 1280x720 keeps the run near real time, so the kill lands mid-file.
        process.arguments = ["compose", "--layout", "grid", "--input", Paths.fixture("long-pattern.webm"),
                             "--input", Paths.fixture("long-pattern.webm"), "--output", output, "--size", "1280x720",
                             "--preset", "medium", "--progress"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var reported = 0.0
        var buffer = ""
        let deadline = Date().addingTimeInterval(120)
        while reported < 6, Date() < deadline, process.isRunning {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            for line in buffer.split(separator: "\n") {
                if let range = line.range(of: "time="), let t = Double(line[range.upperBound...].prefix { $0 != " " }) { reported = max(reported, t) }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.finish()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(reported >= 6, "the compose reported \(reported) s before the kill")
        #expect(!FileManager.default.fileExists(atPath: output), "no final file after a kill")
        let pictures = try decodePictures(partial)
        let kept = Double(pictures.last?.time ?? 0) / 1e6
        #expect(kept >= reported - 2, "kept \(kept) s of the \(reported) s composed before the kill")
        let audio = try decodeAudio(partial)
        #expect(Double(audio.left.count) / 48_000 >= reported - 2.2)
    }

    @Test func sigintStopsEarlyAndFinalizes() throws {
        let output = Paths.temporary("interrupted.mp4")
        try? FileManager.default.removeItem(atPath: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary)
        process.arguments = ["compose", "--input", Paths.fixture("long-pattern.webm"), "--output", output,
                             "--size", "1280x720", "--preset", "medium", "--quiet"]
        try process.run()
        Thread.sleep(forTimeInterval: 2)
        kill(process.processIdentifier, SIGINT)
        process.finish()
        #expect(process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: output.replacingOccurrences(of: ".mp4", with: ".recording.mp4")))
        let pictures = try decodePictures(output)
        let seconds = Double(pictures.last?.time ?? 0) / 1e6
        #expect(pictures.count > 10 && seconds < 19, "stopped early at \(seconds) s with \(pictures.count) frames")
        let audio = try decodeAudio(output)
        let audioSeconds: Double = Double(audio.left.count) / 48_000
        let videoSeconds: Double = Double(pictures.count) / 30
        #expect(abs(audioSeconds - videoSeconds) < 0.1, "audio \(audioSeconds) s as long as the video \(videoSeconds) s")
    }

    @Test func cleanStopFinalizesAFastStartFile() throws {
        let output = try compose("final", layout: "grid", inputs: [Paths.fixture("colour-ff0000.webm")])
        #expect(!FileManager.default.fileExists(atPath: output.replacingOccurrences(of: ".mp4", with: ".recording.mp4")))
        let bytes = try #require(FileManager.default.contents(atPath: output))
        // Index first: the top-level boxes are ftyp, then moov before mdat.
        func boxes(_ data: Data) -> [String] {
            var names: [String] = [], offset = 0
            while offset + 8 <= data.count {
                let size = data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
                names.append(String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self))
                guard size >= 8 else { break }
                offset += size
            }
            return names
        }
        let top = boxes(bytes)
        #expect(top.first == "ftyp")
        let moov = try #require(top.firstIndex(of: "moov")), mdat = try #require(top.firstIndex(of: "mdat"))
        #expect(moov < mdat, "top-level boxes \(top)")
        #expect(!top.contains("moof"), "not fragmented any more")
    }

    @Test func damagedInputDecodesAsFarAsItGoesWithAWarning() throws {
        let output = Paths.temporary("damaged.mp4")
        try? FileManager.default.removeItem(atPath: output)
        let result = try mcuRecord(["compose", "--input", Paths.fixture("truncated.webm"), "--output", output, "--size", "640x360", "--preset", "ultrafast"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning:"), "warns: \(result.stderr)")
        let pictures = try decodePictures(output)
        // About half of the 20 s clip survives.
        #expect(pictures.count > 150 && pictures.count < 500, "\(pictures.count) frames")
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var arguments: [String]
        var message: String
        var description: String { message }
    }

    static let badCases: [BadCase] = [
        BadCase(arguments: ["--input", "/nonexistent/x.webm"], message: "cannot open input: no such file"),
        BadCase(arguments: ["--input", "/tmp"], message: "cannot open input"),
        BadCase(arguments: ["--input", Paths.fixture("not-media.webm")], message: "not-media.webm"),
        BadCase(arguments: ["--input", Paths.fixture("unsupported.mp3")], message: "unsupported codec (audio mp3)"),
        BadCase(arguments: ["--input", Paths.fixture("subtitles-only.mkv")], message: "no audio or video stream to decode"),
        BadCase(arguments: ["--input", Paths.fixture("colour-ff0000.webm"), "--layout", "nope"], message: "no such layout file or preset"),
        BadCase(arguments: ["--input", Paths.fixture("colour-ff0000.webm"), "--size", "12x"], message: "--size must be"),
        BadCase(arguments: ["--input", Paths.fixture("colour-ff0000.webm") + "@-3"], message: "input start must be ≥ 0 seconds"),
        BadCase(arguments: ["--input", "file=" + Paths.fixture("colour-ff0000.webm") + ",role=boss"], message: "role must be camera or screen"),
    ]

    @Test(arguments: badCases)
    func badInputsGetAClearErrorAndNonZeroExit(bad: BadCase) throws {
        let output = Paths.temporary("bad.mp4")
        let result = try mcuRecord(["compose", "--output", output] + bad.arguments)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "one line: \(result.stderr)")
        #expect(result.stderr.contains(bad.message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func invalidLayoutNamesTheFieldPath() throws {
        let layout = Paths.temporary("bad-layout.json")
        try #"{"regions":[{"id":"a"},{"id":"b","max_rows":0}]}"#.write(toFile: layout, atomically: true, encoding: .utf8)
        let result = try mcuRecord(["compose", "--layout", layout, "--input", Paths.fixture("colour-ff0000.webm"), "--output", Paths.temporary("x.mp4")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("regions[1].max_rows: must be ≥ 1"), "\(result.stderr)")
    }

    @Test func unwritableOutputIsRefused() throws {
        let result = try mcuRecord(["compose", "--input", Paths.fixture("colour-ff0000.webm"), "--output", "/proc/mcu-record-test/out.mp4"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("/proc/mcu-record-test"), "\(result.stderr)")
    }
}
