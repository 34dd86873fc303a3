/// Microseconds on a monotonic clock (the caller's; tests use a fake one).
public typealias RTPTime = Int64

/// Reorders one track's packets, rebuilds its frames, and says when to ask for retransmissions (generic NACK,
/// RFC 4585) or a keyframe (PLI). Sans-IO: packets and the time in, actions out; `poll(now:)` is the timer.
public struct JitterBuffer: Sendable {
    public struct Configuration: Sendable {
        /// How long a hole may stay open (NACKs retried meanwhile) before we give up on it.
        public var maxWait: RTPTime
        /// Time between NACKs for the same packet.
        public var nackInterval: RTPTime
        /// Shortest time between two keyframe requests.
        public var keyframeInterval: RTPTime
        /// Packets held at most (a flood never grows memory).
        public var capacity: Int
        public var sendNacks: Bool

        public init(maxWait: RTPTime = 250_000, nackInterval: RTPTime = 60_000, keyframeInterval: RTPTime = 500_000,
                    capacity: Int = 1024, sendNacks: Bool = true) {
            self.maxWait = maxWait; self.nackInterval = nackInterval; self.keyframeInterval = keyframeInterval
            self.capacity = capacity; self.sendNacks = sendNacks
        }

        /// Audio: no retransmission, short wait (a late packet is better concealed than waited for).
        public static let audio = Configuration(maxWait: 60_000, sendNacks: false)
    }

    public enum Action: Sendable, Equatable {
        case frame(EncodedFrame, rtpTimestamp: UInt32, arrival: RTPTime)
        case nack([UInt16])
        case requestKeyframe
        /// Packets given up on at a hole (for loss statistics and the log).
        case lost(count: Int)
    }

    public struct Statistics: Sendable, Equatable {
        public var received = 0, duplicates = 0, late = 0, nacked = 0, recovered = 0, lost = 0
        public var framesOut = 0, framesDropped = 0, keyframeRequests = 0, malformed = 0
        /// Packets that came in a retransmission stream (RTX).
        public var retransmitted = 0
        public init() {}

        public mutating func add(_ other: Statistics) {
            received += other.received; duplicates += other.duplicates; late += other.late; nacked += other.nacked
            recovered += other.recovered; lost += other.lost; framesOut += other.framesOut
            framesDropped += other.framesDropped; keyframeRequests += other.keyframeRequests; malformed += other.malformed
            retransmitted += other.retransmitted
        }
    }

    private struct Stored: Sendable { var packet: RTPPacket; var arrival: RTPTime }
    private struct Hole: Sendable { var since: RTPTime; var lastNack: RTPTime? }

    public let codec: RTPCodec
    public let configuration: Configuration
    public private(set) var statistics = Statistics()
    private var store: [Int64: Stored] = [:]
    private var holes: [Int64: Hole] = [:]
    private var next: Int64?
    private var highest: Int64?
    private var waitingForKeyframe: Bool
    private var lastKeyframeRequest: RTPTime?
    /// RTP timestamp of the highest packet seen.
    private var lastTimestamp: UInt32?
    /// A gap in sequence numbers spanning more media time than this (µs) is an outage, not loss to repair.
    static let outageGap: Int64 = 1_000_000
    /// Missing packets tracked for retransmission at most.
    static let maxHoles: Int64 = 512

    public init(codec: RTPCodec, configuration: Configuration? = nil) {
        self.codec = codec
        self.configuration = configuration ?? (codec == .opus ? .audio : Configuration())
        waitingForKeyframe = codec != .opus
    }

    private var isVideo: Bool { codec != .opus }

    /// Packets held now (bounded by `configuration.capacity`).
    var heldPackets: Int { store.count }
    /// Holes tracked for retransmission now (bounded by twice `maxHoles`).
    var trackedHoles: Int { holes.count }

    private func extend(_ sequence: UInt16) -> Int64 {
        guard let highest else { return Int64(sequence) + 65536 }   // keep room below the first
        return highest + Int64(sequence.distance(from: UInt16(truncatingIfNeeded: highest)))
    }

