/// A UDP transport address.
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public var ip: [UInt8]
    public var port: UInt16

    public init(ip: [UInt8], port: UInt16) { self.ip = ip; self.port = port }

    /// `192.0.2.1` (IPv6 addresses are not parsed here).
    public init?(ipv4 text: String, port: UInt16) {
        let parts = text.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        self.init(ip: parts, port: port)
    }

    public var isIPv4: Bool { ip.count == 4 }

    public var description: String {
        if isIPv4 { return ip.map(String.init).joined(separator: ".") + ":\(port)" }
        var groups: [String] = []
        for i in stride(from: 0, to: ip.count, by: 2) { groups.append(String(UInt16(ip[i]) << 8 | UInt16(ip[i + 1]), radix: 16)) }
        return "[\(groups.joined(separator: ":"))]:\(port)"
    }
}

/// Why bytes are not a STUN message we can read.
public enum STUNError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Shorter than its header or an attribute says.
    case truncated(String)
    /// A field the format forbids (type bits, length, cookie).
    case malformed(String)
    /// More attributes than we read.
    case limitExceeded(String)

    /// What went wrong, for logs and error responses.
    public var reason: String {
        switch self {
        case let .truncated(text), let .malformed(text), let .limitExceeded(text): text
        }
    }
    public var description: String { reason }
}

/// One STUN message (RFC 8489), parsed with every length checked against the bytes that are there.
public struct STUNMessage: Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let headerSize = 20

    public enum Class: UInt16, Sendable { case request = 0x0000, indication = 0x0010, success = 0x0100, error = 0x0110 }

    public enum AttributeType: UInt16, Sendable {
        case mappedAddress = 0x0001, username = 0x0006, messageIntegrity = 0x0008, errorCode = 0x0009
        case unknownAttributes = 0x000A, xorMappedAddress = 0x0020, priority = 0x0024, useCandidate = 0x0025
        case software = 0x8022, fingerprint = 0x8028, iceControlled = 0x8029, iceControlling = 0x802A
    }

    public struct Attribute: Sendable, Equatable {
        public var type: UInt16
        public var value: [UInt8]
        /// Offset of the attribute's header in the message.
        public var offset: Int
    }

    public var method: UInt16
    public var messageClass: Class
    public var transactionID: [UInt8]
    public var attributes: [Attribute]
    /// The message as received, for integrity and fingerprint checks.
    public let bytes: [UInt8]

    /// True when `bytes` look like STUN (RFC 7983: first byte 0–3) with the magic cookie.
    public static func looksLikeSTUN(_ bytes: [UInt8]) -> Bool {
        bytes.count >= headerSize && bytes[0] < 4 && bytes[4] == 0x21 && bytes[5] == 0x12 && bytes[6] == 0xA4 && bytes[7] == 0x42
    }

    public init(parsing bytes: [UInt8]) throws(STUNError) {
        guard bytes.count >= STUNMessage.headerSize else { throw STUNError.truncated("shorter than a STUN header") }
        guard bytes[0] & 0xC0 == 0 else { throw STUNError.malformed("top bits of the type are not zero") }
        let type = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard length % 4 == 0 else { throw STUNError.malformed("length \(length) is not a multiple of 4") }
        guard length + STUNMessage.headerSize == bytes.count else {
            throw STUNError.malformed("length \(length) does not match the \(bytes.count - STUNMessage.headerSize) bytes after the header")
        }
        guard STUNMessage.looksLikeSTUN(bytes) else { throw STUNError.malformed("no magic cookie") }
        method = (type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2
        messageClass = Class(rawValue: type & 0x0110)!
        transactionID = Array(bytes[8..<20])
        var attributes: [Attribute] = []
        var offset = STUNMessage.headerSize
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { throw STUNError.truncated("truncated attribute header at \(offset)") }
            let attrType = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let attrLength = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let end = offset + 4 + attrLength
            guard end <= bytes.count else { throw STUNError.truncated("attribute 0x\(String(attrType, radix: 16)) runs past the end") }
            attributes.append(Attribute(type: attrType, value: Array(bytes[(offset + 4)..<end]), offset: offset))
            offset = end + (4 - attrLength % 4) % 4
            guard attributes.count <= 64 else { throw STUNError.limitExceeded("too many attributes") }
        }
        self.attributes = attributes
        self.bytes = bytes
    }

    public func attribute(_ type: AttributeType) -> Attribute? { attributes.first { $0.type == type.rawValue } }

    public var username: String? {
        attribute(.username).flatMap { String(validating: $0.value, as: UTF8.self) }
    }

    public var priority: UInt32? {
        guard let v = attribute(.priority)?.value, v.count == 4 else { return nil }
        return UInt32(v[0]) << 24 | UInt32(v[1]) << 16 | UInt32(v[2]) << 8 | UInt32(v[3])
    }

    public var errorCode: Int? {
        guard let v = attribute(.errorCode)?.value, v.count >= 4 else { return nil }
        return Int(v[2] & 0x7) * 100 + Int(v[3])
    }

    /// The XOR-MAPPED-ADDRESS, decoded.
    public var xorMappedAddress: TransportAddress? {
        guard let v = attribute(.xorMappedAddress)?.value, v.count >= 8 else { return nil }
        let port = (UInt16(v[2]) << 8 | UInt16(v[3])) ^ 0x2112
        let mask = [0x21, 0x12, 0xA4, 0x42] + transactionID
        switch v[1] {
        case 1: return TransportAddress(ip: (0..<4).map { v[4 + $0] ^ mask[$0] }, port: port)
        case 2 where v.count >= 20: return TransportAddress(ip: (0..<16).map { v[4 + $0] ^ mask[$0] }, port: port)
        default: return nil
        }
    }

    /// Whether MESSAGE-INTEGRITY matches `key` (for ICE: the local password). Attributes after it, other than
    /// FINGERPRINT, are not allowed (RFC 8489 §14.5).
    public func hasValidIntegrity(key: [UInt8]) -> Bool {
        guard let index = attributes.firstIndex(where: { $0.type == AttributeType.messageIntegrity.rawValue }) else { return false }
        let mi = attributes[index]
        guard mi.value.count == 20 else { return false }
        let after = attributes[(index + 1)...]
        guard after.allSatisfy({ $0.type == AttributeType.fingerprint.rawValue }), after.count <= 1 else { return false }
        var covered = Array(bytes[0..<mi.offset])
        let length = mi.offset + 24 - STUNMessage.headerSize
        covered[2] = UInt8(length >> 8); covered[3] = UInt8(length & 0xFF)
        return Digest.equal(Digest.hmacSHA1(key: key, covered), mi.value[...])
    }

    /// Whether FINGERPRINT is present, last, and right.
    public var hasValidFingerprint: Bool {
        guard let last = attributes.last, last.type == AttributeType.fingerprint.rawValue, last.value.count == 4 else { return false }
        let crc = Digest.crc32(bytes[0..<last.offset]) ^ 0x5354_554E
        return last.value == [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
    }
}

