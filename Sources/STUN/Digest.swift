import Crypto

/// What STUN's MESSAGE-INTEGRITY (RFC 8489 §14.5, HMAC-SHA1 from swift-crypto) and FINGERPRINT (§14.7, CRC-32, which
/// no library we use offers) need.
enum Digest {
    static func hmacSHA1<C: Collection>(key: [UInt8], _ message: C) -> [UInt8] where C.Element == UInt8 {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array(message), using: SymmetricKey(data: key)))
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32<C: Collection>(_ data: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// Constant-time comparison: how long it takes says nothing about where the bytes differ.
    static func equal(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}
