import Codecs
import Layout
import MediaCore
import Delivery
import Rooms

// The JSON bodies the API answers with, one Encodable type each; docs/openapi.json documents each as a schema
// of the same name, and the route tests check every body against it.

/// Seconds from µs, to the millisecond.
func seconds(_ time: Microseconds) -> Double { Double(time / 1000) / 1000 }

struct TrackBody: Encodable {
    var mid: String, kind: String
    /// Absent until the first frame is decoded; size and rate for video only. `fps` and `bitrate` are averages over
    /// the track's life, `recent_fps` and `recent_bitrate` over the last 2 s.
    var codec: String?, width: Int?, height: Int?, fps: Double?, recentFPS: Double?
    var bitrate: Double, recentBitrate: Double, packets: Int, lost: Int, loss: Double, nacked: Int, recovered: Int
    var keyframeRequests: Int, retransmitted: Int
    var simulcast: SimulcastBody?

    struct SimulcastBody: Encodable {
        struct Layer: Encodable {
            var rid: String
            var width: Int?
            var height: Int?
            var bitrate: Int
        }
        var selected: String?
        var layers: [Layer]
    }

    enum CodingKeys: String, CodingKey {
        case mid, kind, codec, width, height, fps, bitrate, packets, lost, loss, nacked, recovered, simulcast, retransmitted
        case keyframeRequests = "keyframe_requests", recentFPS = "recent_fps", recentBitrate = "recent_bitrate"
    }

    init(_ track: RoomReport.Track) {
        let decoded = track.decoded
        mid = track.mid; kind = track.kind; codec = decoded?.codec
        if track.kind == "video" {
            width = decoded?.width; height = decoded?.height
            fps = ((decoded?.framesPerSecond ?? 0) * 10).rounded() / 10
            recentFPS = ((decoded?.recentFramesPerSecond ?? 0) * 10).rounded() / 10
        }
        bitrate = (decoded?.bitrate ?? 0).rounded()
        recentBitrate = (decoded?.recentBitrate ?? 0).rounded()
        packets = track.packets; lost = track.lost; loss = (track.lossRate * 10_000).rounded() / 10_000
        nacked = track.nacked; recovered = track.recovered; keyframeRequests = track.keyframeRequests
        retransmitted = track.retransmitted
        simulcast = track.simulcast.map { s in
            SimulcastBody(selected: s.selected, layers: s.layers.map { .init(rid: $0.rid, width: $0.width, height: $0.height, bitrate: $0.bitrate) })
        }
    }
}

struct ParticipantBody: Encodable {
    var id: String, name: String, pinned: Bool, hidden: Bool, gain: Double, muted: Bool
    /// Seconds its tile showed a stale picture.
    var frozen: Double
    var tracks: [TrackBody]
    /// What of its offer was not taken, and why (absent when everything was).
    var declined: [String]?

    init(_ p: RoomReport.Participant) {
        id = p.id; name = p.settings.name; pinned = p.settings.pinned; hidden = p.settings.hidden
        gain = Double(p.settings.gain); muted = p.settings.muted
        frozen = Double(p.frozen) / 1e6
        tracks = p.tracks.map(TrackBody.init)
        declined = p.declined.isEmpty ? nil : p.declined
    }
}

/// A finished recording file and how the run went.
struct RecordingFileBody: Encodable {
    struct Lag: Encodable { var max: Double, final: Double }
    struct FasterPreset: Encodable { var seconds: Double, fastest: String }
    struct ReducedRate: Encodable { var seconds: Double, lowest: Double }
    var file: String, duration: Double, size: Int64, frames: Int64
    /// How late the compositor made frames, ms.
    var lag: Lag
    var fasterPreset: FasterPreset?
    var reducedFrameRate: ReducedRate?
    var events: String?, chat: String?
    struct Part: Encodable { var number: Int, file: String, start: Double, duration: Double, size: Int64 }
    /// With parts: each of them (`file` is then the last).
    var parts: [Part]?
    /// The mix as an audio file besides the video.
    var audioFile: String?

    enum CodingKeys: String, CodingKey {
        case file, duration, size, frames, lag, events, chat, parts, audioFile = "audio_file"
        case fasterPreset = "faster_preset", reducedFrameRate = "reduced_frame_rate"
    }

