import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct LimitTests {
    /// Limits on participants, rooms, tracks per participant and offer size answer with the right status, and the
    /// session URL carries a 32-character random id.
    @Test func limitsAreEnforcedWithTheRightStatus() async throws {
        let room = try RoomProcess(room: nil, extra: ["--max-participants", "1", "--max-rooms", "2", "--manual-recording"])
        defer { _ = room.stop() }
        let offer = TestPublisher().offer
        let (first, _, headers) = try await http("POST", "\(room.base)/rooms/one/whip", body: offer)
        #expect(first == 201)
        let location = try #require(headers["location"])
        let id = String(location.split(separator: "/").last ?? "")
        #expect(location.hasPrefix("/rooms/one/whip/") && id.count == 32 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "\(location)")
        let (full, fullBody, _) = try await http("POST", "\(room.base)/rooms/one/whip", body: offer)
        #expect(full == 409 && fullBody.contains("full"), "\(fullBody)")
        #expect(try await http("POST", "\(room.base)/rooms/two/recording", contentType: nil).0 == 201)
        let (tooMany, tooManyBody, _) = try await http("POST", "\(room.base)/rooms/three/recording", contentType: nil)
        #expect(tooMany == 503 && tooManyBody.contains("too many rooms"), "\(tooManyBody)")
        // Six media sections from one participant; an offer over 64 KiB.
        let audio = offer.components(separatedBy: "m=audio")[1].components(separatedBy: "m=video")[0]
        let crowded = offer.replacingOccurrences(of: "a=group:BUNDLE 0 1", with: "a=group:BUNDLE 0 1 2 3 4 5")
            + (2...5).map { "m=audio" + audio.replacingOccurrences(of: "a=mid:0", with: "a=mid:\($0)") }.joined()
        let (tracks, tracksBody, _) = try await http("POST", "\(room.base)/rooms/two/whip", body: crowded)
        #expect(tracks == 400 && tracksBody.contains("at most 4"), "\(tracksBody)")
        let huge = offer + String(repeating: "a=x-padding:0123456789abcdef\r\n", count: 3000)
        #expect(try await http("POST", "\(room.base)/rooms/two/whip", body: huge).0 == 413)
    }

    /// A room that ends by itself — at its maximum duration, or idle after everyone left — shuts its HTTP server down
    /// gracefully: the recording is reported and the log holds no error lines.
    @Test func roomsThatEndByThemselvesStopCleanly() async throws {
        for limit in [["--max-duration", "5"], ["--idle-timeout", "2"]] {
            let room = try RoomProcess(room: "limit", extra: limit)
            let publisher = try publishPattern(room, "Ann", room: "limit", colour: "40c040", seconds: 3)
            defer { publisher.stopIfRunning() }
            let printed = room.exited(within: 60)
            #expect(printed?.contains("recorded limit:") == true, "\(limit): \(printed ?? "still running after 60 s")")
        }
    }
}