    /// The next packet inserted came in a retransmission stream (RTX).
    public mutating func countRetransmission() { statistics.retransmitted += 1 }

    public mutating func insert(_ packet: RTPPacket, now: RTPTime) -> [Action] {
        statistics.received += 1
        var seq = extend(packet.sequenceNumber)
        var actions: [Action] = []
        if let h = highest, seq - h > 3000 || h - seq > 3000 {
            // A jump no reordering explains, forwards or back: the stream restarted (a sender that reset its
            // sequence numbers keeps its SSRC). Start over from here — before the lateness check, or a restart to
            // lower numbers would count as "late" for thousands of packets.
            reset()
            seq = extend(packet.sequenceNumber)
        }
        if let next, seq < next { statistics.late += 1; return poll(now: now) }
        if store[seq] != nil { statistics.duplicates += 1; return [] }
        if let h = highest, seq > h + 1 {
            if let last = store[h]?.packet.timestamp ?? lastTimestamp,
               Int64(Int32(bitPattern: packet.timestamp &- last)) > Int64(codec.clockRate) * JitterBuffer.outageGap / 1_000_000 {
                // An outage: what is missing is older than anyone can still use, so do not ask for it again.
                actions += skipOutage(to: seq, now: now)
            } else {
                // Only the newest `maxHoles` are worth asking for: a hostile sequence jump must not cost thousands
                // of entries per packet (the rest are given up on with their frames).
                for missing in max(h + 1, seq - JitterBuffer.maxHoles)..<seq where holes[missing] == nil { holes[missing] = Hole(since: now, lastNack: nil) }
                if holes.count > 2 * Int(JitterBuffer.maxHoles) {
                    for old in holes.keys.sorted().prefix(holes.count - Int(JitterBuffer.maxHoles)) { holes[old] = nil }
                }
            }
        }
        if holes.removeValue(forKey: seq) != nil { statistics.recovered += 1 }
        highest = max(highest ?? seq, seq)
        if seq == highest { lastTimestamp = packet.timestamp }
        store[seq] = Stored(packet: packet, arrival: now)
        if next == nil { next = seq }
        if store.count > configuration.capacity, let oldest = next {
            actions += giveUp(from: oldest, now: now)
            if next == oldest {
                // Nothing to skip to (one endless frame): drop the oldest packet so memory stays bounded.
                store[oldest] = nil
                next = oldest + 1
                statistics.lost += 1
            }
        }
        return actions + poll(now: now)
    }

    /// Timer work: NACK retries, giving up on old holes, keyframe re-requests, and frames now complete.
    public mutating func poll(now: RTPTime) -> [Action] {
        var actions = drain(now: now)
        if configuration.sendNacks {
            var nacks: [UInt16] = []
            for (seq, hole) in holes.sorted(by: { $0.key < $1.key }) where (hole.lastNack.map { now - $0 >= configuration.nackInterval } ?? true) && now - hole.since < configuration.maxWait {
                nacks.append(UInt16(truncatingIfNeeded: seq))
                holes[seq]?.lastNack = now
                if nacks.count >= 64 { break }
            }
            if !nacks.isEmpty { statistics.nacked += nacks.count; actions.append(.nack(nacks)) }
        }
        if isVideo && waitingForKeyframe { actions += requestKeyframe(now: now) }
        return actions
    }

    /// The decoder lost its reference (a frame it could not decode, or frames dropped behind it): ask for a
    /// keyframe, at most once per `keyframeInterval`.
    public mutating func keyframeNeeded(now: RTPTime) -> [Action] {
        isVideo ? requestKeyframe(now: now) : []
    }

    private mutating func requestKeyframe(now: RTPTime) -> [Action] {
        if let last = lastKeyframeRequest, now - last < configuration.keyframeInterval { return [] }
        lastKeyframeRequest = now
        statistics.keyframeRequests += 1
        return [.requestKeyframe]
    }