    init(_ s: LiveRecordingSummary) {
        file = s.recording.path; duration = seconds(s.recording.duration); size = s.recording.bytes; frames = s.recording.videoFrames
        lag = Lag(max: Double(s.maxLag / 1000), final: Double(s.finalLag / 1000))
        if s.fasterPreset > 0, let preset = s.fastestPreset { fasterPreset = FasterPreset(seconds: seconds(s.fasterPreset), fastest: preset) }
        if s.reducedRate > 0 { reducedFrameRate = ReducedRate(seconds: seconds(s.reducedRate), lowest: s.lowestRate) }
        events = s.events; chat = s.chat
        audioFile = s.audioFile
        if !s.parts.isEmpty {
            parts = s.parts.map { Part(number: $0.number, file: $0.path, start: seconds($0.start), duration: seconds($0.duration), size: $0.bytes) }
        }
    }
}

/// The recording in progress, or `active: false`.
struct RecordingStateBody: Encodable {
    var active: Bool
    var file: String?, duration: Double?, size: Int?, paused: Bool?
    var liveOutputs: LiveOutputsBody?
    enum CodingKeys: String, CodingKey { case active, file, duration, size, paused, liveOutputs = "live_outputs" }
}

/// A recording's live outputs: HLS (its playlist, renditions, why it stopped) and each RTMP push (key hidden).
struct LiveOutputsBody: Encodable {
    struct HLS: Encodable { var playlist: String, renditions: [String], error: String? }
    struct Push: Encodable { var url: String, state: String }
    var hls: HLS?
    var rtmp: [Push]
    init(_ report: LiveOutputStatus.Report, room: String) {
        hls = report.hls || report.hlsError != nil
            ? HLS(playlist: "/rooms/\(room)/hls/index.m3u8", renditions: report.renditions.map { "\($0.width)x\($0.height)" }, error: report.hlsError) : nil
        rtmp = report.pushes.map { Push(url: $0.url, state: $0.state) }
    }
}

/// POST …/recording/pause and …/resume: where on the recording it paused or goes on (seconds), and how long the
/// pause lasted (resume only).
struct PauseBody: Encodable {
    var paused: Bool
    var time: Double
    var pausedFor: Double?
    enum CodingKeys: String, CodingKey { case paused, time, pausedFor = "paused_for" }
}

struct RoomBody: Encodable {
    var name: String
    var participants: [ParticipantBody]
    var layout: JSONValue
    var recording: RecordingStateBody
    var lastRecording: RecordingFileBody?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case name, participants, layout, recording, error
        case lastRecording = "last_recording"
    }

    init(_ room: RoomReport) {
        name = room.name
        participants = room.participants.map(ParticipantBody.init)
        layout = room.layout.source
        recording = room.recording.map {
            RecordingStateBody(active: true, file: $0.path, duration: seconds($0.duration), size: $0.bytes, paused: $0.paused,
                               liveOutputs: $0.outputs.map { [name = room.name] in LiveOutputsBody($0, room: name) })
        }
            ?? RecordingStateBody(active: false)
        lastRecording = room.lastRecording.map(RecordingFileBody.init)
        error = room.error
    }
}

struct RoomListBody: Encodable { var rooms: [RoomBody] }

struct RecordingStartedBody: Encodable { var room: String, file: String, active: Bool }

/// A participant's settings in force, named as in the change that set them.
struct ParticipantSettingsBody: Encodable { var id: String, name: String, pin: Bool, hide: Bool, gain: Double, mute: Bool }

/// A chat message and when it first showed (seconds into the recording).
struct ChatPostedBody: Encodable { var from: String, text: String, time: Double }

/// An RFC 9457 problem document; `field` names the JSON field a 400 is about.
struct ProblemBody: Encodable {
    var type = "about:blank"
    var title: String, status: Int, detail: String
    var field: String?
}

/// GET /uploads: every upload the journal knows (oldest first) and the webhooks not yet delivered.
struct UploadsBody: Encodable {
    var uploads: [UploadRecord]
    var webhooksPending: Int
    /// Where uploads go (`s3://bucket/prefix`); null without a store.
    var store: String?
    enum CodingKeys: String, CodingKey { case uploads, webhooksPending = "webhooks_pending", store }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(uploads, forKey: .uploads)
        try c.encode(webhooksPending, forKey: .webhooksPending)
        try c.encode(store, forKey: .store)
    }
}
