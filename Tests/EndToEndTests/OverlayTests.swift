import Codecs
import Compositor
import Foundation
import Layout
import MediaCore
import Testing
import Text

/// Mean absolute luma difference between a region of a decoded frame and the same region of a reference canvas.
func lumaDifference(_ picture: VideoPicture, _ reference: VideoCanvas, in rect: PixelRect) -> Double {
    var total = 0, count = 0
    for y in rect.y..<rect.maxY {
        for x in rect.x..<rect.maxX {
            guard let a = picture.yuv(x: x, y: y), let b = reference.yuv(x: x, y: y) else { continue }
            total += abs(Int(a.y) - Int(b.y)); count += 1
        }
    }
    return Double(total) / Double(max(1, count))
}

/// Spread of luma in a region (a region with text in it is far from flat).
func lumaSpread(_ canvas: VideoCanvas, in rect: PixelRect) -> Int {
    var low = 255, high = 0
    for y in rect.y..<rect.maxY { for x in rect.x..<rect.maxX { if let v = canvas.yuv(x: x, y: y)?.y { low = min(low, Int(v)); high = max(high, Int(v)) } } }
    return high - low
}

@Suite(.serialized, .timeLimit(.minutes(10))) struct OverlayTests {
    static let background = "2050a0"

    /// An image watermark blended at its opacity where it is configured, a text watermark and the chat box matching
    /// the same renderer's reference, and every chat message in the WebVTT file and the MP4's text track at its time.
    @Test func watermarksAndChatAreDrawnWhereConfiguredAndChatIsKept() async throws {
        let folder = Paths.temporary("overlay")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A solid orange 64x32 image, at 50 % in the top-left corner; a static text at the top right.
        let logo = folder + "/orange.png"
        let made = try mcuRun("/usr/bin/ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0xff8000:s=64x32", "-frames:v", "1", logo])
        #expect(made == 0)
        try #"{"items": [{"image": "orange.png", "anchor": "top-left", "margin": 16, "width": 64, "opacity": 0.5},"#
            .appending(##" {"text": "mcu-record", "anchor": "top-right", "margin": 16, "size": 20, "color": "#ffffff", "background": "#000000", "background_opacity": 1}]}"##)
            .write(toFile: folder + "/watermark.json", atomically: true, encoding: .utf8)
        let chatStyle = #"{"region": {"x": 0, "y": "50%", "width": "50%", "height": "50%"}, "size": 16, "max_lines": 6, "lifetime": 60}"#
        try chatStyle.write(toFile: folder + "/chat.json", atomically: true, encoding: .utf8)
        // The participant's tile in the bottom-right quarter only, on a plain background.
        try ##"{"name": "quarter", "canvas": {"background": "#2050a0"}, "regions": [{"id": "a", "x": "50%", "y": "50%", "width": "50%", "height": "50%", "sources": ["*"]}]}"##
            .write(toFile: folder + "/layout.json", atomically: true, encoding: .utf8)
        let room = try RoomProcess(room: "overlay", extra: ["--size", "640x360", "--layout", folder + "/layout.json",
                                                            "--watermark", folder + "/watermark.json", "--chat-overlay", folder + "/chat.json"])
        let publisher = try publishPattern(room, "Dora", room: "overlay", colour: "c0c040", seconds: 10)
        defer { publisher.terminate() }
        _ = try await waitForParticipants(room, "overlay", count: 1)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let messages = [("Zoë", "Grüße, Привет, Γειά σου — ça va?"),
                        ("Ops", "A longer message that has to wrap over more than one line of the chat box, with characters the font lacks: 漢字")]
        var times: [Double] = []
        for (from, text) in messages {
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["from": from, "text": text]), as: UTF8.self)
            let (status, answer, _) = try await http("POST", "\(room.base)/rooms/overlay/chat", body: body, contentType: "application/json")
            #expect(status == 201, "\(answer)")
            times.append(try #require(object(Data(answer.utf8))["time"] as? Double))
            try await Task.sleep(nanoseconds: 300_000_000)
        }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let path = try room.stopAndRecording("overlay")
        let pictures = try decodePictures(path)
        let frame = try #require(pictures.last)
        let size = PixelSize(width: 640, height: 360)

        // The image: the decoded colour equals the blend formula of the image over the background.
        let under = RGBAColor(hex: Self.background)!.yuv, over = RGBAColor(hex: "ff8000")!.yuv
        let blend = { (d: UInt8, s: UInt8) -> Double in Double((Int(d) * 127 + Int(s) * 128 + 127) / 255) }
        let expected = (y: blend(under.y, over.y), u: blend(under.u, over.u), v: blend(under.v, over.v))
        let mean = try #require(frame.meanYUV(in: PixelRect(x: 24, y: 22, width: 48, height: 20)))
        #expect(distance(mean, expected) < 6, "image watermark: found \(mean), the formula gives \(expected)")
        // Just outside it: the plain background.
        expectColour(frame, PixelRect(x: 100, y: 16, width: 40, height: 32), Self.background, "beside the image")

        // The text watermark and the chat box against references made by the same renderer.
        let text = try TextRenderer()
        let reference = try VideoCanvas(size: size)
        reference.fill(color: RGBAColor(hex: Self.background)!)
        let marks = try WatermarkDocument.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/watermark.json"))))
        let textItem = marks.items[1]
        WatermarkOverlay(item: textItem, image: nil, text: text).draw(on: reference, time: 0, wallclock: 0)
        let style = try ChatOverlayStyle.parse(bytes: Array(chatStyle.utf8))
        let chat = ChatOverlay(style: style, text: text)
        for (from, message) in messages { chat.add(.init(from: from, text: message, time: 0)) }
        chat.draw(on: reference, time: 0, wallclock: 0)
        let mask = text.render("mcu-record", size: 20)
        let pad = max(2, mask.height / 6) & ~1
        let textBox = WatermarkOverlay.placement(of: textItem, size: PixelSize(width: mask.width + 2 * pad, height: mask.height + 2 * pad), canvas: size)
        #expect(lumaSpread(reference, in: textBox) > 150, "the reference text box has text in it")
        let textDifference = lumaDifference(frame, reference, in: textBox)
        #expect(textDifference < 10, "text watermark differs from the reference by \(textDifference) per pixel")
        let chatArea = chat.region(in: size)
        #expect(lumaSpread(reference, in: chatArea) > 150, "the reference chat box has text in it")
        let chatDifference = lumaDifference(frame, reference, in: chatArea)
        #expect(chatDifference < 10, "chat box differs from the reference by \(chatDifference) per pixel")
        let backgroundLuma = Double(RGBAColor(hex: Self.background)!.yuv.y)
        let boxLuma = try #require(frame.meanYUV(in: PixelRect(x: chatArea.x + 2, y: chatArea.maxY - 8, width: chatArea.width - 4, height: 4))).y
        #expect(abs(boxLuma - backgroundLuma) > 20, "the chat box differs from the background")

        // Every message in the WebVTT file and the MP4's text track, at its time.
        let vtt = try String(contentsOfFile: path.replacingOccurrences(of: ".mp4", with: ".chat.vtt"), encoding: .utf8)
        #expect(vtt.hasPrefix("WEBVTT"))
        // Samples of 2 bytes are the empty ones the muxer puts in the gaps between cues.
        let track = try mcuProbe(["-select_streams", "s", "-show_entries", "packet=pts_time,size", "-of", "csv=p=0", path])
        let trackTimes = track.split(separator: "\n").compactMap { line -> Double? in
            let fields = line.split(separator: ",")
            guard fields.count == 2, let size = Int(fields[1]), size > 2 else { return nil }
            return Double(fields[0])
        }
        let trackText = try mcuOutput("/usr/bin/ffmpeg", ["-loglevel", "error", "-i", path, "-map", "0:s:0", "-f", "webvtt", "-"])
        #expect(trackTimes.count == messages.count, "text track packets: \(track)")
        // Cues outliving the recording are cut at its end: the file lasts as long as its video.
        let fileDuration = try #require(Double(try mcuProbe(["-show_entries", "format=duration", "-of", "csv=p=0", path]).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(abs(fileDuration - Double(pictures.count) / 30) < 0.3, "file lasts \(fileDuration) s for \(pictures.count) frames")
        for ((from, message), time) in zip(messages, times) {
            let stamp = vttStamp(time)
            #expect(vtt.contains("\(stamp) --> "), "no cue at \(stamp) in \(vtt)")
            #expect(vtt.contains("<v \(from)>\(message)"), "no cue for \(message)")
            #expect(trackTimes.contains { abs($0 - time) < 0.002 }, "no text sample at \(time): \(trackTimes)")
            #expect(trackText.contains(message), "text track lacks \(message): \(trackText)")
        }
    }
}

