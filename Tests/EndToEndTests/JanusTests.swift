import Codecs
import Foundation
import MediaCore
import Testing

/// Recording a Janus VideoRoom (Debian's Janus, started by the tests): its publishers — aiortc through the Janus
/// API, headless Chromium through a minimal Janus page — become the room's participants as they come and go,
/// labelled with their display names; a Janus restart loses nothing.
@Suite(.serialized, .timeLimit(.minutes(5))) struct JanusTests {
    static let python = Paths.root.appendingPathComponent(".build-venv/bin/python").path

    /// aiortc publishing `clip` into Janus room 1234 as `display` for `seconds`.
    static func aiortc(_ janus: JanusServer, _ display: String, clip: String, seconds: Int, republish: Bool = false) throws -> LoggedPeer {
        try LoggedPeer(python, [Paths.root.appendingPathComponent("Tests/peers/janus_publish.py").path, janus.url, "1234", display,
                                Paths.fixture(clip), String(seconds)] + (republish ? ["--republish"] : []), log: "janus-\(display).txt")
    }

    /// Headless Chromium publishing its fake flash-and-beep camera and microphone into room 1234 as `display`.
    static func chromium(_ janus: JanusServer, _ display: String, query: String = "") throws -> Process {
        let page = Paths.root.appendingPathComponent("Tests/peers/janus.html").path
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: try executable("chromium", package: "chromium"))
        browser.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                             "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files",
                             "--user-data-dir=\(Paths.temporary("chromium-janus-\(display)"))",
                             "--use-file-for-fake-video-capture=\(Paths.fixture("camera-flash.y4m"))",
                             "--use-file-for-fake-audio-capture=\(Paths.fixture("microphone-beep.wav"))",
                             "file://\(page)?janus=\(janus.url)&room=1234&display=\(display)\(query)"]
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        return browser
    }

    /// The names of the room's participants now.
    static func names(_ room: RoomProcess, _ name: String) async throws -> [String] {
        let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/\(name)")
        return ((object(data)["participants"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.sorted()
    }

    /// The share of a picture's sampled pixels within 60 of a colour (the tiles of a grid are anywhere).
    static func share(of hex: String, in picture: VideoPicture) -> Double {
        var hits = 0, total = 0
        for y in stride(from: 4, to: 176, by: 8) {
            for x in stride(from: 4, to: 316, by: 8) {
                total += 1
                if let m = picture.meanYUV(in: PixelRect(x: x, y: y, width: 2, height: 2)), distance(m, yuv(ofHex: hex)) < 40 { hits += 1 }
            }
        }
        return Double(hits) / Double(total)
    }

    /// Alice (aiortc, red, 300 Hz) from the start, Bob (Chromium) for 12 s, Carol (aiortc, blue, 494 Hz) from 8 s:
    /// the participants are exactly the publishers present, by their Janus names, and the picture shows them.
    @Test func publishersComeAndGoUnderTheirJanusNames() async throws {
        let janus = try JanusServer()
        defer { janus.stop() }
        let room = try RoomProcess(room: "janus", extra: ["--janus", janus.url, "--janus-room", "1234", "--udp-host", "0.0.0.0"])
        #expect(room.output.contains("recording Janus room 1234"), "\(room.output)")
        let alice = try Self.aiortc(janus, "Alice", clip: "colour-ff0000.webm", seconds: 40)
        defer { alice.stop() }
        let bob = try Self.chromium(janus, "Bob", query: "&leave=12")
        defer { bob.stopIfRunning() }
        try await Task.sleep(nanoseconds: 6_000_000_000)
        let early = try await Self.names(room, "janus")
        let carol = try Self.aiortc(janus, "Carol", clip: "colour-0000ff.webm", seconds: 40)
        defer { carol.stop() }
        try await Task.sleep(nanoseconds: 5_000_000_000)
        let all = try await Self.names(room, "janus")
        try await Task.sleep(nanoseconds: 6_000_000_000)
        let late = try await Self.names(room, "janus")
        #expect(early == ["Alice", "Bob"] && all == ["Alice", "Bob", "Carol"] && late == ["Alice", "Carol"], "\(early) then \(all) then \(late)")
        let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/janus/sources")
        let source = (object(data)["sources"] as? [[String: Any]])?.first ?? [:]
        #expect(source["type"] as? String == "janus" && source["state"] as? String == "connected" && source["publishers"] as? [String] == ["Alice", "Carol"],
                "\(source)")
        let path = try room.stopAndRecording("janus")
        // The moments to look at, from the recording's own record of who joined and left when.
        let events = try String(contentsOfFile: path.replacingOccurrences(of: ".mp4", with: ".events.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        func time(_ event: String, _ name: String) -> Double? {
            events.first { $0["event"] as? String == event && $0["name"] as? String == name }?["t"] as? Double
        }
        let bobJoined = try #require(time("join", "Bob")), carolJoined = try #require(time("join", "Carol")), bobLeft = try #require(time("leave", "Bob"))
        let before = carolJoined - 0.6, after = max(carolJoined, bobLeft) + 2.2
        #expect(before > max(bobJoined, time("join", "Alice") ?? 99) + 1, "a moment with Alice and Bob before Carol: \(events.map { "\($0["event"] ?? "") \($0["name"] ?? "") \($0["t"] ?? "")" })")
        let pictures = try decodePictures(path)
        func shares(at seconds: Double) -> (red: Double, blue: Double, bob: Double) {
            guard let p = picture(at: seconds, in: pictures) else { return (0, 1, 1) }
            // Bob's camera is 2060c0 between its white flashes (each second's first 100 ms): look mid-second.
            let calm = picture(at: seconds.rounded(.down) + 0.5, in: pictures) ?? p
            return (Self.share(of: "ff0000", in: p), Self.share(of: "0000ff", in: p), Self.share(of: "2060c0", in: calm))
        }
        let (first, last) = (shares(at: before), shares(at: after))
        print("janus: red/blue/Bob at \(decimal(before, 1)) s \(decimal(first.red, 2))/\(decimal(first.blue, 2))/\(decimal(first.bob, 2)), "
              + "at \(decimal(after, 1)) s \(decimal(last.red, 2))/\(decimal(last.blue, 2))/\(decimal(last.bob, 2))")
        #expect(first.red > 0.1 && first.bob > 0.1 && first.blue < 0.01, "Alice and Bob, not Carol, before Carol joined: \(first)")
        #expect(last.red > 0.1 && last.blue > 0.1 && last.bob < 0.01, "Alice and Carol, not Bob, after Bob left: \(last)")
        let audio = try decodeAudio(path)
        let start = Int(after * 48_000), late15 = audio.left[min(start, audio.left.count)..<min(audio.left.count, start + 2 * 48_000)]
        #expect(goertzel(late15, frequency: 300) > 1e-5 && goertzel(late15, frequency: 494) > 1e-5, "both tones in the mix")
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        // Janus closes Bob's subscription and says he unpublished at about the same time: either tells he left.
        #expect(log.split(separator: "\n").contains { $0.contains("participant=Bob") && $0.hasSuffix("[Rooms] left") },
                "Bob left when he unpublished: \(log.suffix(1200))")
    }

    /// Chromium alone in the Janus room with its flash-and-beep camera and microphone: in sync within 40 ms. Janus
    /// is killed after 10 s and restarted 2 s later: the recording goes on, the source joins again, Chromium
    /// publishes again, and it is the same participant, still in sync.
    @Test func aChromiumPublisherIsInSyncAndSurvivesAJanusRestart() async throws {
        let janus = try JanusServer()
        defer { janus.stop() }
        let room = try RoomProcess(room: "janusr", extra: ["--janus", janus.url, "--janus-room", "1234", "--udp-host", "0.0.0.0", "--fps", "60"])
        let bob = try Self.chromium(janus, "Bob", query: "&republish=1")
        defer { bob.stopIfRunning() }
        try await Task.sleep(nanoseconds: 10_000_000_000)
        janus.kill()
        try await Task.sleep(nanoseconds: 2_000_000_000)
        try janus.start()
        var source: [String: Any] = [:]
        for _ in 0..<60 {
            let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/janusr/sources")
            source = (object(data)["sources"] as? [[String: Any]])?.first ?? [:]
            if source["connections"] as? Int == 2, source["publishers"] as? [String] == ["Bob"] { break }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        #expect(source["connections"] as? Int == 2 && source["publishers"] as? [String] == ["Bob"], "joined Janus again: \(source)")
        try await Task.sleep(nanoseconds: 10_000_000_000)
        #expect(try await Self.names(room, "janusr") == ["Bob"], "one participant throughout")
        let path = try room.stopAndRecording("janusr")
        #expect(room.output.split(separator: "\n").filter { $0.contains("Bob: in the room") }.count == 1, "\(room.output)")
        let events = try flashesAndBeeps(path, region: SyncTests.centre)
        let offsets = pairedOffsets(events.beeps, events.flashes)
        let beeps = events.beeps.filter { b in events.flashes.contains { abs($0 - b) < 0.4 } }
        print("Chromium through Janus, audio - video per flash (ms): \(offsets.map { decimal($0 * 1000, 1) }) at \(beeps.map { decimal($0, 1) }) s")
        let before = zip(beeps, offsets).filter { $0.0 < 10 }.map(\.1), after = zip(beeps, offsets).filter { $0.0 > 16 }.map(\.1)
        #expect(before.count >= 5 && after.count >= 5, "flashes before and after the restart: \(beeps)")
        for (part, list) in [("before", before), ("after", after)] where !list.isEmpty {
            #expect(abs(median(list)) <= 0.040, "\(part) the restart: median audio - video \(decimal(median(list) * 1000, 1)) ms")
        }
    }

    /// Janus rooms that cannot be recorded: each a clear error, the room unharmed.
    @Test func unreachableJanusMissingRoomsAndWrongPINsAreClearErrors() async throws {
        let janus = try JanusServer()
        defer { janus.stop() }
        let room = try RoomProcess(room: nil)
        let closed = try LossyRelay.freePort()
        let cases: [(String, Int, String)] = [
            (#"{"type": "janus", "url": "http://127.0.0.1:\#(closed)/janus", "janus_room": 1234}"#, 502, "cannot reach Janus"),
            (#"{"type": "janus", "url": "\#(janus.url)", "janus_room": 999}"#, 400, "No such room"),
            (#"{"type": "janus", "url": "\#(janus.url)", "janus_room": 4321}"#, 400, "pin"),
            (#"{"type": "janus", "url": "\#(janus.url)", "janus_room": 4321, "pin": "1111"}"#, 400, "pin"),
            (#"{"type": "janus", "url": "\#(janus.url)"}"#, 400, "janus_room"),
            (#"{"type": "janus", "url": "\#(janus.url)", "janus_room": 1234, "offerer": "client"}"#, 400, "offerer"),
        ]
        for (body, expected, reason) in cases {
            let (status, data, _) = try await httpData("POST", "\(room.base)/rooms/janusbad/sources", body: Data(body.utf8), contentType: "application/json")
            let text = String(decoding: data, as: UTF8.self)
            #expect(status == expected && text.lowercased().contains(reason.lowercased()), "\(body): \(status) \(text)")
        }
        // The right PIN joins; a second Janus room for the same room is refused.
        let good = #"{"type": "janus", "url": "\#(janus.url)", "janus_room": 4321, "pin": "9999"}"#
        let (created, body, _) = try await httpData("POST", "\(room.base)/rooms/janusbad/sources", body: Data(good.utf8), contentType: "application/json")
        #expect(created == 201, "\(String(decoding: body, as: UTF8.self))")
        let (twice, _, _) = try await httpData("POST", "\(room.base)/rooms/janusbad/sources", body: Data(good.utf8), contentType: "application/json")
        #expect(twice == 409)
        // Another room of the same server records another Janus room.
        let other = #"{"type": "janus", "url": "\#(janus.url)", "janus_room": 1234}"#
        let (second, secondBody, _) = try await httpData("POST", "\(room.base)/rooms/janusother/sources", body: Data(other.utf8), contentType: "application/json")
        #expect(second == 201, "\(String(decoding: secondBody, as: UTF8.self))")
        let id = try #require(object(body)["id"] as? String)
        #expect(try await http("DELETE", "\(room.base)/rooms/janusbad/sources/\(id)", contentType: nil).0 == 200)
        let (_, list, _) = try await httpData("GET", "\(room.base)/rooms/janusbad/sources")
        #expect((object(list)["sources"] as? [Any])?.isEmpty == true, "nothing left behind")
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("Janus source refused") && log.contains("No such room") && log.contains("cannot reach Janus"), "the log says why: \(log.suffix(800))")
        _ = room.stop()
    }
}
