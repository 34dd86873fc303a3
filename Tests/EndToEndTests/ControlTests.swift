import Codecs
import Foundation
import Layout
import MediaCore
import Testing

/// The built-in test-pattern publisher (`mcu-record publish`) as a child process.
func publishPattern(_ room: RoomProcess, _ name: String, room roomName: String, colour: String, seconds: Int, token: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Paths.binary)
    p.arguments = ["publish", "--whip", "\(room.base)/rooms/\(roomName)/whip", "--name", name, "--colour", colour, "--size", "320x240",
                   "--duration", String(seconds)] + (token.map { ["--token", $0] } ?? [])
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

func object(_ data: Data) -> [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }

/// Waits until the room lists `count` participants (their ids, in join order).
func waitForParticipants(_ room: RoomProcess, _ name: String, count: Int, token: String? = nil) async throws -> [String] {
    for _ in 0..<100 {
        let (_, data, _) = try await httpData("GET", "\(room.base)/rooms/\(name)", token: token)
        let list = (object(data)["participants"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        if list.count >= count { return list }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    throw MediaError(.invalidArgument, "fewer than \(count) participants joined")
}

@Suite(.serialized, .timeLimit(.minutes(10))) struct ControlTests {
    /// A layout PUT during a live room is in the MP4 from the frame the response names; an invalid one answers
    /// 400 with the field path and leaves the layout in force.
    @Test func aLayoutAppliedThroughTheAPIIsInTheFileFromTheFrameItNames() async throws {
        let room = try RoomProcess(room: "steer", extra: ["--fps", "30"])
        let publisher = try publishPattern(room, "Alice", room: "steer", colour: "2060c0", seconds: 8)
        defer { publisher.terminate() }
        _ = try await waitForParticipants(room, "steer", count: 1)
        try await Task.sleep(nanoseconds: 2_500_000_000)
        let layout = ##"{"name": "corner", "canvas": {"background": "#00ff00"}, "regions": [{"id": "a", "x": 0, "y": 0, "width": "50%", "height": "50%", "sources": ["*"]}]}"##
        let (status, body, headers) = try await http("PUT", "\(room.base)/rooms/steer/layout", body: layout, contentType: "application/json")
        #expect(status == 200, "\(body)")
        #expect(body.contains("\"corner\""))
        let frame = try #require(headers["layout-frame"].flatMap { Int($0) })
        // Invalid: the field is named, the layout in force stays.
        let (bad, problem, badHeaders) = try await http("PUT", "\(room.base)/rooms/steer/layout",
                                                        body: ##"{"regions": [{"id": "a", "max_rows": 0}]}"##, contentType: "application/json")
        #expect(bad == 400)
        #expect(badHeaders["content-type"] == "application/problem+json")
        #expect(problem.contains("\"field\":\"regions[0].max_rows\""), "\(problem)")
        let (_, current, _) = try await http("GET", "\(room.base)/rooms/steer/layout", contentType: nil)
        #expect(current.contains("\"corner\""))
        // The preset form with overrides.
        let (presetStatus, presetBody, presetHeaders) = try await http("PUT", "\(room.base)/rooms/steer/layout",
                                                           body: ##"{"preset": "grid", "canvas": {"background": "#ff0000"}}"##, contentType: "application/json")
        #expect(presetStatus == 200 && presetBody.contains("#ff0000"), "\(presetBody)")
        let presetFrame = try #require(presetHeaders["layout-frame"].flatMap { Int($0) })
        #expect(presetFrame > frame)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let path = try room.stopAndRecording("steer")
        let pictures = try decodePictures(path)
        try #require(pictures.count > presetFrame + 5)
        // 320x180 canvas: the grid shows the 4:3 picture with black bars; the corner layout is green outside its region.
        let bar = PixelRect(x: 300, y: 150, width: 16, height: 24)
        expectColour(pictures[frame - 1], bar, "000000", "frame \(frame - 1), before the change")
        expectColour(pictures[frame], bar, "00ff00", "frame \(frame), the first with the new layout")
        expectColour(pictures[presetFrame - 1], bar, "00ff00", "frame \(presetFrame - 1), the last with it")
        expectColour(pictures[presetFrame], bar, "ff0000", "frame \(presetFrame), the grid preset with a red background")
        let events = try String(contentsOfFile: path.replacingOccurrences(of: ".mp4", with: ".events.jsonl"), encoding: .utf8)
        #expect(events.contains("\"event\":\"layout\""))
        #expect(events.contains("\"event\":\"join\""))
        // Chapters at the layout changes.
        let chapters = try mcuProbe(["-show_chapters", "-of", "csv=p=0", path])
        #expect(chapters.split(separator: "\n").count >= 3, "chapters: \(chapters)")
    }

    /// Every route answers, with RFC 9457 problems for what is wrong: 401, 404, 409, 400 with the field, 413, 415.
    @Test func everyRouteAnswersAndBadRequestsGetTheRightProblem() async throws {
        let token = "s3cret-token"
        let assets = Paths.temporary("assets")
        try FileManager.default.createDirectory(atPath: assets, withIntermediateDirectories: true)
        #expect(try mcuRun("/usr/bin/ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0xff8000:s=64x32", "-frames:v", "1", assets + "/logo.png"]) == 0)
        let room = try RoomProcess(room: nil, extra: ["--token", token, "--manual-recording", "--assets", assets])
        defer { _ = room.stop() }
        let base = room.base
        // Health and the pages need no token; everything else does.
        #expect(try await http("GET", "\(base)/healthz", contentType: nil).0 == 200)
        #expect(try await http("GET", "\(base)/rooms", contentType: nil).0 == 401)
        #expect(try await http("GET", "\(base)/rooms", contentType: nil, token: "wrong").0 == 401)
        let (listed, list, _) = try await http("GET", "\(base)/rooms", contentType: nil, token: token)
        #expect(listed == 200 && list.contains("\"rooms\":[]"), "\(list)")
        // A room made by the API alone, recorded, stopped.
        #expect(try await http("GET", "\(base)/rooms/api", contentType: nil, token: token).0 == 404)
        let (created, createdBody, _) = try await http("POST", "\(base)/rooms/api/recording", contentType: nil, token: token)
        #expect(created == 201, "\(createdBody)")
        let (again, againBody, againHeaders) = try await http("POST", "\(base)/rooms/api/recording", contentType: nil, token: token)
        #expect(again == 409 && againBody.contains("already recording"))
        #expect(againHeaders["content-type"] == "application/problem+json")
        let publisher = try publishPattern(room, "Bob", room: "api", colour: "c02020", seconds: 6, token: token)
        defer { publisher.terminate() }
        let ids = try await waitForParticipants(room, "api", count: 1, token: token)
        let (_, roomBody, _) = try await httpData("GET", "\(base)/rooms/api", token: token)
        let described = object(roomBody)
        #expect((described["recording"] as? [String: Any])?["active"] as? Bool == true)
        let tracks = ((described["participants"] as? [[String: Any]])?.first?["tracks"] as? [[String: Any]]) ?? []
        #expect(Set(tracks.compactMap { $0["kind"] as? String }) == ["audio", "video"], "\(tracks)")
        // Participants.
        let patch = "\(base)/rooms/api/participants/\(ids[0])"
        let (patched, patchedBody, _) = try await http("PATCH", patch, body: ##"{"name": "Robert", "gain": 0.5, "mute": false, "pin": true, "hide": false}"##,
                                                       contentType: "application/json", token: token)
        #expect(patched == 200 && patchedBody.contains("\"Robert\""), "\(patchedBody)")
        let (unknownField, unknownBody, _) = try await http("PATCH", patch, body: ##"{"nmae": "x"}"##, contentType: "application/json", token: token)
        #expect(unknownField == 400 && unknownBody.contains("\"field\":\"nmae\""), "\(unknownBody)")
        #expect(try await http("PATCH", patch, body: ##"{"gain": 99}"##, contentType: "application/json", token: token).0 == 400)
        #expect(try await http("PATCH", "\(base)/rooms/api/participants/nobody", body: "{}", contentType: "application/json", token: token).0 == 404)
        #expect(try await http("PATCH", "\(base)/rooms/none/participants/x", body: "{}", contentType: "application/json", token: token).0 == 404)
        // Bodies: malformed, wrong type, too large.
        let layoutURL = "\(base)/rooms/api/layout"
        #expect(try await http("PUT", layoutURL, body: "{\"regions\": [", contentType: "application/json", token: token).0 == 400)
        #expect(try await http("PUT", layoutURL, body: "{}", contentType: "text/plain", token: token).0 == 415)
        let huge = "{\"name\": \"" + String(repeating: "x", count: 2 << 20) + "\"}"
        #expect(try await http("PUT", layoutURL, body: huge, contentType: "application/json", token: token).0 == 413)
        #expect(try await http("PUT", "\(base)/rooms/none/layout", body: "{}", contentType: "application/json", token: token).0 == 404)
        let (putStatus, _, _) = try await http("PUT", layoutURL, body: ##"{"preset": "speaker"}"##, contentType: "application/json", token: token)
        #expect(putStatus == 200)
        #expect(try await http("GET", layoutURL, contentType: nil, token: token).1.contains("\"speaker\""))
        // Watermarks through the API: images from the assets folder only.
        let watermark = "\(base)/rooms/api/watermark"
        let (marked, markedBody, _) = try await http("PUT", watermark, body: #"{"items": [{"image": "logo.png", "anchor": "top-left", "opacity": 0.5}]}"#,
                                                     contentType: "application/json", token: token)
        #expect(marked == 200 && markedBody.contains("logo.png"), "\(markedBody)")
        #expect(try await http("GET", watermark, contentType: nil, token: token).1.contains("logo.png"))
        for escape in ["../assets/logo.png", "/etc/hostname", "nothing.png"] {
            let (refused, refusal, _) = try await http("PUT", watermark, body: "{\"items\": [{\"image\": \"\(escape)\"}]}", contentType: "application/json", token: token)
            #expect(refused == 400 && refusal.contains("items[0].image"), "\(escape): \(refusal)")
        }
        let (badZ, badZBody, _) = try await http("PUT", watermark, body: #"{"items": [{"text": "x", "z": "middle"}]}"#, contentType: "application/json", token: token)
        #expect(badZ == 400 && badZBody.contains("items[0].z"), "\(badZBody)")
        // WHIP: trickle ICE is not needed (ICE-lite, candidates in the answer); a session that does not exist.
        #expect(try await http("PATCH", "\(base)/rooms/api/whip/\(ids[0])", body: "a=candidate", contentType: "application/trickle-ice-sdpfrag", token: token).0 == 405)
        #expect(try await http("DELETE", "\(base)/rooms/api/whip/nobody", contentType: nil, token: token).0 == 404)
        #expect(try await http("POST", "\(base)/rooms/api/whip", body: "v=0", contentType: "text/plain", token: token).0 == 415)
        // Chat and snapshot.
        let (chatted, chatBody, _) = try await http("POST", "\(base)/rooms/api/chat", body: ##"{"from": "Ops", "text": "hello"}"##, contentType: "application/json", token: token)
        #expect(chatted == 201, "\(chatBody)")
        #expect(try await http("POST", "\(base)/rooms/api/chat", body: ##"{"from": "Ops"}"##, contentType: "application/json", token: token).0 == 400)
        let (shot, jpeg, shotHeaders) = try await httpData("GET", "\(base)/rooms/api/snapshot.jpg", token: token)
        #expect(shot == 200 && shotHeaders["content-type"] == "image/jpeg" && jpeg.prefix(2) == Data([0xFF, 0xD8]))
        #expect(try await http("GET", "\(base)/rooms/none/snapshot.jpg", contentType: nil, token: token).0 == 404)
        // Metrics and the API description.
        let (metrics, metricsBody, _) = try await http("GET", "\(base)/metrics", contentType: nil, token: token)
        #expect(metrics == 200 && metricsBody.contains("mcu_rooms") && metricsBody.contains("mcu_participants"), "\(metricsBody.prefix(400))")
        let (spec, specBody, _) = try await httpData("GET", "\(base)/openapi.json", token: token)
        #expect(spec == 200 && (object(specBody)["openapi"] as? String)?.hasPrefix("3.1") == true)
        let committed = try Data(contentsOf: Paths.root.appendingPathComponent("docs/openapi.json"))
        #expect(specBody == committed, "the served OpenAPI document differs from docs/openapi.json: run make openapi")
        // Stop: the file's path, duration and size; a second stop conflicts.
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let (stopped, stoppedBody, _) = try await httpData("DELETE", "\(base)/rooms/api/recording", token: token)
        let summary = object(stoppedBody)
        #expect(stopped == 200)
        let file = try #require(summary["file"] as? String)
        #expect((summary["duration"] as? Double ?? 0) > 1 && (summary["size"] as? Double ?? 0) > 1000, "\(summary)")
        #expect(try decodePictures(file).count > 30)
        #expect(try await http("DELETE", "\(base)/rooms/api/recording", contentType: nil, token: token).0 == 409)
        #expect(try await http("POST", "\(base)/rooms/api/chat", body: ##"{"text": "late"}"##, contentType: "application/json", token: token).0 == 409)
        #expect(try await http("GET", "\(base)/rooms/bad%20name", contentType: nil, token: token).0 == 400)
    }
}

extension ControlTests {
    /// The control page in headless Chromium lists the live room and its participant, switches the layout on a
    /// click and shows the live snapshot; the screenshot is kept in .build/test-output/control-page.png.
    @Test func theControlPageSteersALiveRoom() async throws {
        let token = "page-token"
        let room = try RoomProcess(room: "page", extra: ["--token", token])
        defer { _ = room.stop() }
        let publisher = try publishPattern(room, "Carol", room: "page", colour: "20a040", seconds: 25, token: token)
        defer { publisher.terminate() }
        _ = try await waitForParticipants(room, "page", count: 1, token: token)
        let folder = Paths.root.appendingPathComponent(".build/test-output")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let screenshot = folder.appendingPathComponent("control-page.png").path
        try? FileManager.default.removeItem(atPath: screenshot)
        let driver = Process()
        driver.executableURL = Paths.root.appendingPathComponent(".build-venv/bin/python")
        driver.arguments = [Paths.root.appendingPathComponent("Tests/peers/control_page.py").path, room.base, "page", "Carol", "speaker", screenshot, token]
        let out = Pipe()
        driver.standardOutput = out
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        driver.finish()
        let result = object(Data(printed.utf8))
        #expect(result["listed"] as? Bool == true, "the page did not list the room and Carol: \(printed)")
        #expect(result["clicked"] as? Bool == true, "the preset click did not apply: \(printed)")
        #expect(result["snapshot"] as? Bool == true, "no snapshot shown: \(printed)")
        let (_, layout, _) = try await http("GET", "\(room.base)/rooms/page/layout", contentType: nil, token: token)
        #expect(layout.contains("\"name\":\"speaker\""), "layout after the click: \(layout)")
        #expect(FileManager.default.fileExists(atPath: screenshot))
        print("control page screenshot: \(screenshot)")
    }
}

/// ffprobe's output (for chapters and text tracks, which the project's reader does not decode).
func mcuProbe(_ arguments: [String]) throws -> String {
    try mcuOutput("/usr/bin/ffprobe", ["-v", "error"] + arguments)
}
