import Codecs
import Foundation
import MediaCore
import Testing

@Suite(.serialized) struct ComposeAudioTests {
    @Test func everyInputsToneIsInTheMix() throws {
        let colours = Array(clipColours.prefix(4))
        let output = try compose("tones", layout: "grid", inputs: colours.map { Paths.fixture("colour-\($0).webm") })
        let audio = try decodeAudio(output)
        #expect(abs(Double(audio.left.count) / 48_000 - 3.0) < 0.07, "audio length \(Double(audio.left.count) / 48_000) s")
        let middle = audio.left[48_000..<96_000]
        let noise = goertzel(middle, frequency: 1234)
        for i in 0..<4 {
            let hz = Double(300 + 97 * i)
            let power = goertzel(middle, frequency: hz)
            #expect(power > 2e-5 && power > noise * 100, "tone \(hz) Hz: power \(power), noise \(noise)")
        }
    }

    @Test func loudInputsAreLimitedNotWrapped() throws {
        let output = try compose("loud", layout: "grid", inputs: ["loud-400.webm", "loud-600.webm"].map(Paths.fixture))
        let audio = try decodeAudio(output)
        let peak = audio.left.map(abs).max() ?? 0
        #expect(peak <= 1.05, "peak \(peak)")
        // Wrap-around would show as jumps of nearly two full scales between neighbouring samples.
        var jump: Float = 0
        for (a, b) in zip(audio.left.dropFirst(4800), audio.left.dropFirst(4801)) { jump = max(jump, abs(b - a)) }
        #expect(jump < 0.5, "largest step \(jump)")
        let middle = audio.left[48_000..<96_000]
        #expect(goertzel(middle, frequency: 400) > 0.01)
        #expect(goertzel(middle, frequency: 600) > 0.01)
    }

    @Test func flashAndBeepStayInSync() throws {
        let output = try compose("sync", layout: "single", inputs: [Paths.fixture("sync.webm")])
        let pictures = try decodePictures(output)
        let flashes = pictures.filter { ($0.meanYUV(in: PixelRect(x: 0, y: 0, width: 640, height: 360))?.y ?? 0) > 128 }.map { Double($0.time) / 1e6 }
        let audio = try decodeAudio(output)
        // Beep onsets: first 1 ms window whose energy rises above a threshold after silence.
        var onsets: [Double] = []
        var i = 0, quietSince = 0
        let window = 48
        while i + window <= audio.left.count {
            var e: Float = 0
            for x in audio.left[i..<(i + window)] { e += x * x }
            if e / Float(window) > 0.0005 {
                if i - quietSince > 4800 { onsets.append(Double(i) / 48_000 + Double(audio.start) / 1e6) }
                quietSince = i
            }
            i += window
        }
        #expect(flashes.count >= 5, "flashes at \(flashes)")
        #expect(onsets.count >= 5, "beeps at \(onsets)")
        var firstFlashOfSecond: [Int: Double] = [:]
        for f in flashes where firstFlashOfSecond[Int(f.rounded())] == nil { firstFlashOfSecond[Int(f.rounded())] = f }
        for onset in onsets {
            guard let flash = firstFlashOfSecond[Int(onset.rounded())] else { Issue.record("no flash near beep at \(onset)"); continue }
            #expect(abs(flash - onset) <= 1.0 / 30 + 0.002, "flash \(flash) s vs beep \(onset) s")
        }
    }
}
