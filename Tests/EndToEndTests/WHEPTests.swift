import Codecs
import Foundation
import MediaCore
import Testing

/// Pulling a participant from a WHEP server that is not ours (aiortc serving a red clip with a 300 Hz tone): our
/// offer or the server's, redirects and tokens, a server that dies and comes back, and servers that refuse.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WHEPTests {
    static func server(_ extra: [String] = [], port: Int = 0, log: String) throws -> (LoggedPeer, Int) {
        let python = Paths.root.appendingPathComponent(".build-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else { throw MediaError(.invalidArgument, "no aiortc: run scripts/peers-venv.sh (make test does)") }
        let peer = try LoggedPeer(python, [Paths.root.appendingPathComponent("Tests/peers/whep_server.py").path, Paths.fixture("colour-ff0000.webm"),
                                           "--port", String(port)] + extra, log: log)
        guard let ready = peer.line(startingWith: "ready "), let bound = Int(ready) else {
            peer.stop()
            throw MediaError(.invalidArgument, "the WHEP server did not start: \(peer.printed.suffix(500))")
        }
        return (peer, bound)
    }

    static func isRed(_ picture: VideoPicture) -> Bool {
        picture.meanYUV(in: PixelRect(x: 100, y: 60, width: 120, height: 60)).map { distance($0, yuv(ofHex: "ff0000")) < 20 } ?? false
    }

    /// `mcu-record --room R --pull whep+URL`: our offer, the server's answer, full ICE from our side. The server is
    /// killed after 6 s (no goodbye) and restarted once the source has noticed and failed to reconnect: the tile
    /// shows its slate meanwhile, the source comes back as the same participant, and the picture and tone return
    /// in the same recording.
    @Test func ourOfferIsRecordedAndTheSourceComesBackAfterARestart() async throws {
        var (server, port) = try Self.server(log: "whep-client-offer.txt")
        defer { server.stop() }
        let room = try RoomProcess(room: "whep", extra: ["--pull", "whep+http://127.0.0.1:\(port)/whep"])
        #expect(room.output.contains("pulling http://127.0.0.1:\(port)/whep into whep (client offer)"), "\(room.output)")
        try await Task.sleep(nanoseconds: 6_000_000_000)
        kill(server.process.processIdentifier, SIGKILL)
        server.stop()
        // The source notices (no answer to its consent checks) and tries again, failing while the server is down.
        var source: [String: Any] = [:]
        func poll(until done: ([String: Any]) -> Bool) async throws {
            for _ in 0..<60 {
                let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/whep/sources")
                source = (object(data)["sources"] as? [[String: Any]])?.first ?? [:]
                if done(source) { return }
                try await Task.sleep(nanoseconds: 500_000_000)
            }
        }
        try await poll { $0["state"] as? String == "reconnecting" }
        #expect(source["state"] as? String == "reconnecting" && (source["last_error"] as? String)?.contains("consent") == true, "dropped: \(source)")
        try await poll { ($0["last_error"] as? String)?.contains("cannot reach") == true }
        #expect((source["last_error"] as? String)?.contains("cannot reach the WHEP server") == true, "retrying: \(source)")
        (server, port) = try Self.server(port: port, log: "whep-client-offer-again.txt")
        try await poll { $0["connections"] as? Int == 2 && $0["state"] as? String == "connected" }
        #expect(source["connections"] as? Int == 2 && source["state"] as? String == "connected" && source["type"] as? String == "whep",
                "reconnected: \(source)")
        try await Task.sleep(nanoseconds: 5_000_000_000)
        let path = try room.stopAndRecording("whep")
        let pictures = try decodePictures(path)
        let red = pictures.map(Self.isRed)
        let seconds = { (i: Int) in Double(pictures[i].time) / 1e6 }
        // Red from the start, a stretch without (the frozen picture, then the slate), red again at the end.
        let firstRed = try #require(red.firstIndex(of: true))
        let gapStart = try #require(red[firstRed...].firstIndex(of: false))
        let gapEnd = try #require(red[gapStart...].firstIndex(of: true), "the picture came back")
        print("whep restart: red from \(seconds(firstRed)) s, not red \(seconds(gapStart))-\(seconds(gapEnd)) s, \(red[gapEnd...].filter { $0 }.count) red frames after; \(source)")
        #expect(seconds(firstRed) < 3 && seconds(gapStart) > 5, "red from \(seconds(firstRed)) s to \(seconds(gapStart)) s")
        #expect(seconds(gapEnd) - seconds(gapStart) > 3, "a slate from \(seconds(gapStart)) s to \(seconds(gapEnd)) s")
        #expect(red[gapEnd...].filter { $0 }.count > 100, "red after the reconnection")
        let audio = try decodeAudio(path)
        let tail = audio.left[max(0, audio.left.count - 3 * 48_000)...]
        #expect(goertzel(tail, frequency: 300) > 50 * goertzel(tail, frequency: 610), "the tone after the reconnection")
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("source dropped") && log.contains("reconnected"), "\(log.suffix(1500))")
    }

    /// Through the API, a server that only offers itself (406 to our offer) behind a 307 and a bearer token: the
    /// empty POST, the server's offer, our answer PATCHed; DELETE ends the resource and the participant leaves.
    /// The endpoint names a STUN server in its `Link` header: our answer carries the server-reflexive candidate it
    /// gave us.
    @Test func theServersOfferThroughARedirectWithAToken() async throws {
        let stunPort = try LossyRelay.freePort()
        let (server, port) = try Self.server(["--server-offer", "--token", "sesame", "--stun-port", String(stunPort)], log: "whep-server-offer.txt")
        defer { server.stop() }
        let room = try RoomProcess(room: "whepso")
        let body = #"{"type": "whep", "name": "Stage", "url": "http://127.0.0.1:\#(port)/moved", "token": "sesame"}"#
        let (status, data, headers) = try await httpData("POST", "\(room.base)/rooms/whepso/sources", body: Data(body.utf8), contentType: "application/json")
        #expect(status == 201, "\(String(decoding: data, as: UTF8.self))")
        let source = object(data)
        #expect(source["offerer"] as? String == "server" && source["state"] as? String == "connected", "\(source)")
        #expect(server.line(startingWith: "stun binding from 127.0.0.1:", within: 1) != nil, "our STUN binding: \(server.printed.suffix(600))")
        #expect(server.printed.split(separator: "\n").contains { $0.hasPrefix("answer-candidate") && $0.contains("typ srflx raddr 127.0.0.1") },
                "the server-reflexive candidate in our answer: \(server.printed.suffix(600))")
        let id = try #require(source["id"] as? String)
        #expect(headers["location"] == "/rooms/whepso/sources/\(id)")
        try await Task.sleep(nanoseconds: 7_000_000_000)
        let (_, live, _) = try await httpData("GET", "\(room.base)/rooms/whepso")
        #expect((object(live)["participants"] as? [[String: Any]])?.contains { $0["name"] as? String == "Stage" } == true)
        #expect(try await http("DELETE", "\(room.base)/rooms/whepso/sources/\(id)", contentType: nil).0 == 200)
        #expect(server.line(startingWith: "deleted ", within: 5) != nil, "the resource was deleted: \(server.printed.suffix(400))")
        let (_, after, _) = try await httpData("GET", "\(room.base)/rooms/whepso")
        #expect((object(after)["participants"] as? [Any])?.isEmpty == true, "the source left")
        try expectParticipantRecorded(try room.stopAndRecording("whepso"), colour: "ff0000", minFrames: 100, tone: 300, tolerance: 20)
    }

    /// Servers that cannot be pulled from: each a clear error (502 for one we cannot reach, 400 for a refusal that
    /// retrying cannot mend), nothing left behind, and the room goes on.
    @Test func unreachableAndRefusingServersAreClearErrors() async throws {
        let (server, port) = try Self.server(["--token", "sesame"], log: "whep-refusing.txt")
        defer { server.stop() }
        let room = try RoomProcess(room: "whepbad")
        let closed = try LossyRelay.freePort()
        let cases: [(String, Int, String)] = [
            (#"{"type": "whep", "url": "http://127.0.0.1:\#(closed)/whep"}"#, 502, "cannot reach"),
            (#"{"type": "whep", "url": "http://127.0.0.1:\#(port)/whep"}"#, 400, "HTTP 401"),
            (#"{"type": "whep", "url": "http://127.0.0.1:\#(port)/whep", "token": "wrong"}"#, 400, "bearer token"),
            (#"{"type": "whep", "url": "http://127.0.0.1:\#(port)/nowhere", "token": "sesame"}"#, 400, "HTTP 404"),
            (#"{"type": "whep", "url": "ftp://127.0.0.1/whep"}"#, 400, "http"),
            (#"{"type": "whep"}"#, 400, "url"),
            (#"{"type": "whep", "url": "http://127.0.0.1:\#(port)/whep", "sdp": "v=0"}"#, 400, "sdp"),
        ]
        for (body, expected, reason) in cases {
            let (status, data, _) = try await httpData("POST", "\(room.base)/rooms/whepbad/sources", body: Data(body.utf8), contentType: "application/json")
            let text = String(decoding: data, as: UTF8.self)
            #expect(status == expected && text.contains(reason), "\(body): \(status) \(text)")
        }
        let (listed, list, _) = try await httpData("GET", "\(room.base)/rooms/whepbad/sources")
        #expect(listed == 200 && (object(list)["sources"] as? [Any])?.isEmpty == true, "nothing left behind")
        let (_, live, _) = try await httpData("GET", "\(room.base)/rooms/whepbad")
        #expect((object(live)["participants"] as? [Any])?.isEmpty == true)
        let log = (try? String(contentsOfFile: room.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("WHEP source refused") && log.contains("cannot reach the WHEP server") && log.contains("HTTP 401"), "the log says why: \(log.suffix(800))")
        _ = room.stop()
    }
}
