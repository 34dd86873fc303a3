/// RTCP packets (RFC 3550, RFC 4585), parsed from a compound packet and built for sending.
public enum RTCPPacket: Sendable, Equatable {
    public struct ReportBlock: Sendable, Equatable {
        public var ssrc: UInt32
        public var fractionLost: UInt8
        public var cumulativeLost: Int32
        public var highestSequence: UInt32
        public var jitter: UInt32
        public var lastSR: UInt32
        public var delaySinceLastSR: UInt32
        public init(ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, highestSequence: UInt32, jitter: UInt32, lastSR: UInt32, delaySinceLastSR: UInt32) {
            self.ssrc = ssrc; self.fractionLost = fractionLost; self.cumulativeLost = cumulativeLost; self.highestSequence = highestSequence
            self.jitter = jitter; self.lastSR = lastSR; self.delaySinceLastSR = delaySinceLastSR
        }
    }

    /// NTP time (seconds since 1900 in 32.32 fixed point) ↔ the RTP timestamp of the same instant.
    case senderReport(ssrc: UInt32, ntp: UInt64, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32, reports: [ReportBlock])
    case receiverReport(ssrc: UInt32, reports: [ReportBlock])
    case sourceDescription(chunks: [(ssrc: UInt32, cname: String?)])
    case bye(ssrcs: [UInt32])
    /// Generic NACK: lost sequence numbers.
    case nack(sender: UInt32, media: UInt32, lost: [UInt16])
    case pli(sender: UInt32, media: UInt32)
    case fir(sender: UInt32, requests: [(ssrc: UInt32, sequence: UInt8)])
    /// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb): what the sender may send in all, in bits
    /// per second, for the streams listed.
    case remb(sender: UInt32, bitrate: UInt64, ssrcs: [UInt32])
    case other(packetType: UInt8, format: UInt8)

    public static func == (a: RTCPPacket, b: RTCPPacket) -> Bool {
        switch (a, b) {
        case let (.senderReport(s1, n1, r1, p1, o1, b1), .senderReport(s2, n2, r2, p2, o2, b2)):
            return s1 == s2 && n1 == n2 && r1 == r2 && p1 == p2 && o1 == o2 && b1 == b2
        case let (.receiverReport(s1, b1), .receiverReport(s2, b2)): return s1 == s2 && b1 == b2
        case let (.sourceDescription(c1), .sourceDescription(c2)): return c1.map(\.ssrc) == c2.map(\.ssrc) && c1.map(\.cname) == c2.map(\.cname)
        case let (.bye(x), .bye(y)): return x == y
        case let (.nack(s1, m1, l1), .nack(s2, m2, l2)): return s1 == s2 && m1 == m2 && l1 == l2
        case let (.pli(s1, m1), .pli(s2, m2)): return s1 == s2 && m1 == m2
        case let (.fir(s1, r1), .fir(s2, r2)): return s1 == s2 && r1.map(\.ssrc) == r2.map(\.ssrc) && r1.map(\.sequence) == r2.map(\.sequence)
        case let (.remb(s1, b1, l1), .remb(s2, b2, l2)): return s1 == s2 && b1 == b2 && l1 == l2
        case let (.other(t1, f1), .other(t2, f2)): return t1 == t2 && f1 == f2
        default: return false
        }
    }

