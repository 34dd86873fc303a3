import Foundation
import Layout
import MediaCore
import Testing

@Suite(.timeLimit(.minutes(2))) struct JSONParserTests {
    /// Duplicate keys are found in linear time: a 1 MiB object of ~100k keys (a scan per key took 10 s of CPU in a
    /// release build, far longer in a debug one) parses in well under 2 s here, and a duplicate at its end is found.
    @Test(.timeLimit(.minutes(1))) func aHugeObjectParsesInLinearTime() throws {
        var text = "{"
        var k = 0
        while text.utf8.count < 1 << 20 { text += (k == 0 ? "" : ",") + "\"k\(k)\":0"; k += 1 }
        let started = ContinuousClock.now
        guard case let .object(entries) = try JSONParser.parse(text + "}") else { Issue.record("not an object"); return }
        let spent = ContinuousClock.now - started
        #expect(entries.count == k && k > 90_000)
        #expect(spent < .seconds(2), "\(k) keys took \(spent)")
        #expect(throws: JSONSyntaxError.self) { _ = try JSONParser.parse(text + ",\"k7\":1}") }
    }

    @Test func parsesValuesAndKeepsKeyOrder() throws {
        let value = try JSONParser.parse(#"{"b": [1, 2.5, -3e2, true, null], "a": "x\u00e9\n\ud83d\ude00"}"#)
        guard case let .object(entries) = value else { Issue.record("not an object"); return }
        #expect(entries.map(\.0) == ["b", "a"])
        #expect(value["a"] == .string("xé\n😀"))
        #expect(value["b"] == .array([.number(1), .number(2.5), .number(-300), .bool(true), .null]))
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9), ("[1 2]", 1, 4), ("{\"a\" 1}", 1, 6), ("\"abc", 1, 5), ("{}\n x", 2, 2),
        ("01", 1, 2), ("{\"a\":1,\"a\":2}", 1, 11), ("\"\\ud800\"", 1, 8), ("", 1, 1),
    ])
    func reportsWhereSyntaxIsWrong(text: String, line: Int, column: Int) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.line == line, "\(text): \(error)")
            #expect(error.column == column, "\(text): \(error)")
        }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func roundTrips() throws {
        let text = #"{"x":[1,2.5,"a\"b"],"y":{"z":null}}"#
        #expect(try JSONParser.parse(text).serialized == text)
    }
}

