/// Why an RTP or RTCP packet or a payload was refused. Per-packet faults are counted, never thrown through the data path.
public enum RTPError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The bytes end before a field or an element does.
    case truncated(String)
    /// A field holds a value the format forbids.
    case malformed(String)
    /// Valid, but a mode we do not take (a packetization, a framing).
    case unsupported(String)
    /// More of something than we hold (a bound against floods).
    case limitExceeded(String)

    /// What went wrong, for logs and error responses.
    public var reason: String {
        switch self {
        case let .truncated(text), let .malformed(text), let .unsupported(text), let .limitExceeded(text): text
        }
    }
    public var description: String { reason }
}

/// An RTP packet (RFC 3550) viewed in place: the header is decoded, the payload is a range of the bytes.
public struct RTPPacket: Sendable {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32]
    /// Header extension elements (RFC 8285 one-byte or two-byte form), by id.
    public var extensions: [(id: UInt8, value: ArraySlice<UInt8>)]
    public var payload: ArraySlice<UInt8>
    public let bytes: [UInt8]

    /// RFC 7983: RTP and RTCP start with a byte in 128…191.
    public static func looksLikeRTPOrRTCP(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] >= 128 && bytes[0] <= 191 }

    /// RFC 5761: payload types 64–95 in the second byte (with the marker) are RTCP when multiplexed.
    public static func isRTCP(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && (192...223).contains(bytes[1]) }

    public init(parsing bytes: [UInt8]) throws(RTPError) {
        guard bytes.count >= 12 else { throw RTPError.truncated("shorter than an RTP header") }
        guard bytes[0] >> 6 == 2 else { throw RTPError.malformed("version is not 2") }
        let padding = bytes[0] & 0x20 != 0
        let hasExtension = bytes[0] & 0x10 != 0
        let csrcCount = Int(bytes[0] & 0x0F)
        marker = bytes[1] & 0x80 != 0
        payloadType = bytes[1] & 0x7F
        sequenceNumber = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        timestamp = RTPPacket.u32(bytes, 4)
        ssrc = RTPPacket.u32(bytes, 8)
        var offset = 12
        guard bytes.count >= offset + 4 * csrcCount else { throw RTPError.truncated("CSRC list runs past the end") }
        csrcs = (0..<csrcCount).map { RTPPacket.u32(bytes, 12 + 4 * $0) }
        offset += 4 * csrcCount
        extensions = []
        if hasExtension {
            guard bytes.count >= offset + 4 else { throw RTPError.truncated("extension header runs past the end") }
            let profile = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let length = 4 * (Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]))
            let start = offset + 4, end = start + length
            guard end <= bytes.count else { throw RTPError.truncated("extension runs past the end") }
            var i = start
            if profile == 0xBEDE {
                while i < end {
                    let byte = bytes[i]
                    if byte == 0 { i += 1; continue }            // padding
                    let id = byte >> 4, size = Int(byte & 0x0F) + 1
                    if id == 15 { break }                         // reserved: stop reading
                    guard i + 1 + size <= end else { throw RTPError.truncated("one-byte extension element runs past the end") }
                    extensions.append((id, bytes[(i + 1)..<(i + 1 + size)]))
                    i += 1 + size
                }
            } else if profile & 0xFFF0 == 0x1000 {
                while i < end {
                    if bytes[i] == 0 { i += 1; continue }
                    guard i + 2 <= end else { throw RTPError.truncated("two-byte extension header runs past the end") }
                    let id = bytes[i], size = Int(bytes[i + 1])
                    guard i + 2 + size <= end else { throw RTPError.truncated("two-byte extension element runs past the end") }
                    extensions.append((id, bytes[(i + 2)..<(i + 2 + size)]))
                    i += 2 + size
                }
            }
            offset = end
        }
        var payloadEnd = bytes.count
        if padding {
            guard let count = bytes.last, count > 0, Int(count) <= bytes.count - offset else { throw RTPError.malformed("bad padding length") }
            payloadEnd -= Int(count)
        }
        payload = bytes[offset..<payloadEnd]
        self.bytes = bytes
    }

    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    public func extensionValue(id: UInt8) -> ArraySlice<UInt8>? { extensions.first { $0.id == id }?.value }

    /// RFC 6464 audio level: (voice activity, level in -dBov 0…127).
    public func audioLevel(id: UInt8) -> (voice: Bool, level: UInt8)? {
        guard let v = extensionValue(id: id), let first = v.first else { return nil }
        return (first & 0x80 != 0, first & 0x7F)
    }

    /// The `mid` header extension (RFC 8843) as text.
    public func mid(id: UInt8) -> String? { text(id: id) }
    /// A text header extension (mid, rtp-stream-id: RFC 8843, 8852).
    public func text(id: UInt8) -> String? { extensionValue(id: id).flatMap { String(validating: Array($0), as: UTF8.self) } }

    /// abs-send-time: 6.18 fixed-point seconds.
    public func absSendTime(id: UInt8) -> UInt32? {
        guard let v = extensionValue(id: id), v.count == 3 else { return nil }
        return UInt32(v[v.startIndex]) << 16 | UInt32(v[v.startIndex + 1]) << 8 | UInt32(v[v.startIndex + 2])
    }

    /// Builds a packet (tests, the built-in publisher).
    public static func build(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool = false,
                             extensions: [(UInt8, [UInt8])] = [], payload: [UInt8]) -> [UInt8] {
        var b: [UInt8] = [extensions.isEmpty ? 0x80 : 0x90, (marker ? 0x80 : 0) | payloadType & 0x7F,
                          UInt8(sequenceNumber >> 8), UInt8(sequenceNumber & 0xFF)]
        for v in [timestamp, ssrc] { b += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        if !extensions.isEmpty {
            var body: [UInt8] = []
            for (id, value) in extensions { body += [id << 4 | UInt8(value.count - 1)] + value }
            while body.count % 4 != 0 { body.append(0) }
            b += [0xBE, 0xDE, UInt8((body.count / 4) >> 8), UInt8((body.count / 4) & 0xFF)] + body
        }
        return b + payload
    }
}

/// Sequence-number arithmetic across the 16-bit wrap.
public extension UInt16 {
    /// Signed distance from `other` to `self`, as if both were on an unwrapped line.
    func distance(from other: UInt16) -> Int { Int(Int16(bitPattern: self &- other)) }
}
