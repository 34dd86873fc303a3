import Codecs
import Compositor
import Layout
import Recorder
import MediaCore

/// What a room is doing now, in the room's own terms (the HTTP layer decides how it is shown).
public struct RoomReport: Sendable {
    /// One received track: what its session counted and what its decoder made of it.
    public struct Track: Sendable {
        public var mid: String
        public var kind: String
        /// Packets received and lost for good, NACKed and recovered, keyframe requests sent.
        public var packets: Int, lost: Int, nacked: Int, recovered: Int, keyframeRequests: Int
        /// Packets that came as retransmissions in an RTX stream.
        public var retransmitted = 0
        /// Nil until the first frame is decoded.
        public var decoded: TrackStatistics?
        /// A simulcast track's layers (what each sends now) and the one decoded.
        public var simulcast: Simulcast?
        /// Lost / (received + lost), 0 with nothing expected yet.
        public var lossRate: Double { packets + lost > 0 ? Double(lost) / Double(packets + lost) : 0 }
    }
    public struct Simulcast: Sendable {
        public struct Layer: Sendable {
            public var rid: String
            /// From the layer's keyframes; nil until one was seen.
            public var width: Int?, height: Int?
            /// Bits per second over the last second; 0 when the sender has it off.
            public var bitrate: Int
        }
        public var layers: [Layer]
        public var selected: String?
    }
    public struct Participant: Sendable {
        public var id: String
        public var settings: ParticipantSettings
        /// Time its tile showed a stale picture in the recording in progress.
        public var frozen: Microseconds
        public var tracks: [Track]
        /// What of its offer was not taken, and why.
        public var declined: [String]
    }
    /// The recording in progress.
    public struct Recording: Sendable {
        public var path: String
        public var duration: Microseconds
        public var bytes: Int
        public var paused = false
        /// HLS, its renditions and RTMP pushes, when the recording has any.
        public var outputs: LiveOutputStatus.Report?
    }
    public var name: String
    public var participants: [Participant]
    public var layout: LayoutDocument
    public var recording: Recording?
    public var lastRecording: LiveRecordingSummary?
    /// Why the last recording stopped by itself, if it did.
    public var error: String?
}