@Suite(.timeLimit(.minutes(2))) struct LayoutParserTests {
    func error(_ text: String) -> MediaError? {
        do { _ = try LayoutParser.parse(text); return nil } catch { return error }
    }

    @Test(arguments: [
        (#"{"regions":[{"id":"a"},{"id":"b","max_rows":0}]}"#, "regions[1].max_rows", "must be ≥ 1"),
        (##"{"regions":[{"id":"a","colour":"#fff"}]}"##, "regions[0].colour", "unknown field"),
        (#"{"regions":[{"fit":"fill"}]}"#, "regions[0].fit", "must be one of contain, cover, stretch"),
        (#"{"regions":[{"x":"120%"}]}"#, "regions[0].x", "percentage"),
        (#"{"regions":[{"border":{"color":"red"}}]}"#, "regions[0].border.color", "colour"),
        (#"{"regions":[{"sources":["@boss"]}]}"#, "regions[0].sources[0]", "unknown role"),
        (#"{"regions":[{"opacity":2}]}"#, "regions[0].opacity", "between"),
        (#"{"regions":[]}"#, "regions", "at least one"),
        (#"{"canvas":{"width":640,"height":360},"regions":[{"x":600,"width":100}]}"#, "regions[0].width", "exceeds"),
        (#"{"canvas":{"width":640},"regions":[{}]}"#, "canvas", "together"),
        (#"{"canvas":{"fps":0},"regions":[{}]}"#, "canvas.fps", "frame rate"),
        (#"{}"#, "regions", "required"),
        (#"[]"#, "(document)", "must be an object"),
        (#"{"video_layout":{"main":{"reuse":"show_all"}}}"#, "video_layout.main.reuse", "show_oldest"),
        (#"{"video_layout":{"main":{"z_pos":100}}}"#, "video_layout.main.z_pos", "≤ 99"),
        (#"{"video_layout":{"main":{"max_columns":1.5}}}"#, "video_layout.main.max_columns", "integer"),
        (#"{"resolution":"1280x","video_layout":{"main":{}}}"#, "resolution", "WIDTHxHEIGHT"),
        (#"{"video_layout":{"main":{"video_sources":"*"}}}"#, "video_layout.main.video_sources", "array"),
        (#"{"video_layout":{"main":{"x_pos":10}},"extra":1}"#, "extra", "unknown field"),
    ])
    func refusesWithFieldPath(text: String, path: String, reason: String) {
        guard let error = error(text) else { Issue.record("accepted \(text)"); return }
        #expect(error.code == .invalidLayout)
        #expect(error.location == path, "\(error)")
        #expect(error.message.contains(reason), "\(error)")
    }

    @Test func syntaxErrorsSayWhere() {
        let error = error("{\n  \"regions\": [\n    {\"id\": \"a\",}\n  ]\n}")
        #expect(error?.message.contains("line 3, column 16") == true, "\(String(describing: error))")
    }

    @Test func acceptsTwilioDocumentUnchanged() throws {
        let layout = try LayoutParser.parse("""
        {"resolution":"1280x720","format":"mp4","trim":true,"audio_sources":["*"],"audio_sources_excluded":["bot"],
         "video_layout":{"main":{"z_pos":1,"x_pos":10,"y_pos":0,"width":640,"height":480,"max_columns":2,"max_rows":2,
           "cells_excluded":[1],"reuse":"show_newest","video_sources":["alice*","bob"],"video_sources_excluded":["bob"]}}}
        """)
        let region = try #require(layout.regions.first)
        #expect(region.style == .twilio)
        #expect(region.x == .pixels(10) && region.width == .pixels(640) && region.z == 1)
        #expect(region.maxColumns == 2 && region.maxRows == 2 && region.cellsExcluded == [1])
        #expect(region.overflow == .showNewest)
        #expect(region.sources == [.pattern("alice*"), .pattern("bob")])
        #expect(layout.canvasSize() == PixelSize(width: 1280, height: 720))
        #expect(!layout.audioIncludes(SourceDescriptor(id: "bot")))
    }

    @Test func presetsParseAndMatchTheirFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in LayoutPresets.names {
            let file = try String(contentsOf: root.appendingPathComponent("Layouts/\(name).json"), encoding: .utf8)
            #expect(file.trimmingCharacters(in: .newlines) == LayoutPresets.documents[name]?.trimmingCharacters(in: .newlines),
                    "Layouts/\(name).json differs from the embedded preset: run `make presets`")
            #expect(LayoutPresets.document(named: name) != nil, "\(name) does not parse")
        }
        for example in ["twilio-grid", "twilio-pip"] {
            let file = try String(contentsOf: root.appendingPathComponent("Layouts/examples/\(example).json"), encoding: .utf8)
            _ = try LayoutParser.parse(file)
        }
    }

    @Test func wildcards() {
        #expect(SourceSelector.pattern("*").matches(SourceDescriptor(id: "x")))
        #expect(SourceSelector.pattern("cam-*").matches(SourceDescriptor(id: "cam-12")))
        #expect(!SourceSelector.pattern("cam-*").matches(SourceDescriptor(id: "screen-1")))
        #expect(SourceSelector.pattern("*a*b").matches(SourceDescriptor(id: "xxaxxb")))
        #expect(SourceSelector.pattern("Alice").matches(SourceDescriptor(id: "p1", name: "Alice")))
        #expect(!SourceSelector.pattern("a?c").matches(SourceDescriptor(id: "abc")))
    }
}
