import Foundation
import MediaCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct RecordingsAPITests {
    /// A player without the token: Chromium opens a recording through a signed link (the server's token is set),
    /// seeks with HTTP ranges, and shows the right frame at each time — Ann's red tile early, Bea's green one from the
    /// middle on. The same link altered, or expired, is refused with 403.
    @Test func chromiumSeeksARecordingThroughASignedLink() async throws {
        let folder = Paths.temporary("seek-\(UInt32.random(in: 0...UInt32.max))")
        let token = "seek-token-\(UInt32.random(in: 0...UInt32.max))"
        let room = try RoomProcess(room: "seek", extra: ["--output", folder, "--token", token])
        defer { room.process.stopIfRunning() }
        let ann = try publishPattern(room, "Ann", room: "seek", colour: "d04030", seconds: 4, token: token)
        defer { ann.terminate() }
        _ = try await waitForParticipants(room, "seek", count: 1, token: token)
        ann.waitUntilExit()
        let bea = try publishPattern(room, "Bea", room: "seek", colour: "30a050", seconds: 8, token: token)
        defer { bea.terminate() }
        bea.waitUntilExit()
        let (stopped, body, _) = try await httpData("DELETE", "\(room.base)/rooms/seek/recording", token: token)
        #expect(stopped == 200)
        let file = try #require(object(body)["file"] as? String)
        let id = String(file.split(separator: "/").last!.dropLast(4))

        let (refused, _, _) = try await httpData("GET", "\(room.base)/recordings/\(id)/files/\(id).mp4")
        #expect(refused == 401, "without the token or a signature")
        let (made, linkBody, _) = try await httpData("POST", "\(room.base)/recordings/\(id)/links", body: Data(#"{"expires_in": 300}"#.utf8),
                                                     contentType: "application/json", token: token)
        #expect(made == 201)
        let url = try #require((object(linkBody)["files"] as? [[String: Any]])?.first { $0["name"] as? String == "\(id).mp4" }?["url"] as? String)
        let result = try run(peersPython, [peerScript("video_seek.py"), room.base + url, "1.5", "mid", "-1"], within: 90)
        let seen = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(seen["ranges"] as? Bool == true, "Chromium fetched the video in ranges")
        // The publisher's pattern flashes white for one frame a second: of the two looks at each time, the tile's
        // colour is the one that is not a flash.
        func white(_ rgb: [Int]) -> Bool { rgb.count == 3 && rgb.allSatisfy { $0 > 200 } }
        let frames = (seen["frames"] as? [[String: Any]] ?? []).compactMap { look -> [Int]? in
            guard let first = look["rgb"] as? [Int], let after = look["after"] as? [Int] else { return nil }
            return white(first) ? after : first
        }
        #expect(frames.count == 3, "\(seen)")
        func near(_ rgb: [Int], _ hex: (Int, Int, Int)) -> Bool { rgb.count == 3 && abs(rgb[0] - hex.0) + abs(rgb[1] - hex.1) + abs(rgb[2] - hex.2) < 90 }
        if frames.count == 3 {
            #expect(near(frames[0], (0xd0, 0x40, 0x30)), "at 1.5 s: \(frames[0]), Ann's red")
            #expect(near(frames[1], (0x30, 0xa0, 0x50)), "in the middle: \(frames[1]), Bea's green")
            #expect(near(frames[2], (0x30, 0xa0, 0x50)), "at the end: \(frames[2]), Bea's green")
        }
        let (altered, _, _) = try await httpData("GET", room.base + url.replacingOccurrences(of: "signature=", with: "signature=A"))
        #expect(altered == 403)
        let (expired, _, _) = try await httpData("GET", room.base + url.replacingOccurrences(of: "expires=", with: "expires=1"))
        #expect(expired == 403)
        _ = room.stop()
    }
}
