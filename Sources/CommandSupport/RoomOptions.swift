import ArgumentParser

/// The options of a live room, shared by `mcu-record room` (which hands them on) and `mcu-record-server` (which
/// runs the room), so both parse and document them identically.
public struct RoomOptions: ParsableArguments {
    public init() {}

    @Option(name: .long, help: "Room name (letters, digits, '-' and '_'). Without it the server takes any room (made by WHIP or the API).")
    public var room: String?

    @Flag(name: .customLong("manual-recording"), help: "Record only when the API starts a recording (default: when the first participant joins).")
    public var manualRecording = false

    @Option(name: .long, help: "Watermark file (JSON: images and texts, see Layouts/README.md).")
    public var watermark: String?

    @Option(name: .customLong("chat-overlay"), help: "Chat overlay file (JSON: region, font, colours, lines, lifetime).")
    public var chatOverlay: String?

    @Option(name: .customLong("max-participants"), help: "Participants per room.")
    public var maxParticipants: Int = 25

    @Option(name: .customLong("max-rooms"), help: "Rooms at once (without --room).")
    public var maxRooms: Int = 16

    @Option(name: .customLong("max-load"), help: "Refuse new recordings when the running ones and one more would use more than this share of the cores (above 1: over-commit; the rooms then degrade).")
    public var maxLoad: Double = 0.9

    @Option(name: .customLong("video-bits-per-pixel"), help: "Video each sender is asked for (REMB), per pixel of its tile per frame.")
    public var videoBitsPerPixel: Double = 0.1

    @Option(name: .customLong("min-video-bitrate"), help: "Video each sender is asked for at least, kbit/s (a participant in no tile or a tiny one).")
    public var minVideoBitrate: Int = 150

    @Option(name: .customLong("max-video-bitrate"), help: "Video each sender is asked for at most, kbit/s.")
    public var maxVideoBitrate: Int = 4000

    @Option(name: .customLong("min-free-space"), help: "Refuse new recordings when the recordings' disk has fewer MiB free.")
    public var minFreeSpace: Int = 100

    @Option(name: .long, help: "Folder of the images watermarks set through the API may use (PUT /rooms/NAME/watermark).")
    public var assets: String = "assets"

    @Option(name: .long, help: "Layout preset or layout JSON file.")
    public var layout: String = "grid"

    @Option(name: .long, help: "Folder for recordings.")
    public var output: String = "recordings"

    @Option(name: .long, help: "Also write each participant's tracks as received (WebM, or Matroska for H.264) to this folder.")
    public var tracks: String?

    @Option(name: .long, help: "HTTP address for WHIP and the pages, HOST:PORT.")
    public var http: String = "127.0.0.1:8080"

    @Option(name: .customLong("udp-port"), help: "The one UDP port for all media (0 picks a free one).")
    public var udpPort: Int = 0

    @Option(name: .customLong("udp-host"), help: "Address the UDP port binds to.")
    public var udpHost: String = "127.0.0.1"

    @Option(name: .customLong("announce-ip"), help: "Address announced in ICE candidates (repeat for several; default: the UDP bind address).")
    public var announceIP: [String] = []

    @Option(name: .long, help: "Bearer token required on every request (or MCU_TOKEN).")
    public var token: String?

    @Option(name: .long, help: "Pull a participant into --room from a server: whep+http(s)://… (a WHEP endpoint; repeat for several).")
    public var pull: [String] = []

    @Option(name: .customLong("pull-token"), help: "Bearer token for the --pull servers (or MCU_PULL_TOKEN).")
    public var pullToken: String?

    @Option(name: .long, help: "Record a Janus VideoRoom into --room: Janus's HTTP API, http(s)://HOST:8088/janus (with --janus-room).")
    public var janus: String?

    @Option(name: .customLong("janus-room"), help: "The Janus VideoRoom to record (its numeric id, or its name when Janus uses string ids).")
    public var janusRoom: String?

    @Option(name: .customLong("janus-pin"), help: "The VideoRoom's PIN, if it has one (or MCU_JANUS_PIN).")
    public var janusPin: String?

    @Option(name: .long, help: "STUN server (HOST:PORT) for a server-reflexive candidate on connections the recorder opens (behind NAT).")
    public var stun: String?

    @Option(name: .customLong("idle-timeout"), help: "Stop after this many seconds with nobody in the room (after someone joined).")
    public var idleTimeout: Double = 60

