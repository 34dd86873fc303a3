/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01, RTPFB FMT 15):
/// when each packet of the session arrived. The sender's own estimator (Chromium's and Firefox's GCC) turns the
/// growth of one-way delay into its send rate, so a bottleneck is found before it drops packets. Sans-IO: packets
/// and time in, feedback bytes out.
public struct TransportFeedbackRecorder: Sendable {
    /// libwebrtc's receiver default; senders react within two of these.
    public static let interval: RTPTime = 100_000
    /// Arrivals kept (a power of two): 2 s of 40 Mb/s video; older packets are simply not reported.
    static let window = 4096
    /// Packets described by one feedback packet, which stays well under an MTU.
    static let packetsPerFeedback = 400

    private var arrivals: [RTPTime]
    private var highest: Int64?
    /// The first sequence number the next feedback describes.
    private var next: Int64?
    private var feedbackCount: UInt8 = 0
    private var lastSent: RTPTime = .min

    public init() { arrivals = Array(repeating: -1, count: Self.window) }

    /// A packet with transport-wide sequence number `sequence` arrived at `now`. Allocates nothing.
    public mutating func record(sequence: UInt16, arrival now: RTPTime) {
        let unwrapped: Int64
        if let highest {
            unwrapped = highest + Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highest)))
        } else {
            unwrapped = Int64(sequence)
        }
        if let highest, unwrapped <= highest - Int64(Self.window) { return }   // far too old to describe
        if let highest, unwrapped > highest {
            // Slots skipped over hold older packets' times: clear them, they are losses until they arrive.
            var s = highest + 1
            while s < unwrapped && s <= highest + Int64(Self.window) { arrivals[Self.slot(s)] = -1; s += 1 }
        }
        arrivals[Self.slot(unwrapped)] = max(0, now)
        highest = max(highest ?? unwrapped, unwrapped)
        // A late packet already reported as lost is reported again, as arrived.
        if let n = next, unwrapped < n { next = unwrapped } else if next == nil { next = unwrapped }
    }

    private static func slot(_ s: Int64) -> Int { Int(s & Int64(window - 1)) }

    /// Feedback packets (unencrypted RTCP) when one is due: every `interval` while packets arrive.
    public mutating func feedback(sender: UInt32, media: UInt32, now: RTPTime) -> [[UInt8]] {
        guard lastSent == .min || now - lastSent >= Self.interval, let highest, var start = next, start <= highest else { return [] }
        lastSent = now
        start = max(start, highest - Int64(Self.window) + 1)
        var packets: [[UInt8]] = []
        while start <= highest {
            // A feedback starts at a packet that arrived (its time is the reference).
            while start <= highest && arrivals[Self.slot(start)] < 0 { start += 1 }
            guard start <= highest else { break }
            let (bytes, end) = encode(from: start, to: highest, sender: sender, media: media)
            packets.append(bytes)
            start = end
        }
        next = highest + 1
        return packets
    }

    /// One feedback packet describing `first…` up to `last`, ending early when a delta does not fit 16 bits or
    /// the packet is full; returns it and the first sequence number it left out.
    private mutating func encode(from first: Int64, to last: Int64, sender: UInt32, media: UInt32) -> ([UInt8], Int64) {
        let reference = arrivals[Self.slot(first)] / 64_000
        var previous = reference * 64_000
        var symbols: [UInt8] = []
        var deltas: [UInt8] = []
        var s = first
        while s <= last && symbols.count < Self.packetsPerFeedback {
            let arrival = arrivals[Self.slot(s)]
            if arrival < 0 { symbols.append(0); s += 1; continue }
            let delta = (arrival - previous) / 250      // 250 µs ticks
            if (0...255).contains(delta) {
                symbols.append(1); deltas.append(UInt8(delta))
            } else if (-32768...32767).contains(delta) {
                symbols.append(2); let d = UInt16(bitPattern: Int16(delta)); deltas += [UInt8(d >> 8), UInt8(d & 0xFF)]
            } else {
                break
            }
            previous += delta * 250
            s += 1
        }
        // Trailing losses say nothing the next feedback will not say better.
        while symbols.last == 0 { symbols.removeLast(); s -= 1 }
        var body: [UInt8] = []
        body.reserveCapacity(20 + symbols.count / 2 + deltas.count)
        append32(sender, to: &body); append32(media, to: &body)
        let base = UInt16(truncatingIfNeeded: first), count = UInt16(symbols.count)
        body += [UInt8(base >> 8), UInt8(base & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
        let ref = UInt32(truncatingIfNeeded: reference) & 0xFF_FFFF
        body += [UInt8(ref >> 16), UInt8((ref >> 8) & 0xFF), UInt8(ref & 0xFF), feedbackCount]
        feedbackCount &+= 1
        Self.appendChunks(symbols, to: &body)
        body += deltas
        while body.count % 4 != 0 { body.append(0) }
        let words = 1 + body.count / 4
        return ([0x80 | 15, 205, UInt8((words - 1) >> 8), UInt8((words - 1) & 0xFF)] + body, s)
    }

    /// Status chunks: a run-length chunk for 7 or more equal symbols, else a two-bit vector of 7.
    static func appendChunks(_ symbols: [UInt8], to body: inout [UInt8]) {
        var i = 0
        while i < symbols.count {
            var run = 1
            while i + run < symbols.count && symbols[i + run] == symbols[i] && run < 0x1FFF { run += 1 }
            let chunk: UInt16
            if run >= 7 {
                chunk = UInt16(symbols[i]) << 13 | UInt16(run)
                i += run
            } else {
                var c: UInt16 = 0xC000
                for k in 0..<7 where i + k < symbols.count { c |= UInt16(symbols[i + k]) << UInt16(12 - 2 * k) }
                chunk = c
                i += 7
            }
            body += [UInt8(chunk >> 8), UInt8(chunk & 0xFF)]
        }
    }

    private func append32(_ v: UInt32, to b: inout [UInt8]) { b += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
}

/// A transport-wide feedback packet read back: what a sender learns from it (tests, and a check on the encoding).
public struct TransportFeedback: Sendable, Equatable {
    public var baseSequence: UInt16
    public var feedbackCount: UInt8
    /// Per packet from `baseSequence` on: its arrival in µs from the reference time's origin, nil when lost.
    public var arrivals: [RTPTime?]

    /// Parses the body after the common RTCP header (sender and media SSRC first).
    public init(body: ArraySlice<UInt8>) throws(RTPError) {
        let b = Array(body)
        guard b.count >= 16 else { throw RTPError.truncated("truncated transport feedback") }
        baseSequence = UInt16(b[8]) << 8 | UInt16(b[9])
        let count = Int(b[10]) << 8 | Int(b[11])
        let reference = Int64(Int32(bitPattern: (UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8)) >> 8)
        feedbackCount = b[15]
        var symbols: [UInt8] = []
        var i = 16
        while symbols.count < count {
            guard i + 2 <= b.count else { throw RTPError.truncated("transport feedback chunks run past the end") }
            let chunk = UInt16(b[i]) << 8 | UInt16(b[i + 1])
            i += 2
            if chunk & 0x8000 == 0 {
                symbols += Array(repeating: UInt8((chunk >> 13) & 3), count: min(Int(chunk & 0x1FFF), count - symbols.count))
            } else if chunk & 0x4000 == 0 {
                for k in 0..<14 where symbols.count < count { symbols.append(UInt8((chunk >> UInt16(13 - k)) & 1)) }
            } else {
                for k in 0..<7 where symbols.count < count { symbols.append(UInt8((chunk >> UInt16(12 - 2 * k)) & 3)) }
            }
        }
        var time = reference * 64_000
        arrivals = []
        for symbol in symbols {
            switch symbol {
            case 0: arrivals.append(nil)
            case 1:
                guard i < b.count else { throw RTPError.truncated("transport feedback deltas run past the end") }
                time += Int64(b[i]) * 250; i += 1; arrivals.append(time)
            case 2:
                guard i + 2 <= b.count else { throw RTPError.truncated("transport feedback deltas run past the end") }
                time += Int64(Int16(bitPattern: UInt16(b[i]) << 8 | UInt16(b[i + 1]))) * 250; i += 2; arrivals.append(time)
            default: throw RTPError.malformed("reserved transport feedback symbol")
            }
        }
    }
}