    /// Every packet of a compound RTCP packet. A damaged packet ends parsing with an error (what came before
    /// it is still returned through `parsed`).
    public static func parseCompound(_ bytes: [UInt8]) throws(RTPError) -> [RTCPPacket] {
        var packets: [RTCPPacket] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { throw RTPError.truncated("truncated RTCP header") }
            guard bytes[offset] >> 6 == 2 else { throw RTPError.malformed("RTCP version is not 2") }
            let count = Int(bytes[offset] & 0x1F), type = bytes[offset + 1]
            // The length field counts 32-bit words minus one (RFC 3550 §6.4.1). (`|` and `+` share a precedence in
            // Swift: the grouping is spelled out, not left to left-to-right evaluation.)
            let length = 4 * (((Int(bytes[offset + 2]) << 8) | Int(bytes[offset + 3])) + 1)
            guard offset + length <= bytes.count else { throw RTPError.truncated("RTCP packet runs past the end") }
            var end = offset + length
            if bytes[offset] & 0x20 != 0 {
                let pad = Int(bytes[end - 1])
                guard pad > 0, pad <= length - 4 else { throw RTPError.malformed("bad RTCP padding") }
                end -= pad
            }
            let body = Array(bytes[(offset + 4)..<end])
            packets.append(try parse(type: type, count: count, body: body))
            offset += length
            guard packets.count <= 64 else { throw RTPError.limitExceeded("too many RTCP packets") }
        }
        return packets
    }

    private static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { RTPPacket.u32(b, i) }

    private static func reportBlocks(_ body: [UInt8], from start: Int, count: Int) throws(RTPError) -> [ReportBlock] {
        guard body.count >= start + 24 * count else { throw RTPError.truncated("report blocks run past the end") }
        return (0..<count).map { i in
            let b = start + 24 * i
            let lost = Int32(bitPattern: (u32(body, b + 4) & 0x00FF_FFFF) << 8) >> 8
            return ReportBlock(ssrc: u32(body, b), fractionLost: body[b + 4], cumulativeLost: lost, highestSequence: u32(body, b + 8),
                               jitter: u32(body, b + 12), lastSR: u32(body, b + 16), delaySinceLastSR: u32(body, b + 20))
        }
    }

    private static func parse(type: UInt8, count: Int, body: [UInt8]) throws(RTPError) -> RTCPPacket {
        switch type {
        case 200:
            guard body.count >= 24 else { throw RTPError.truncated("truncated sender report") }
            return .senderReport(ssrc: u32(body, 0), ntp: UInt64(u32(body, 4)) << 32 | UInt64(u32(body, 8)), rtpTimestamp: u32(body, 12),
                                 packets: u32(body, 16), octets: u32(body, 20), reports: try reportBlocks(body, from: 24, count: count))
        case 201:
            guard body.count >= 4 else { throw RTPError.truncated("truncated receiver report") }
            return .receiverReport(ssrc: u32(body, 0), reports: try reportBlocks(body, from: 4, count: count))
        case 202:
            var chunks: [(UInt32, String?)] = []
            var i = 0
            for _ in 0..<count {
                guard i + 4 <= body.count else { throw RTPError.truncated("truncated SDES chunk") }
                let ssrc = u32(body, i)
                i += 4
                var cname: String?
                while i < body.count, body[i] != 0 {
                    guard i + 2 <= body.count, i + 2 + Int(body[i + 1]) <= body.count else { throw RTPError.truncated("SDES item runs past the end") }
                    if body[i] == 1 { cname = String(validating: body[(i + 2)..<(i + 2 + Int(body[i + 1]))], as: UTF8.self) }
                    i += 2 + Int(body[i + 1])
                }
                i = (i / 4 + 1) * 4   // the terminating zero and padding to 32 bits
                chunks.append((ssrc, cname))
            }
            return .sourceDescription(chunks: chunks)
        case 203:
            guard body.count >= 4 * count else { throw RTPError.truncated("truncated BYE") }
            return .bye(ssrcs: (0..<count).map { u32(body, 4 * $0) })
        case 205 where count == 1:
            guard body.count >= 8, body.count % 4 == 0 else { throw RTPError.truncated("truncated NACK") }
            var lost: [UInt16] = []
            for i in stride(from: 8, to: body.count, by: 4) {
                let pid = UInt16(body[i]) << 8 | UInt16(body[i + 1])
                let blp = UInt16(body[i + 2]) << 8 | UInt16(body[i + 3])
                lost.append(pid)
                for bit in 0..<16 where blp & (1 << bit) != 0 { lost.append(pid &+ UInt16(bit + 1)) }
            }
            return .nack(sender: u32(body, 0), media: u32(body, 4), lost: lost)
        case 206 where count == 1:
            guard body.count >= 8 else { throw RTPError.truncated("truncated PLI") }
            return .pli(sender: u32(body, 0), media: u32(body, 4))
        case 206 where count == 4:
            guard body.count >= 8, (body.count - 8) % 8 == 0 else { throw RTPError.truncated("truncated FIR") }
            let requests = stride(from: 8, to: body.count, by: 8).map { (ssrc: u32(body, $0), sequence: body[$0 + 4]) }
            return .fir(sender: u32(body, 0), requests: requests)
        case 206 where count == 15 && body.count >= 16 && Array(body[8..<12]) == Array("REMB".utf8):
            let listed = Int(body[12])
            guard body.count >= 16 + 4 * listed else { throw RTPError.truncated("truncated REMB") }
            let exponent = UInt64(body[13] >> 2), mantissa = UInt64(body[13] & 3) << 16 | UInt64(body[14]) << 8 | UInt64(body[15])
            guard exponent < 46 else { throw RTPError.malformed("REMB bitrate out of range") }
            return .remb(sender: u32(body, 0), bitrate: mantissa << exponent, ssrcs: (0..<listed).map { u32(body, 16 + 4 * $0) })
        default:
            return .other(packetType: type, format: UInt8(count))
        }
    }

    // MARK: Building

    private static func header(_ count: Int, _ type: UInt8, words: Int) -> [UInt8] {
        [0x80 | UInt8(count), type, UInt8((words - 1) >> 8), UInt8((words - 1) & 0xFF)]
    }

    private static func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    public var encoded: [UInt8] {
        switch self {
        case let .receiverReport(ssrc, reports):
            var body = RTCPPacket.be(ssrc)
            for r in reports {
                body += RTCPPacket.be(r.ssrc) + [r.fractionLost] + Array(RTCPPacket.be(UInt32(bitPattern: r.cumulativeLost)).dropFirst())
                body += [r.highestSequence, r.jitter, r.lastSR, r.delaySinceLastSR].flatMap(RTCPPacket.be)
            }
            return RTCPPacket.header(reports.count, 201, words: 1 + body.count / 4) + body
        case let .senderReport(ssrc, ntp, rtp, packets, octets, _):
            let body = [ssrc, UInt32(ntp >> 32), UInt32(ntp & 0xFFFF_FFFF), rtp, packets, octets].flatMap(RTCPPacket.be)
            return RTCPPacket.header(0, 200, words: 1 + body.count / 4) + body
        case let .nack(sender, media, lost):
            // Pack into (PID, BLP) pairs: each PID covers itself and the 16 numbers after it.
            var body = RTCPPacket.be(sender) + RTCPPacket.be(media)
            var remaining = Array(Set(lost)).sorted { $0.distance(from: $1) < 0 }
            while let pid = remaining.first {
                var blp: UInt16 = 0
                remaining.removeFirst()
                remaining.removeAll { seq in
                    let d = seq.distance(from: pid)
                    if d >= 1 && d <= 16 { blp |= 1 << UInt16(d - 1); return true }
                    return false
                }
                body += [UInt8(pid >> 8), UInt8(pid & 0xFF), UInt8(blp >> 8), UInt8(blp & 0xFF)]
            }
            return RTCPPacket.header(1, 205, words: 1 + body.count / 4) + body
        case let .pli(sender, media):
            return RTCPPacket.header(1, 206, words: 3) + RTCPPacket.be(sender) + RTCPPacket.be(media)
        case let .fir(sender, requests):
            var body = RTCPPacket.be(sender) + RTCPPacket.be(0)
            for r in requests { body += RTCPPacket.be(r.ssrc) + [r.sequence, 0, 0, 0] }
            return RTCPPacket.header(4, 206, words: 1 + body.count / 4) + body
        case let .bye(ssrcs):
            return RTCPPacket.header(ssrcs.count, 203, words: 1 + ssrcs.count) + ssrcs.flatMap(RTCPPacket.be)
        case let .remb(sender, bitrate, ssrcs):
            // 18 bits of mantissa and a 6-bit exponent: the largest exponent that loses nothing worth keeping.
            var exponent: UInt64 = 0
            while bitrate >> exponent >= 1 << 18 { exponent += 1 }
            let mantissa = bitrate >> exponent, listed = Array(ssrcs.prefix(255))
            let body = RTCPPacket.be(sender) + RTCPPacket.be(0) + Array("REMB".utf8)
                + [UInt8(listed.count), UInt8(exponent << 2) | UInt8(mantissa >> 16), UInt8((mantissa >> 8) & 0xFF), UInt8(mantissa & 0xFF)]
                + listed.flatMap(RTCPPacket.be)
            return RTCPPacket.header(15, 206, words: 1 + body.count / 4) + body
        case let .sourceDescription(chunks):
            var body: [UInt8] = []
            for chunk in chunks {
                body += RTCPPacket.be(chunk.ssrc)
                if let cname = chunk.cname { let c = Array(cname.utf8.prefix(255)); body += [1, UInt8(c.count)] + c }
                body.append(0)
                while body.count % 4 != 0 { body.append(0) }
            }
            return RTCPPacket.header(chunks.count, 202, words: 1 + body.count / 4) + body
        case .other:
            return []
        }
    }
}