func vttStamp(_ seconds: Double) -> String {
    let ms = Int((seconds * 1000).rounded())
    return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

func mcuRun(_ tool: String, _ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.finish()
    return p.terminationStatus
}

func mcuOutput(_ tool: String, _ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.finish()
    return String(decoding: data, as: UTF8.self)
}

extension OverlayTests {
    /// A bad watermark or chat file stops start-up with a message naming the file and the field.
    @Test(arguments: [
        ("watermark", #"{"items": [{"image": "missing.png"}]}"#, "items[0].image"),
        ("watermark", ##"{"items": [{"text": "x", "colour": "#fff"}]}"##, "items[0].colour"),
        ("watermark", #"{"items": [{"text": "x", "anchor": "middle"}]}"#, "items[0].anchor"),
        ("watermark", #"{"items": [ }"#, "not valid JSON"),
        ("chat-overlay", #"{"region": {"x": "200%"}}"#, "region.x"),
        ("chat-overlay", #"{"font": "/nonexistent/font.ttf"}"#, "font"),
        ("chat-overlay", #"{"max_lines": 0}"#, "max_lines"),
    ])
    func aBadPresentationFileStopsStartUpNamingTheFileAndField(option: String, document: String, field: String) throws {
        let path = Paths.temporary("bad-\(option)-\(abs(document.hashValue)).json")
        try document.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try mcuRecord(["--room", "bad", "--http", "127.0.0.1:0", "--\(option)", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains(path) && result.stderr.contains(field), "\(result.stderr)")
    }
}

extension OverlayTests {
    /// A re-render given a live recording's events file follows its layout timeline and pins, and carries its
    /// chapters and chat.
    @Test func composeReplaysAnEventsFile() throws {
        let events = Paths.temporary("replay.events.jsonl")
        let lines = [
            ##"{"t":0,"event":"recording","file":"x.mp4","layout":{"name":"grid","regions":[{"id":"main","sources":["*"]}]},"room":"r"}"##,
            ##"{"t":0,"event":"join","name":"Red","participant":"id-red"}"##,
            ##"{"t":0,"event":"join","name":"Blue","participant":"id-blue"}"##,
            ##"{"t":1,"event":"layout","layout":{"name":"solo","canvas":{"background":"#00ff00"},"regions":[{"id":"a","x":0,"y":0,"width":"50%","height":"50%","mode":"single","sources":["@speaker"]}]}}"##,
            ##"{"t":1.5,"event":"participant","gain":1,"hidden":false,"muted":false,"name":"Blue","participant":"id-blue","pinned":true}"##,
            ##"{"t":1.2,"event":"chat","from":"Ops","text":"replayed"}"##,
            ##"{"t":1.3,"event":"speaker","participant":"id-red"}"##,
        ]
        try lines.joined(separator: "\n").write(toFile: events, atomically: true, encoding: .utf8)
        let output = try compose("replay", layout: "grid", inputs: [Paths.fixture("colour-ff0000.webm") + "@0", "file=\(Paths.fixture("colour-0000ff.webm")),name=Blue"],
                                 size: "320x180", extra: ["--events", events])
        let pictures = try decodePictures(output)
        let quarter = PixelRect(x: 20, y: 10, width: 120, height: 70), outside = PixelRect(x: 200, y: 120, width: 100, height: 50)
        // Before 1 s the grid (no green); from 1 s the solo layout on green; from 1.5 s Blue pinned into it.
        #expect(distance(try #require(picture(at: 0.5, in: pictures)?.meanYUV(in: outside)), yuv(ofHex: "00ff00")) > 40)
        expectColour(try #require(picture(at: 1.2, in: pictures)), outside, "00ff00", "the replayed layout at 1.2 s")
        expectColour(try #require(picture(at: 2.0, in: pictures)), quarter, "0000ff", "the pinned participant at 2 s")
        let chapters = try mcuProbe(["-show_chapters", "-of", "csv=p=0", output])
        #expect(chapters.contains("solo"), "chapters: \(chapters)")
        let text = try mcuOutput("/usr/bin/ffmpeg", ["-loglevel", "error", "-i", output, "-map", "0:s:0", "-f", "webvtt", "-"])
        #expect(text.contains("Ops: replayed"), "\(text)")
    }
}
