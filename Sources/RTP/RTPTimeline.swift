/// Puts a participant's RTP timestamps on the room timeline.
///
/// Before a track's first sender report its time is its arrival time advanced by the RTP clock. After it, a
/// packet's capture time on the sender's NTP clock is known; audio and video of one participant share that clock,
/// so one offset (sender NTP → room time) serves both and keeps them lip-synced whatever each one's network or
/// jitter-buffer delay. The offset is the smallest arrival − capture seen: the least-delayed packet.
public struct ParticipantTimeline: Sendable {
    public struct Track: Sendable {
        public let clockRate: Int64
        var lastRTP: Int64?
        var firstRTP: Int64 = 0
        var firstArrival: RTPTime = 0
        var report: (rtp: Int64, ntp: RTPTime)?
        init(clockRate: Int) { self.clockRate = Int64(clockRate) }
    }

    private var tracks: [UInt32: Track] = [:]
    /// Room time minus sender NTP time.
    private var offset: RTPTime?
    public private(set) var reportsSeen = 0

    public init() {}

    public mutating func addTrack(ssrc: UInt32, clockRate: Int) {
        if tracks[ssrc] == nil { tracks[ssrc] = Track(clockRate: clockRate) }
    }

    /// NTP 32.32 (seconds since 1900) → microseconds.
    static func microseconds(ntp: UInt64) -> RTPTime {
        let seconds = RTPTime(ntp >> 32), fraction = RTPTime(ntp & 0xFFFF_FFFF)
        return seconds * 1_000_000 + (fraction * 1_000_000) >> 32
    }

    private static func unwrap(_ rtp: UInt32, after last: Int64?) -> Int64 {
        guard let last else { return Int64(rtp) }
        let delta = Int64(Int32(bitPattern: rtp &- UInt32(truncatingIfNeeded: last)))
        return last + delta
    }

    public mutating func onSenderReport(ssrc: UInt32, ntp: UInt64, rtpTimestamp: UInt32) {
        guard var track = tracks[ssrc] else { return }
        let rtp = ParticipantTimeline.unwrap(rtpTimestamp, after: track.lastRTP)
        track.report = (rtp, ParticipantTimeline.microseconds(ntp: ntp))
        tracks[ssrc] = track
        reportsSeen += 1
    }

    /// Room time of a frame with this RTP timestamp that arrived (left the jitter buffer) at `arrival`.
    public mutating func roomTime(ssrc: UInt32, rtpTimestamp: UInt32, arrival: RTPTime) -> RTPTime? {
        guard var track = tracks[ssrc] else { return nil }
        let rtp = ParticipantTimeline.unwrap(rtpTimestamp, after: track.lastRTP)
        if track.lastRTP == nil { track.firstRTP = rtp; track.firstArrival = arrival }
        track.lastRTP = max(track.lastRTP ?? rtp, rtp)
        var time: RTPTime
        if let report = track.report {
            let capture = report.ntp + (rtp - report.rtp) * 1_000_000 / track.clockRate
            offset = min(offset ?? arrival - capture, arrival - capture)
            time = capture + offset!
        } else {
            time = track.firstArrival + (rtp - track.firstRTP) * 1_000_000 / track.clockRate
        }
        if abs(arrival - time) > ParticipantTimeline.staleLimit {
            // The sender's RTP clock jumped or stalled (a restarted source, a looped file): a frame that far from its
            // own arrival would never be shown (or be shown seconds late). Re-anchor this track on this frame's
            // arrival until its next sender report.
            track.firstRTP = rtp
            track.firstArrival = arrival
            track.report = nil
            time = arrival
        }
        tracks[ssrc] = track
        return time
    }

    /// How far from its arrival a frame may be placed before its track is re-anchored (well past any jitter-buffer
    /// or network delay, and past the compositor's latency: such a frame would be useless anyway).
    static let staleLimit: RTPTime = 1_000_000
}
