import Codecs
import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct SpeakerTests {
    /// Makes a 20 s VP8 + Opus clip: a solid colour, and a tone only while `talking` (an ffmpeg expression in t).
    static func clip(_ name: String, colour: String, frequency: Int, talking: String) throws -> String {
        let path = Paths.temporary(name)
        if FileManager.default.fileExists(atPath: path) { return path }
        let status = try mcuRun("/usr/bin/ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x\(colour):s=320x240:r=30:d=20",
                                                   "-f", "lavfi", "-i", "aevalsrc='0.5*sin(2*PI*\(frequency)*t)*(\(talking))':s=48000:d=20:c=stereo",
                                                   "-c:v", "libvpx", "-b:v", "300k", "-c:a", "libopus", "-b:a", "64k", path])
        try #require(status == 0, "cannot make \(name)")
        return path
    }

    /// Two publishers take turns: the speaker layout follows whoever talks, a half-second interjection does not take
    /// the slot, and a pin overrides the detector from the frame the API names.
    @Test func theSpeakerSlotFollowsTheTalkerWithoutFlappingAndAPinOverridesIt() async throws {
        // A talks 0-6 s and interjects at 12-12.5 s; B talks 6-12 s and from 12.5 s on.
        let a = try Self.clip("talker-a.webm", colour: "e02020", frequency: 400, talking: "lt(t,6)+between(t,12,12.5)")
        let b = try Self.clip("talker-b.webm", colour: "2020e0", frequency: 600, talking: "between(t,6,12)+gt(t,12.5)")
        let room = try RoomProcess(room: "talk", extra: ["--layout", "single", "--fps", "30"])
        let pa = try room.aiortc(room: "talk", clip: a, seconds: 19, name: "Ann")
        defer { pa.stopIfRunning() }
        let pb = try room.aiortc(room: "talk", clip: b, seconds: 19, name: "Ben")
        defer { pb.stopIfRunning() }
        defer { pa.terminate(); pb.terminate() }
        let ids = try await waitForParticipants(room, "talk", count: 2)
        let (_, described, _) = try await httpData("GET", "\(room.base)/rooms/talk")
        let ann = try #require((object(described)["participants"] as? [[String: Any]])?.first { $0["name"] as? String == "Ann" }?["id"] as? String)
        #expect(ids.contains(ann))
        try await Task.sleep(nanoseconds: 15_000_000_000)
        let (status, answer, _) = try await http("PATCH", "\(room.base)/rooms/talk/participants/\(ann)", body: #"{"pin": true}"#, contentType: "application/json")
        #expect(status == 200, "\(answer)")
        try await Task.sleep(nanoseconds: 2_500_000_000)
        let path = try room.stopAndRecording("talk")
        let events = try String(contentsOfFile: path.replacingOccurrences(of: ".mp4", with: ".events.jsonl"), encoding: .utf8)
        let pinTime = try #require(events.split(separator: "\n").first { $0.contains("\"event\":\"participant\"") && $0.contains("\"pinned\":true") }
            .flatMap { object(Data($0.utf8))["t"] as? Double })

        // Which colour fills the frame over time: R (Ann), B (Ben), or - (slate or background).
        let pictures = try decodePictures(path)
        let red = yuv(ofHex: "e02020"), blue = yuv(ofHex: "2020e0")
        var runs: [(colour: Character, start: Double, end: Double)] = []
        for picture in pictures {
            guard let mean = picture.meanYUV(in: PixelRect(x: 120, y: 60, width: 80, height: 60)) else { continue }
            let colour: Character = distance(mean, red) < 30 ? "R" : distance(mean, blue) < 30 ? "B" : "-"
            let t = Double(picture.time) / 1e6
            if let last = runs.last, last.colour == colour { runs[runs.count - 1].end = t } else { runs.append((colour, t, t)) }
        }
        let story = runs.filter { $0.colour != "-" && $0.end - $0.start > 0.1 }.map { "\($0.colour)@\(String(format: "%.1f", $0.start))" }
        // Until the first speaker is detected the slot shows whoever joined first; from then on it follows the talker.
        let firstSpeaker = try #require(events.split(separator: "\n").first { $0.contains("\"event\":\"speaker\"") }
            .flatMap { object(Data($0.utf8))["t"] as? Double })
        // (The pinned run starts on the pin's own frame: events are stamped to the millisecond, frames every 33 ms.)
        let beforePin = runs.filter { $0.end > firstSpeaker + 0.1 && $0.start < pinTime - 0.02 && $0.colour != "-" }.map(\.colour)
        // Ann first, then Ben once she stops; never back to Ann before the pin (her interjection is too short).
        #expect(beforePin.first == "R", "speaker slot over time: \(story)")
        #expect(beforePin.filter { $0 == "B" }.count == 1 && beforePin.last == "B", "speaker slot flapped: \(story)")
        if let annFirst = runs.first(where: { $0.colour == "R" }), let switchToBen = runs.first(where: { $0.colour == "B" && $0.start > annFirst.start }) {
            #expect(switchToBen.start - annFirst.start > 4, "Ben took the slot before Ann stopped: \(story)")
        }
        // From the pin on, Ann again.
        let afterPin = pictures.filter { Double($0.time) / 1e6 > pinTime + 0.1 }
        let pinnedRed = afterPin.filter { p in p.meanYUV(in: PixelRect(x: 120, y: 60, width: 80, height: 60)).map { distance($0, red) < 30 } ?? false }
        #expect(afterPin.count > 30 && pinnedRed.count == afterPin.count, "after the pin at \(pinTime) s: \(story)")
        #expect(events.contains("\"event\":\"speaker\""))
    }
}
