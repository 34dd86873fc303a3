import Codecs
import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct ChurnTests {
    static let colours = ["ff0000", "00ff00", "0000ff", "ffff00", "ff00ff", "00ffff", "ff8000", "8000ff", "808080", "ffffff",
                          "800000", "008000", "000080", "808000", "008080", "00ff80"]

    func filePublisher(_ room: RoomProcess, _ roomName: String, name: String, colour: String, seconds: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.binary)
        p.arguments = ["publish", "--whip", "\(room.base)/rooms/\(roomName)/whip", "--name", name, "--file", Paths.fixture("colour-\(colour).webm"),
                       "--duration", String(seconds)]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The built-in publisher's test pattern, with churn options, publishing into `roomName` (already running).
    static func patternPublisher(base: String, _ roomName: String, name: String, colour: String, size: String, _ options: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.binary)
        p.arguments = ["publish", "--whip", "\(base)/rooms/\(roomName)/whip", "--name", name, "--colour", colour, "--size", size] + options
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// A 320x180 room recorded for `seconds` after one pattern publisher (colour c04020) with `options` joined:
    /// what the room printed when it stopped, and its recording.
    func recordOnePublisher(_ roomName: String, name: String, size: String, seconds: UInt64, _ options: [String]) async throws -> (String, String) {
        let room = try RoomProcess(room: roomName, extra: ["--size", "320x180"])
        let p = try Self.patternPublisher(base: room.base, roomName, name: name, colour: "c04020", size: size, options)
        defer { p.terminate() }
        _ = try await waitForParticipants(room, roomName, count: 1)
        try await Task.sleep(nanoseconds: seconds * 1_000_000_000)
        let printed = room.stop()
        let path = try #require(printed.split(separator: "\n").first { $0.hasPrefix("recorded \(roomName):") }.map { String($0.split(separator: " ")[2]) })
        return (printed, path)
    }

    /// 25 participants in one room, while 100 more sessions join and leave (10 of them with media for a second): every
    /// tile shows its participant, the output keeps its format and rate, nothing is lost from the room.
    @Test func twentyFiveParticipantsAndAHundredJoinsAndLeaves() async throws {
        let room = try RoomProcess(room: "crowd", extra: ["--size", "640x360", "--fps", "15", "--max-participants", "27"])
        var publishers: [Process] = []
        defer { for p in publishers { p.terminate() } }
        for i in 0..<25 {
            publishers.append(try filePublisher(room, "crowd", name: "P\(i)", colour: Self.colours[i % Self.colours.count], seconds: 30))
        }
        _ = try await waitForParticipants(room, "crowd", count: 25)
        // 10 publishers that send media for a second and leave, one after another, while 90 sessions join and leave
        // by signalling alone (offer, answer, DELETE) as fast as the API takes them.
        let base = room.base
        let withMedia = Task.detached { () -> [Int32] in
            (0..<10).map { i in
                guard let p = try? ChurnTests.patternPublisher(base: base, "crowd", name: "visitor\(i)", colour: "404040", size: "320x240",
                                                               ["--duration", "1"]) else { return -1 }
                p.finish()
                return p.terminationStatus
            }
        }
        let offer = TestPublisher().offer
        for i in 0..<90 {
            let (status, _, headers) = try await http("POST", "\(room.base)/rooms/crowd/whip?name=churn\(i % 7)", body: offer)
            #expect(status == 201, "join \(i)")
            if let location = headers["location"] { #expect(try await http("DELETE", room.base + location, contentType: nil).0 == 200) }
        }
        let statuses = await withMedia.value
        #expect(statuses == Array(repeating: 0, count: 10), "every visitor published and left: \(statuses)")
        #expect(try await http("GET", "\(room.base)/healthz", contentType: nil).0 == 200)
        let (_, described, _) = try await httpData("GET", "\(room.base)/rooms/crowd")
        #expect((object(described)["participants"] as? [Any])?.count == 25)
        try await Task.sleep(nanoseconds: 4_000_000_000)
        let path = try room.stopAndRecording("crowd")
        let pictures = try decodePictures(path)
        #expect(pictures.allSatisfy { $0.width == 640 && $0.height == 360 })
        // A second before the end by the frames' own times: under load the room makes fewer than 15 frames a
        // second, so a count of frames would point back into the churn (and a grid of more than 25).
        let end = Double(try #require(pictures.last).time) / 1e6
        let last = try #require(picture(at: end - 1, in: pictures))
        // 5 x 5 cells of 128 x 72 (in join order, which the processes decide): each shows one of the clips'
        // colours, not a slate or the background.
        var shown = 0, missing: [String] = []
        for i in 0..<25 {
            let cell = PixelRect(x: (i % 5) * 128 + 40, y: (i / 5) * 72 + 24, width: 48, height: 24)
            let mean = last.meanYUV(in: cell)
            if let mean, Self.colours.contains(where: { distance(mean, yuv(ofHex: $0)) < 30 }) { shown += 1; continue }
            missing.append("cell \(i): \(mean.map { "Y \(Int($0.y)) U \(Int($0.u)) V \(Int($0.v))" } ?? "none")")
        }
        #expect(shown == 25, "\(shown) of 25 tiles show a participant; the others: \(missing.joined(separator: ", ")); \(room.output)")
    }

    /// A participant who reconnects under the same name gets its tile back.
    @Test func aReconnectingParticipantGetsItsTileBack() async throws {
        let room = try RoomProcess(room: "back", extra: ["--size", "320x180"])
        let a = try filePublisher(room, "back", name: "Ann", colour: "ff0000", seconds: 16)
        _ = try await waitForParticipants(room, "back", count: 1)
        var b = try filePublisher(room, "back", name: "Bea", colour: "00ff00", seconds: 16)
        _ = try await waitForParticipants(room, "back", count: 2)
        let c = try filePublisher(room, "back", name: "Cy", colour: "0000ff", seconds: 16)
        defer { a.terminate(); c.terminate(); b.terminate() }
        _ = try await waitForParticipants(room, "back", count: 3)
        try await Task.sleep(nanoseconds: 3_000_000_000)
        kill(b.processIdentifier, SIGINT)                      // leaves cleanly (WHIP DELETE)
        b.finish()
        try await Task.sleep(nanoseconds: 2_000_000_000)
        b = try filePublisher(room, "back", name: "Bea", colour: "00ff00", seconds: 10)
        _ = try await waitForParticipants(room, "back", count: 3)
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let path = try room.stopAndRecording("back")
        let pictures = try decodePictures(path)
        // 2 x 2 grid of 160 x 90 cells (4:3 pictures inside): Ann top left, Bea top right, Cy centred below.
        let topRight = PixelRect(x: 200, y: 25, width: 80, height: 40), bottomLeft = PixelRect(x: 120, y: 115, width: 80, height: 40)
        let before = try #require(picture(at: 3, in: pictures)), after = try #require(pictures.dropLast(10).last)
        expectColour(before, topRight, "00ff00", "Bea before she left")
        expectColour(after, topRight, "00ff00", "Bea back in her tile")
        expectColour(after, bottomLeft, "0000ff", "Cy where he was")
    }

    /// A sender whose picture changes size every 2 s and whose SSRCs change every 3 s: the output keeps its format,
    /// and the tile comes back within about a keyframe each time.
    @Test func sizeChangesAndSSRCSwitchesRecoverWithinAKeyframe() async throws {
        let (printed, path) = try await recordOnePublisher("shifty", name: "Shifty", size: "640x480", seconds: 11,
                                                           ["--resize-every", "2", "--switch-ssrc-every", "3", "--duration", "12"])
        let line = try #require(printed.split(separator: "\n").first { $0.contains("Shifty:") }.map(String.init))
        let frozen = try #require(line.range(of: "frozen ").flatMap { Double(line[$0.upperBound...].prefix { $0 != " " && $0 != ";" }) })
        // 5 size changes and 3 SSRC switches in 11 s: each costs a keyframe round trip at most.
        #expect(frozen < 2.5, "frozen \(frozen) s: \(line)")
        let pictures = try decodePictures(path)
        #expect(pictures.allSatisfy { $0.width == 320 && $0.height == 180 })
        let coloured = pictures.filter { $0.time > 1_500_000 }.filter { p in
            // Somewhere in the middle of the canvas the pattern's colour shows, whatever the picture's aspect.
            p.meanYUV(in: PixelRect(x: 140, y: 60, width: 40, height: 30)).map { distance($0, yuv(ofHex: "c04020")) < 40 } ?? false
        }
        let considered = pictures.filter { $0.time > 1_500_000 }.count
        #expect(Double(coloured.count) > Double(considered) * 0.75, "\(coloured.count) of \(considered) frames show the sender")
    }

    /// A sender that stops sending media for 5 s and resumes (RTCP and consent go on): its tile holds the last picture,
    /// shows the slate once the picture is 2 s old, and comes back with the first picture after the pause.
    @Test func aFiveSecondPauseShowsTheSlateAndRecoversWithinAKeyframe() async throws {
        let (_, path) = try await recordOnePublisher("pausing", name: "Pia", size: "320x240", seconds: 15,
                                                     ["--pause-every", "6", "--pause-for", "5", "--duration", "16"])
        let pictures = try decodePictures(path)
        #expect(pictures.allSatisfy { $0.width == 320 && $0.height == 180 }, "the output's format never changes")
        let shows = pictures.map { p in
            p.meanYUV(in: PixelRect(x: 140, y: 60, width: 40, height: 30)).map { distance($0, yuv(ofHex: "c04020")) < 40 } ?? false
        }
        // The longest stretch without the sender's picture after it first showed: the pause minus the 2 s the last
        // picture is held, plus the time to the first picture after it (a keyframe, sent as the pause ends).
        guard let first = shows.firstIndex(of: true) else { Issue.record("the sender never showed"); return }
        var longest = (start: 0, length: 0), run = 0
        for i in first..<shows.count {
            if shows[i] { run = 0 } else { run += 1; if run > longest.length { longest = (i - run + 1, run) } }
        }
        // The 2 s after it (the next pause starts 1 s after this one ends, and its picture is held 2 s).
        let end = min(longest.start + longest.length, pictures.count - 1), after = shows[end..<min(shows.count, end + 60)]
        let gap = Double(pictures[end].time - pictures[longest.start].time) / 1e6
        print("5 s pause: \(String(format: "%.2f", gap)) s without the sender's picture, then \(after.filter { $0 }.count) of \(after.count) frames show it")
        #expect(gap > 2.4 && gap < 3.6, "slate for \(gap) s of a 5 s pause")
        #expect(after.count == 60 && Double(after.filter { $0 }.count) >= Double(after.count) * 0.95,
                "back after the pause: \(after.filter { $0 }.count) of \(after.count) frames")
        // A frozen picture would count as showing the sender; the stretch is the slate (the participant's name on grey).
        let slate = try #require(pictures[longest.start + longest.length / 2].meanYUV(in: PixelRect(x: 0, y: 0, width: 320, height: 180)))
        #expect(distance(slate, yuv(ofHex: "c04020")) > 40, "the slate (mean \(slate)), not the sender's picture")
    }
}
