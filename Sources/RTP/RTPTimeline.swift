/// Puts a participant's RTP timestamps on the room timeline.
///
/// Before a track's first sender report its time is its arrival time advanced by the RTP clock. After it, a
/// packet's capture time on the sender's NTP clock is known; audio and video of one participant share that clock,
/// so one offset (sender NTP → room time) serves both and keeps them lip-synced whatever each one's network or
/// jitter-buffer delay. The offset follows the least-delayed packet: the smallest arrival − capture of the last 10
/// seconds, so a sender clock slower than ours (±200 ppm is common) cannot leave it behind (it lags at most 2 ms).
/// A sender report whose NTP time jumps against its RTP clock is a step of the sender's wall clock (NTP setting the
/// time): the track's capture times are shifted back by the step, so its media stays where it was.
/// A track whose frames arrive later after capture than the room can wait (a sender that queued seconds of audio
/// while connecting and sends it in real time behind that backlog) would land where the compositor has already
/// passed and be dropped whole: such a track is delayed by what it lacks (`late`), out of sync by that much, but kept.
public struct ParticipantTimeline: Sendable {
    public struct Track: Sendable {
        public let clockRate: Int64
        var lastRTP: Int64?
        var firstRTP: Int64 = 0
        var firstArrival: RTPTime = 0
        var report: (rtp: Int64, ntp: RTPTime)?
        /// Steps of the sender's NTP clock seen in this track's reports, taken out of its capture times.
        var shift: RTPTime = 0
        /// How much later than its capture this track is placed, because it arrives too late for its place.
        public internal(set) var late: RTPTime = 0
        /// The smallest arrival − place of each of the last seconds of this track (by arrival), oldest first, and
        /// since when it is watched: a sustained lateness moves the track, one frame held up does not.
        var lateness = WindowMinimum(seconds: ParticipantTimeline.lateWindow)
        var watchedSince: RTPTime?
        init(clockRate: Int) { self.clockRate = Int64(clockRate) }

        /// Notes a frame's lateness; the track's least lateness over `lateWindow` once it has been watched that
        /// long, else nil.
        mutating func leastLateness(_ sample: RTPTime, arrival: RTPTime) -> RTPTime? {
            let least = lateness.add(sample, at: arrival)
            let since = watchedSince ?? arrival
            watchedSince = since
            return arrival - since >= ParticipantTimeline.lateWindow * 1_000_000 ? least : nil
        }
    }

    private var tracks: [UInt32: Track] = [:]
    /// The smallest arrival − capture over the last `window` seconds (by arrival).
    private var minima = WindowMinimum(seconds: ParticipantTimeline.window)
    static let window: Int64 = 10
    /// The latest sender clock step (a track's first report after it starts from it).
    private var shift: RTPTime = 0
    /// A report off its track's RTP clock by more than this is a step of the sender's clock, not drift.
    static let stepThreshold: RTPTime = 20_000
    public private(set) var reportsSeen = 0

    public init() {}

    /// The track's delay for arriving too late (0 for a track in sync).
    public func lateness(ssrc: UInt32) -> RTPTime { tracks[ssrc]?.late ?? 0 }

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
        let time = ParticipantTimeline.microseconds(ntp: ntp)
        if let previous = track.report {
            let step = time - (previous.ntp + (rtp - previous.rtp) * 1_000_000 / track.clockRate)
            if abs(step) > ParticipantTimeline.stepThreshold { track.shift += step; shift = track.shift }
        } else {
            track.shift = shift
        }
        track.report = (rtp, time)
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
            let capture = report.ntp - track.shift + (rtp - report.rtp) * 1_000_000 / track.clockRate
            time = capture + minima.add(arrival - capture, at: arrival)
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
            track.late = 0
            track.lateness = WindowMinimum(seconds: ParticipantTimeline.lateWindow)
            track.watchedSince = nil
            time = arrival
        } else {
            // A track whose least lateness stays past the limit is delayed to half the limit before its arrival (room
            // for its jitter either way), followed while it stays late, and put back once it is in time.
            if let least = track.leastLateness(arrival - time, arrival: arrival) {
                let limit = ParticipantTimeline.lateLimit
                let target = least > limit || (track.late > 0 && least > limit / 2) ? least - limit / 2 : 0
                if target == 0 || abs(target - track.late) > ParticipantTimeline.lateStep { track.late = target }
            }
            time += track.late
        }
        tracks[ssrc] = track
        return time
    }

    /// How far from its arrival a frame may be placed before its track is re-anchored (well past any jitter-buffer
    /// or network delay, and past the compositor's latency: such a frame would be useless anyway).
    static let staleLimit: RTPTime = 1_000_000
    /// How long before its arrival a frame may be placed: the room's compositor waits 400 ms for media, of which
    /// this leaves 20 ms for decoding. (Chromium's video is often placed 300-350 ms before it arrives, and is shown
    /// in sync: only a track past this would lose its frames.)
    public static let lateLimit: RTPTime = 380_000
    /// Seconds of a track's lateness that decide (its least over them): longer than a jitter-buffer hold-up.
    static let lateWindow: Int64 = 2
    /// A delayed track's delay follows its lateness only in steps larger than this (each step is a seam in its sound).
    static let lateStep: RTPTime = 40_000
}

/// The smallest of the samples of the last `seconds` seconds: one minimum per second, oldest first.
struct WindowMinimum: Sendable {
    let seconds: Int64
    private var minima: [(second: Int64, value: RTPTime)] = []
    init(seconds: Int64) { self.seconds = seconds }

    /// Adds a sample taken at `time`; the smallest of the window, this one included.
    mutating func add(_ sample: RTPTime, at time: RTPTime) -> RTPTime {
        let second = time / 1_000_000
        if let last = minima.last, last.second >= second {
            minima[minima.count - 1].value = min(last.value, sample)
        } else {
            minima.append((second, sample))
        }
        while let first = minima.first, first.second <= second - seconds { minima.removeFirst() }
        var smallest = sample
        for entry in minima { smallest = min(smallest, entry.value) }
        return smallest
    }
}
