import MediaCore

public struct EncoderSettings: Sendable, Hashable {
    public var size: PixelSize
    public var fps: Rational
    /// x264 preset, `ultrafast` … `veryslow`.
    public var preset: String
    /// Constant rate factor; ignored when `bitrate` is set.
    public var crf: Int
    /// Target video bitrate in bit/s (ABR) instead of CRF.
    public var bitrate: Int?
    public var keyframeInterval: Double
    public var audioBitrate: Int
    /// Longest stretch of media the fragmented file holds in memory before it reaches the disk.
    public var fragmentDuration: Microseconds
    /// x264 threads; 0 lets x264 choose.
    public var threads: Int
    /// Keyframes exactly every `keyframeInterval`, none at scene cuts (so that renditions can cut at the same frames).
    public var fixedKeyframes = false

    public init(size: PixelSize, fps: Rational = Rational(30), preset: String = "veryfast", crf: Int = 23, bitrate: Int? = nil,
                keyframeInterval: Double = 2, audioBitrate: Int = 128_000, fragmentDuration: Microseconds = 500_000, threads: Int = 0) {
        self.size = size; self.fps = fps; self.preset = preset; self.crf = crf; self.bitrate = bitrate
        self.keyframeInterval = keyframeInterval; self.audioBitrate = audioBitrate
        self.fragmentDuration = fragmentDuration; self.threads = threads
    }

    public static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]

    /// The x264 settings that shape the H.264 stream headers (SPS, PPS), as each preset sets them, and its subpixel
    /// refinement (psy-rd, on from subme 6, lowers the chroma QP offset in the PPS by 2). Encoders opened with the
    /// configured preset's values pinned write identical headers whatever their preset, so a recording can step to a
    /// faster preset mid-file. (ultrafast alone drops B-frames, CABAC, the 8x8 transform and weighted prediction;
    /// it is the fastest anyway, so it is never the configured preset of a stepping encoder.)
    private static let headerSettings: [String: (ref: Int, bframes: Int, weightp: Int, subme: Int)] = [
        "ultrafast": (1, 0, 0, 0), "superfast": (1, 3, 1, 1), "veryfast": (1, 3, 1, 2), "faster": (2, 3, 1, 4),
        "fast": (2, 3, 1, 6), "medium": (3, 3, 2, 7), "slow": (5, 3, 2, 8), "slower": (8, 3, 2, 9), "veryslow": (16, 8, 2, 10),
    ]

    /// x264-params for an encoder at `preset` in a recording configured at `configured`; nil: no pinning possible.
    static func pinnedParameters(configured: String, preset: String) -> String? {
        guard configured != "ultrafast", let header = headerSettings[configured], let actual = headerSettings[preset] else { return nil }
        var pinned = "ref=\(header.ref):bframes=\(header.bframes):weightp=\(header.weightp):b-pyramid=normal:weightb=1:cabac=1:8x8dct=1"
        if header.subme >= 6 && actual.subme < 6 { pinned += ":chroma-qp-offset=-2" }
        return pinned
    }
}

/// What a finished recording is.
public struct RecordingSummary: Sendable {
    public var path: String
    public var duration: Microseconds
    public var bytes: Int64
    public var videoFrames: Int64
    public init(path: String, duration: Microseconds, bytes: Int64, videoFrames: Int64) {
        self.path = path; self.duration = duration; self.bytes = bytes; self.videoFrames = videoFrames
    }
}
