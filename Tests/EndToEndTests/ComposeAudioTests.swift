import Codecs
import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct ComposeAudioTests {
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
        let events = try flashesAndBeeps(output, region: PixelRect(x: 0, y: 0, width: 640, height: 360))
        #expect(events.flashes.count >= 5, "flashes at \(events.flashes)")
        #expect(events.beeps.count >= 5, "beeps at \(events.beeps)")
        let offsets = pairedOffsets(events.beeps, events.flashes)
        #expect(offsets.count == events.beeps.count, "a flash near every beep: \(events.flashes) vs \(events.beeps)")
        for offset in offsets {
            #expect(abs(offset) <= 1.0 / 30 + 0.002, "beep - flash \(decimal(offset * 1000, 1)) ms")
        }
    }
}