    private mutating func reset() {
        store.removeAll(); holes.removeAll(); next = nil; highest = nil; lastTimestamp = nil
        waitingForKeyframe = isVideo
    }

    private func startsFrame(_ seq: Int64) -> Bool {
        guard let s = store[seq] else { return false }
        guard Depacketizer.startsFrame(codec, s.packet.payload) else { return false }
        if codec == .opus { return true }
        guard let previous = store[seq - 1] else { return true }
        return previous.packet.marker || previous.packet.timestamp != s.packet.timestamp
    }

    private mutating func drain(now: RTPTime) -> [Action] {
        var actions: [Action] = []
        while let start = next {
            guard store[start] != nil else {
                // A hole where the next frame should begin.
                guard let hole = holes[start], now - hole.since >= configuration.maxWait else { break }
                actions += giveUp(from: start, now: now)
                if next == start { break }      // nothing after the hole yet
                continue
            }
            guard startsFrame(start) || codec == .opus else {
                actions += giveUp(from: start, now: now)
                if next == start { break }      // no frame start yet: wait for more packets
                continue
            }
            // Collect until the marker (video) or the packet itself (audio).
            var end = start
            var complete = false
            while let s = store[end] {
                if codec == .opus || s.packet.marker { complete = true; break }
                if let following = store[end + 1], following.packet.timestamp != s.packet.timestamp { complete = true; break }
                end += 1
            }
            if !complete {
                // Waiting on a hole inside the frame.
                guard let hole = holes[end], now - hole.since >= configuration.maxWait else { break }
                actions += giveUp(from: start, now: now)
                if next == start { break }
                continue
            }
            let packets = (start...end).compactMap { store.removeValue(forKey: $0) }
            next = end + 1
            let arrival = packets.map(\.arrival).max() ?? now
            do {
                let frame = try Depacketizer.assemble(codec, payloads: packets.map(\.packet.payload))
                if isVideo && waitingForKeyframe && !frame.keyframe {
                    statistics.framesDropped += 1
                    actions += requestKeyframe(now: now)
                } else {
                    waitingForKeyframe = false
                    statistics.framesOut += 1
                    actions.append(.frame(frame, rtpTimestamp: packets[0].packet.timestamp, arrival: arrival))
                }
            } catch {
                statistics.malformed += 1
                statistics.framesDropped += 1
                if isVideo { waitingForKeyframe = true; actions += requestKeyframe(now: now) }
            }
        }
        return actions
    }

    /// After an outage: everything before `seq` is given up at once (what is complete was already delivered),
    /// and video waits for a keyframe, which it asks for now.
    private mutating func skipOutage(to seq: Int64, now: RTPTime) -> [Action] {
        let skipped = Int(seq - (next ?? seq)) - store.keys.filter { $0 < seq }.count
        for key in store.keys where key < seq { store[key] = nil }
        holes.removeAll()
        next = seq
        statistics.lost += max(0, skipped)
        var actions: [Action] = skipped > 0 ? [.lost(count: skipped)] : []
        if isVideo {
            waitingForKeyframe = true
            actions += requestKeyframe(now: now)
        }
        return actions
    }

    /// Drops everything before the next frame start after `from`; video then waits for a keyframe.
    private mutating func giveUp(from start: Int64, now: RTPTime) -> [Action] {
        guard let candidate = store.keys.filter({ $0 > start && startsFrame($0) }).min() ?? store.keys.filter({ $0 > start }).min() else {
            return []
        }
        let skipped = (start..<candidate).filter { store[$0] == nil }.count
        for seq in store.keys where seq < candidate { store[seq] = nil }
        for seq in holes.keys where seq < candidate { holes[seq] = nil }
        next = candidate
        statistics.lost += skipped
        var actions: [Action] = skipped > 0 ? [.lost(count: skipped)] : []
        if isVideo {
            waitingForKeyframe = true
            actions += requestKeyframe(now: now)
        }
        return actions
    }
}