    @Option(name: .customLong("max-duration"), help: "Stop after this many seconds in all.")
    public var maxDuration: Double?

    @Option(name: .long, help: "Canvas size WIDTHxHEIGHT.")
    public var size: String = "1280x720"

    @Option(name: .long, help: "Output frame rate, e.g. 30 or 30000/1001.")
    public var fps: String = "30"

    @Option(name: .customLong("max-part-duration"), help: "Cut recordings into parts of at most so many seconds: complete MP4s (NAME-part001.mp4, …) that play one after another without a gap.")
    public var maxPartDuration: Double?

    @Option(name: .customLong("max-part-size"), help: "… or of at most so many MB.")
    public var maxPartSize: Double?

    @Option(name: .customLong("audio-only"), help: "Record audio only, as m4a (AAC), ogg (Opus), mp3 or wav: no video decoded, composed or encoded.")
    public var audioOnly: String?

    @Option(name: .customLong("audio-file"), help: "A video recording also writes its mix as NAME.FORMAT (m4a, ogg, mp3 or wav).")
    public var audioFile: String?

    @Option(name: .customLong("dual-channel"), help: "With --audio-only: these participants (names, comma-separated) on the left channel, everyone else on the right.")
    public var dualChannel: String?

    @Flag(name: .customLong("hls"), help: "Also stream each recording as HLS (fMP4 segments from the recording's own encoder), written beside it as NAME.hls/ and served at /rooms/ROOM/hls/index.m3u8.")
    public var hls = false

    @Option(name: .customLong("hls-rendition"), help: "With --hls: also an HLS rendition this many lines high (e.g. 480), scaled from the composite and encoded by its own x264; index.m3u8 becomes the master playlist. Repeatable.")
    public var hlsRendition: [Int] = []

    @Option(name: .customLong("rtmp"), help: "Also push each recording to this RTMP(S) URL ({room} is the room's name), reconnecting when the connection drops. Repeatable.")
    public var rtmp: [String] = []

    @OptionGroup(title: "Delivery (uploads and webhooks)") public var delivery: DeliveryOptions

    @Option(name: .long, help: "x264 preset.")
    public var preset: String = "veryfast"

    @Option(name: .long, help: "x264 constant rate factor.")
    public var crf: Int = 23

    /// The options as command-line arguments again, for handing the room to `mcu-record-server`. The tokens are
    /// left out: they go through the environment (`MCU_TOKEN`, `MCU_PULL_TOKEN`, `MCU_JANUS_PIN`) so they never show in the process list.
    public var arguments: [String] {
        var list = ["--layout", layout, "--output", output, "--http", http,
                    "--udp-port", String(udpPort), "--udp-host", udpHost,
                    "--idle-timeout", String(idleTimeout), "--size", size, "--fps", fps, "--preset", preset, "--crf", String(crf)]
        for ip in announceIP { list += ["--announce-ip", ip] }
        if let maxDuration { list += ["--max-duration", String(maxDuration)] }
        if let tracks { list += ["--tracks", tracks] }
        if let room { list += ["--room", room] }
        if manualRecording { list.append("--manual-recording") }
        for url in pull { list += ["--pull", url] }
        if let stun { list += ["--stun", stun] }
        if let janus { list += ["--janus", janus] }
        if let janusRoom { list += ["--janus-room", janusRoom] }
        if let watermark { list += ["--watermark", watermark] }
        if let chatOverlay { list += ["--chat-overlay", chatOverlay] }
        if let maxPartDuration { list += ["--max-part-duration", String(maxPartDuration)] }
        if let maxPartSize { list += ["--max-part-size", String(maxPartSize)] }
        if hls { list.append("--hls") }
        for height in hlsRendition { list += ["--hls-rendition", String(height)] }
        if let audioOnly { list += ["--audio-only", audioOnly] }
        if let audioFile { list += ["--audio-file", audioFile] }
        if let dualChannel { list += ["--dual-channel", dualChannel] }
        for url in rtmp { list += ["--rtmp", url] }
        list += ["--assets", assets, "--max-participants", String(maxParticipants), "--max-rooms", String(maxRooms),
                 "--min-free-space", String(minFreeSpace), "--max-load", String(maxLoad),
                 "--video-bits-per-pixel", String(videoBitsPerPixel), "--min-video-bitrate", String(minVideoBitrate),
                 "--max-video-bitrate", String(maxVideoBitrate)]
        return list + delivery.arguments
    }
}
