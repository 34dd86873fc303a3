import FoundationEssentials
import Layout
import MediaCore
import Output
import Recorder
import Testing
@testable import Codecs
@testable import Rooms
@testable import Server
import Delivery

/// The API's Codable bodies against the OpenAPI schemas of the same name, both ways: a body with every optional
/// field set conforms and shows every documented property; a request type accepts exactly the documented
/// fields and requires exactly the documented ones.
@Suite(.timeLimit(.minutes(1))) struct APIBodyTests {
    static func encoded(_ body: some Encodable) throws -> JSONValue {
        try JSONParser.parse(Array(try JSONEncoder().encode(body)))
    }

    static func schema(_ name: String) throws -> JSONValue {
        try #require(RouteTests.schemas.resolve("#/components/schemas/\(name)"), "no schema \(name)")
    }

    static var everything: RoomReport {
        let decoded = TrackStatistics(codec: "vp8", width: 640, height: 360, frames: 300, framesPerSecond: 29.97, bitrate: 812_345,
                                      recentFramesPerSecond: 15, recentBitrate: 301_000,
                                      dropped: 0, bytes: 1_000_000, decodeTime: 1_000)
        let simulcast = RoomReport.Simulcast(layers: [.init(rid: "q", width: 320, height: 180, bitrate: 150_000),
                                                      .init(rid: "f", width: 1280, height: 720, bitrate: 0)], selected: "q")
        let track = RoomReport.Track(mid: "1", kind: "video", packets: 1000, lost: 3, nacked: 5, recovered: 2, keyframeRequests: 1, decoded: decoded,
                                     simulcast: simulcast)
        var settings = ParticipantSettings(name: "Ann")
        settings.pinned = true
        let summary = LiveRecordingSummary(recording: RecordingSummary(path: "/r/a.mp4", duration: 12_345_678, bytes: 4096, videoFrames: 370),
                                           parts: [PartSummary(number: 1, path: "/r/a-part001.mp4", start: 0, duration: 12_345_678, bytes: 4096, frames: 370)],
                                           audioFile: "/r/a.m4a",
                                           participants: [], tracks: [], maxLag: 40_000, finalLag: 2_000, events: "/r/a.events.jsonl",
                                           chat: "/r/a.vtt", reducedRate: 1_000_000, lowestRate: 15, fasterPreset: 2_000_000, fastestPreset: "ultrafast")
        return RoomReport(name: "r", participants: [RoomReport.Participant(id: "p", settings: settings, frozen: 250_000, tracks: [track], declined: ["no common video codec"])],
                          layout: LayoutPresets.document(named: "grid")!, recording: RoomReport.Recording(path: "/r/b.mp4", duration: 5_000_000, bytes: 10, paused: true,
                                                                                                          outputs: .init(hls: true, hlsError: "the 480p rendition: disk full", renditions: [PixelSize(width: 854, height: 480)],
                                                                                                                         pushes: [.init(url: "rtmp://a/live/…", state: "connected")])),
                          lastRecording: summary, error: "recording stopped: disk full")
    }

    /// An upload with every field set (a multipart one that failed, then completed).
    static var upload: UploadRecord {
        var record = UploadRecord(id: "r-1.mp4", file: "/r/r-1.mp4", key: "rec/r-1.mp4", recording: "r-1", room: "r", size: 9_000_000,
                                  partSize: 8 << 20, created: 1_764_500_000, webhooks: ["https://example.com/h"])
        record.state = .completed
        record.uploadID = "2~abc"
        record.parts = [.init(number: 1, etag: "\"a\"", size: 8 << 20), .init(number: 2, etag: "\"b\"", size: 611_392)]
        record.attempts = 2
        record.lastError = "cannot reach the store"
        record.etag = "\"c-2\""
        record.failingSince = 1_764_500_010
        record.finished = 1_764_500_030
        record.localRemoved = true
        return record
    }

    /// A finished recording in a folder, with every field known.
    static var entry: RecordingCatalog.Entry {
        RecordingCatalog.Entry(id: "r-1", room: "r", folder: "calls", files: [.init(name: "r-1.mp4", size: 4096, kind: "recording")], recording: false,
                               hls: true, started: 1_764_500_000, ended: 1_764_500_060, duration: 60, participants: ["Ann"], modified: 1_764_500_061)
    }

    static var failedUpload: UploadRecord {
        var record = upload
        record.recording = "r-1"
        record.state = .failed
        return record
    }

    @Test func responseBodiesMatchTheirSchemas() throws {
        let room = RoomBody(APIBodyTests.everything)
        let samples: [(String, JSONValue)] = [
            ("RoomList", try APIBodyTests.encoded(RoomListBody(rooms: [room]))),
            ("RecordingFile", try APIBodyTests.encoded(RecordingFileBody(APIBodyTests.everything.lastRecording!))),
            ("RecordingStarted", try APIBodyTests.encoded(RecordingStartedBody(room: "r", file: "/r/a.mp4", active: true))),
            ("ParticipantSettings", try APIBodyTests.encoded(ParticipantSettingsBody(id: "p", name: "Ann", pin: true, hide: false, gain: 1.5, mute: false))),
            ("ChatPosted", try APIBodyTests.encoded(ChatPostedBody(from: "Ann", text: "hi", time: 1.25))),
            ("RecordingList", try APIBodyTests.encoded(RecordingListBody(recordings: [RecordingBody(APIBodyTests.entry, uploads: [APIBodyTests.failedUpload])]))),
            ("Links", try APIBodyTests.encoded(LinksBody(expires: 1_764_503_600, files: [.init(name: "r-1.mp4", url: "/recordings/r-1/files/r-1.mp4?expires=1&signature=x")]))),
            ("Pause", try APIBodyTests.encoded(PauseBody(paused: false, time: 12.5, pausedFor: 4.25))),
            ("Uploads", try APIBodyTests.encoded(UploadsBody(uploads: [APIBodyTests.upload], webhooksPending: 2, store: "s3://calls/rec/"))),
            ("Problem", try APIBodyTests.encoded(ProblemBody(title: "Bad Request", status: 400, detail: "must be a number", field: "gain"))),
        ]
        for (name, value) in samples {
            let problems = RouteTests.schemas.problems(value, try APIBodyTests.schema(name), complete: true)
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
        // The checker itself: a body with a field the schema lacks, or without a required one, fails.
        #expect(!RouteTests.schemas.problems(.object([("room", .string("r"))]), try APIBodyTests.schema("RecordingStarted")).isEmpty)
        #expect(!RouteTests.schemas.problems(try APIBodyTests.encoded(ChatPostedBody(from: "a", text: "b", time: 1)),
                                             try APIBodyTests.schema("ParticipantSettings")).isEmpty)
    }

    @Test func requestTypesAcceptTheDocumentedFields() throws {
        func check<T: Decodable>(_ type: T.Type, keys: [String], schema name: String) throws {
            let schema = try APIBodyTests.schema(name)
            guard case let .object(properties)? = schema["properties"] else { Issue.record("\(name) lists no properties"); return }
            #expect(Set(keys) == Set(properties.map(\.0)), "\(name): the type reads \(keys.sorted()), the document lists \(properties.map(\.0).sorted())")
            var required: Set<String> = []
            if case let .array(list)? = schema["required"] { for case let .string(key) in list { required.insert(key) } }
            // What `{}` is refused for is what the type requires.
            var missing: Set<String> = []
            do { _ = try JSONDecoder().decode(T.self, from: Data("{}".utf8)) } catch let error as DecodingError {
                if let field = RequestDecoding.field(error) { missing.insert(field) }
            }
            #expect(missing == required, "\(name): the type requires \(missing.sorted()), the document \(required.sorted())")
            // An undocumented field is refused, by name.
            do {
                _ = try JSONDecoder().decode(T.self, from: Data(#"{"undocumented": 1}"#.utf8))
                Issue.record("\(name): an unknown field was accepted")
            } catch let error as RoomError {
                #expect(error.field == "undocumented")
            } catch let error as DecodingError {
                #expect(required.contains(RequestDecoding.field(error) ?? ""), "\(name): \(error)")
            }
        }
        try check(StartRecordingRequest.self, keys: StartRecordingRequest.CodingKeys.allCases.map(\.stringValue), schema: "StartRecording")
        try check(ParticipantChange.self, keys: ParticipantChange.CodingKeys.allCases.map(\.stringValue), schema: "ParticipantChange")
        try check(ChatRequest.self, keys: ChatRequest.CodingKeys.allCases.map(\.stringValue), schema: "Chat")
        try check(LinkRequest.self, keys: LinkRequest.CodingKeys.allCases.map(\.stringValue), schema: "LinkRequest")
    }

    /// Sources are a union (rtp or whep): each field of the body and the request is documented, and back.
    @Test func sourceBodiesListTheDocumentedFields() throws {
        for (name, keys) in [("Source", SourceBody.CodingKeys.allCases.map(\.stringValue)), ("SourceRequest", SourceRequest.CodingKeys.allCases.map(\.stringValue))] {
            guard case let .object(properties)? = try APIBodyTests.schema(name)["properties"] else { Issue.record("\(name) lists no properties"); continue }
            #expect(Set(keys) == Set(properties.map(\.0)), "\(name): the type has \(keys.sorted()), the document \(properties.map(\.0).sorted())")
        }
        let rtp = RTPSource(id: "s", room: "r", name: "Encoder", host: "192.0.2.1", streams: [.init(mid: "0", kind: "video", codec: "vp8", payloadType: 96,
                                                                                                   clockRate: 90000, port: 5004, rtcpPort: 5005)],
                            rtcpMux: false, declined: [], sdp: "v=0")
        let problems = RouteTests.schemas.problems(try APIBodyTests.encoded(SourceBody(rtp)), try APIBodyTests.schema("Source"))
        #expect(problems.isEmpty, "\(problems)")
        for (body, field) in [(#"{"type": "whep"}"#, "url"), (#"{"type": "whep", "url": "http://x/w", "offerer": "me"}"#, "offerer"),
                              (#"{"type": "rtp", "sdp": "v=0", "url": "http://x/w"}"#, "url"), (#"{"type": "sfu"}"#, "type"),
                              (#"{"type": "janus", "url": "http://x/janus"}"#, "janus_room"), (#"{"type": "janus", "url": "http://x/janus", "janus_room": 1, "name": "x"}"#, "name"),
                              (#"{"type": "whep", "url": "http://x/w", "pin": "1"}"#, "pin")] {
            #expect(throws: RoomError.self, "\(body)") { _ = try JSONDecoder().decode(SourceRequest.self, from: Data(body.utf8)) }
            do { _ = try JSONDecoder().decode(SourceRequest.self, from: Data(body.utf8)) } catch let error as RoomError { #expect(error.field == field, "\(body): \(error)") }
        }
    }

    @Test func decodingErrorsNameTheField() throws {
        for (body, field, reason) in [(#"{"gain": "loud"}"#, "gain", "must be a number"), (#"{"pin": 1}"#, "pin", "must be true or false"),
                                      (#"{"name": null}"#, "name", "must not be null"), (#"[]"#, nil, "the body must be a JSON object"),
                                      (#"{"gain": 9}"#, "gain", "must be a number from 0 to 4"), (#"{"name": ""}"#, "name", "must be a string of 1-64 characters")] {
            do {
                _ = try JSONDecoder().decode(ParticipantChange.self, from: Data(body.utf8))
                Issue.record("\(body) was accepted")
            } catch let error as DecodingError {
                #expect(RequestDecoding.field(error) == field && RequestDecoding.reason(error) == reason, "\(body): \(error)")
            } catch let error as RoomError {
                #expect(error.field == field && error.reason == reason, "\(body): \(error)")
            }
        }
    }
}
