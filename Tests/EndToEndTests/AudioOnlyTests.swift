import Foundation
import MediaCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The file's audio as ffmpeg decodes it (any format): 48 kHz stereo.
func decodeStereo(_ path: String) throws -> (left: [Float], right: [Float]) {
    let raw = Paths.temporary("pcm-\(UInt32.random(in: 0...UInt32.max)).raw")
    let result = try run(try executable("ffmpeg", package: "ffmpeg"), ["-v", "error", "-i", path, "-f", "s16le", "-ac", "2", "-ar", "48000", raw], within: 60)
    guard result.status == 0, let data = FileManager.default.contents(atPath: raw) else { throw MediaError(.inputUnreadable, "ffmpeg cannot decode \(path): \(result.stderr)") }
    var left: [Float] = [], right: [Float] = []
    left.reserveCapacity(data.count / 4); right.reserveCapacity(data.count / 4)
    data.withUnsafeBytes { bytes in
        let samples = bytes.bindMemory(to: Int16.self)
        for i in stride(from: 0, to: samples.count - 1, by: 2) {
            left.append(Float(Int16(littleEndian: samples[i])) / 32768)
            right.append(Float(Int16(littleEndian: samples[i + 1])) / 32768)
        }
    }
    return (left, right)
}

/// The loudest 100 ms window of `samples` at `frequency`.
func peak(_ samples: [Float], at frequency: Double) -> Double {
    var best = 0.0, i = 0
    while i + 4800 <= samples.count {
        best = max(best, goertzel(samples[i..<(i + 4800)], frequency: frequency))
        i += 2400
    }
    return best
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct AudioOnlyTests {
    /// Two participants, beeping at 500 Hz and 900 Hz, recorded audio-only in each format (and as the extra audio
    /// file of a video recording): every file decodes and holds both; dual-channel puts each on its own side.
    @Test(arguments: [("m4a", false), ("ogg", false), ("wav", true), ("mp3", false)])
    func everyFormatHoldsEveryone(format: String, dualChannel: Bool) async throws {
        let folder = Paths.temporary("audio-\(format)-\(UInt32.random(in: 0...UInt32.max))")
        let video = format == "mp3"          // mp3: the extra audio file of a video recording
        var extra = ["--output", folder] + (video ? ["--audio-file", format] : ["--audio-only", format])
        if dualChannel { extra += ["--dual-channel", "Ann"] }
        let room = try RoomProcess(room: "voice", extra: extra)
        defer { room.process.stopIfRunning() }
        let ann = Process(), bea = Process()
        for (p, name, tone) in [(ann, "Ann", "500"), (bea, "Bea", "900")] {
            p.executableURL = URL(fileURLWithPath: Paths.binary)
            p.arguments = ["publish", "--whip", "\(room.base)/rooms/voice/whip", "--name", name, "--tone", tone, "--size", "320x240", "--duration", "6"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
        }
        defer { ann.stopIfRunning(); bea.stopIfRunning() }
        _ = try await waitForParticipants(room, "voice", count: 2)
        try await Task.sleep(nanoseconds: 5_000_000_000)
        let (stopped, body, _) = try await httpData("DELETE", "\(room.base)/rooms/voice/recording")
        #expect(stopped == 200)
        let summary = object(body)
        let file = try #require((video ? summary["audio_file"] : summary["file"]) as? String, "\(summary)")
        #expect(file.hasSuffix("." + format))
        _ = room.stop()
        let audio = try decodeStereo(file)
        #expect(Double(audio.left.count) / 48_000 > 3.5, "\(format): \(Double(audio.left.count) / 48_000) s")
        let mono = zip(audio.left, audio.right).map { ($0 + $1) / 2 }
        let (ann500, bea900) = (peak(mono, at: 500), peak(mono, at: 900))
        #expect(ann500 > 0.001 && bea900 > 0.001, "\(format): 500 Hz \(ann500), 900 Hz \(bea900)")
        if dualChannel {
            let (left500, left900) = (peak(audio.left, at: 500), peak(audio.left, at: 900))
            let (right500, right900) = (peak(audio.right, at: 500), peak(audio.right, at: 900))
            #expect(left500 > 0.001 && left900 < left500 / 100, "left: Ann's 500 Hz \(left500), Bea's 900 Hz \(left900)")
            #expect(right900 > 0.001 && right500 < right900 / 100, "right: Bea's 900 Hz \(right900), Ann's 500 Hz \(right500)")
        }
        if !video {
            #expect(!FileManager.default.fileExists(atPath: String(file.dropLast(format.count)) + "mp4"), "no video file")
        }
    }

    /// An audio-only recorder killed with SIGKILL mid-recording: the file it was writing (`NAME.recording.FORMAT`) is
    /// made whole when the recorder starts again (M4A rewritten with its index, WAV's header sizes set, Ogg put in
    /// place) and holds the participant's tone up to the kill.
    @Test(arguments: ["m4a", "wav", "ogg"])
    func aKilledRecordingIsRecoveredAtTheNextStart(format: String) async throws {
        let folder = Paths.temporary("audio-killed-\(format)-\(UInt32.random(in: 0...UInt32.max))")
        let room = try RoomProcess(room: "voice", extra: ["--output", folder, "--audio-only", format], errorsExpected: true)
        defer { room.process.stopIfRunning() }
        let ann = Process()
        ann.executableURL = URL(fileURLWithPath: Paths.binary)
        ann.arguments = ["publish", "--whip", "\(room.base)/rooms/voice/whip", "--name", "Ann", "--tone", "700", "--size", "320x240", "--duration", "20"]
        ann.standardOutput = FileHandle.nullDevice
        ann.standardError = FileHandle.nullDevice
        try ann.run()
        defer { ann.stopIfRunning() }
        _ = try await waitForParticipants(room, "voice", count: 1)
        try await Task.sleep(nanoseconds: 5_000_000_000)
        kill(room.process.processIdentifier, SIGKILL)
        room.process.waitUntilExit()
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        let partial = try #require(names.first { $0.hasSuffix(".recording." + format) }, "\(names)")
        #expect(!names.contains(partial.replacingOccurrences(of: ".recording.", with: ".")))

        let again = try RoomProcess(room: "voice", extra: ["--output", folder, "--audio-only", format])
        _ = again.stop()
        let file = folder + "/" + partial.replacingOccurrences(of: ".recording.", with: ".")
        #expect(!FileManager.default.fileExists(atPath: folder + "/" + partial), "the partial file is still there")
        let audio = try decodeStereo(file)
        let seconds = Double(audio.left.count) / 48_000
        #expect(seconds > 3 && seconds < 8, "\(format): \(seconds) s recovered")
        let tone = peak(zip(audio.left, audio.right).map { ($0 + $1) / 2 }, at: 700)
        #expect(tone > 0.001, "\(format): 700 Hz at \(tone)")
    }
}