/// Writes STUN messages; MESSAGE-INTEGRITY and FINGERPRINT are computed over what precedes them.
public struct STUNMessageBuilder: Sendable {
    private var bytes: [UInt8]

    public init(method: UInt16 = 0x0001, class messageClass: STUNMessage.Class, transactionID: [UInt8]) {
        precondition(transactionID.count == 12)
        let m = method
        let type = (m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 | messageClass.rawValue
        bytes = [UInt8(type >> 8), UInt8(type & 0xFF), 0, 0, 0x21, 0x12, 0xA4, 0x42] + transactionID
    }

    private mutating func setLength(_ length: Int) {
        bytes[2] = UInt8(length >> 8); bytes[3] = UInt8(length & 0xFF)
    }

    public mutating func add(_ type: UInt16, _ value: [UInt8]) {
        bytes += [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
        bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        setLength(bytes.count - STUNMessage.headerSize)
    }

    public mutating func add(_ type: STUNMessage.AttributeType, _ value: [UInt8]) { add(type.rawValue, value) }

    public mutating func addXorMappedAddress(_ address: TransportAddress) {
        let mask = [0x21, 0x12, 0xA4, 0x42] + Array(bytes[8..<20])
        let port = address.port ^ 0x2112
        var value: [UInt8] = [0, address.isIPv4 ? 1 : 2, UInt8(port >> 8), UInt8(port & 0xFF)]
        value += address.ip.enumerated().map { $0.element ^ mask[$0.offset] }
        add(.xorMappedAddress, value)
    }

    public mutating func addErrorCode(_ code: Int, reason: String) {
        add(.errorCode, [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8))
    }

    public mutating func addMessageIntegrity(key: [UInt8]) {
        setLength(bytes.count - STUNMessage.headerSize + 24)
        let mac = Digest.hmacSHA1(key: key, bytes)
        add(.messageIntegrity, mac)
    }

    public mutating func addFingerprint() {
        setLength(bytes.count - STUNMessage.headerSize + 8)
        let crc = Digest.crc32(bytes) ^ 0x5354_554E
        add(.fingerprint, [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
    }

    public var encoded: [UInt8] { bytes }
}

extension STUNMessageBuilder {
    /// An ICE connectivity check as a controlling agent sends it (RFC 8445 §7.2.2): USERNAME `remote:local`,
    /// PRIORITY, ICE-CONTROLLING, optionally USE-CANDIDATE, MESSAGE-INTEGRITY with the remote password, FINGERPRINT.
    public static func iceCheck(remoteUfrag: String, localUfrag: String, remotePassword: String, priority: UInt32 = 0x6e00_01ff,
                                nominate: Bool = true, transactionID: [UInt8]? = nil) -> [UInt8] {
        var b = STUNMessageBuilder(class: .request, transactionID: transactionID ?? (0..<12).map { _ in UInt8.random(in: 0...255) })
        b.add(.username, Array("\(remoteUfrag):\(localUfrag)".utf8))
        b.add(.priority, [UInt8(priority >> 24), UInt8((priority >> 16) & 0xFF), UInt8((priority >> 8) & 0xFF), UInt8(priority & 0xFF)])
        b.add(.iceControlling, (0..<8).map { _ in UInt8.random(in: 0...255) })
        if nominate { b.add(.useCandidate, []) }
        b.addMessageIntegrity(key: Array(remotePassword.utf8))
        b.addFingerprint()
        return b.encoded
    }
}
