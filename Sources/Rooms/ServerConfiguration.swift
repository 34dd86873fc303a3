import Codecs
import Layout
import MediaCore
import Output
import Recorder

public struct ServerConfiguration: Sendable {
    public var udpHost = "127.0.0.1"
    public var udpPort = 0
    /// Addresses announced as ICE host candidates (NAT or containers: the public one).
    public var announceIPs: [String] = ["127.0.0.1"]
    public var token: String?
    public var layout: LayoutDocument
    public var recordings = "recordings"
    public var size = PixelSize(width: 1280, height: 720)
    public var fps = Rational(30)
    public var preset = "veryfast"
    public var crf = 23
    public var maxParticipants = 25
    public var maxRooms = 16
    /// Media sections one participant may publish (camera, microphone, a screen share, its audio).
    public var maxTracksPerParticipant = 4
    public var latency: Microseconds = 400_000
    /// When set, each participant's tracks are also written here as received (`--tracks`).
    public var tracks: String?
    /// When set, only these rooms accept publishers (the CLI's `--room`).
    public var allowedRooms: Set<String>?
    /// Start recording a room when its first participant joins (and it has not recorded yet); otherwise
    /// recordings start and stop through the API only.
    public var autoRecord = true
    /// Watermarks, chat overlay and fonts of every room's composite.
    public var presentation = RoomPresentation()
    /// Where watermark images given through the API are read from (nothing outside it).
    public var assets = "assets"
    /// New recordings are refused (503) when the recordings' file system has less free space than this.
    public var minFreeBytes: Int64 = 100 << 20
    /// Admission: a new recording is refused (503) when the CPU the recordings use now, plus what one of them
    /// costs on average, would pass this share of the machine's cores.
    public var maxLoad = 0.9
    /// A room that has been empty and not recording this long is freed (its name and its slot under `maxRooms`).
    public var roomGrace: Microseconds = 60_000_000
    /// Live outputs of every recording from its encoded stream: HLS beside the file (`NAME.hls/index.m3u8`, served at
    /// `/rooms/ROOM/hls/index.m3u8`), and RTMP pushes (`{room}` in a URL is the room's name).
    public var hls = false
    /// Heights of extra HLS renditions (e.g. 480): each scales the composite once and has its own encoder.
    public var hlsRenditions: [Int] = []
    public var rtmp: [String] = []
    /// Audio-only recordings in this format (no video decoded, composed or encoded); a video recording's extra audio
    /// file; audio-only: these participants (by name) on the left channel, the rest on the right.
    public var audioOnly: AudioFormat?
    public var audioFile: AudioFormat?
    public var dualChannelLeft: Set<String>?
    /// Cut recordings into parts (`--max-part-duration`, `--max-part-size`); nil: one file.
    public var parts: PartPolicy?
    /// What each sender is asked to send for its video, from its tile in the layout.
    public var videoBitrate = VideoBitratePolicy()

    public init(layout: LayoutDocument) { self.layout = layout }
}
