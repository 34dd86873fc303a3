import Crypto
import Foundation

/// Download links a player can use without the API token: the path and an expiry, signed with HMAC-SHA256 under a
/// key kept in the delivery folder (made once, readable by the server's user only), so links outlive restarts.
public struct SignedLinks: Sendable {
    let key: [UInt8]

    public init(key: [UInt8]) { self.key = key }

    /// The key at `path`, made (32 random bytes) when there is none.
    public static func load(at path: String) throws -> SignedLinks {
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return SignedLinks(key: Array(data)) }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600]) else {
            throw DeliveryError("cannot write the link-signing key \(path)")
        }
        return SignedLinks(key: key)
    }

    /// base64url of HMAC-SHA256(key, "PATH\nEXPIRES").
    public func signature(path: String, expires: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(path)\n\(expires)".utf8), using: SymmetricKey(data: key))
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `PATH?expires=…&signature=…`, valid for `seconds` from `now`.
    public func link(path: String, seconds: Int64, now: Int64 = Int64(Date().timeIntervalSince1970)) -> (url: String, expires: Int64) {
        let expires = now + seconds
        return ("\(path)?expires=\(expires)&signature=\(signature(path: path, expires: expires))", expires)
    }

    public enum Verdict: Sendable, Equatable { case valid, expired, invalid }

    public func check(path: String, expires: String?, signature: String?, now: Int64 = Int64(Date().timeIntervalSince1970)) -> Verdict {
        guard let expires, let time = Int64(expires), let signature else { return .invalid }
        let expected = Array(self.signature(path: path, expires: time).utf8), given = Array(signature.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for i in 0..<min(expected.count, given.count) { difference |= expected[i] ^ given[i] }
        guard difference == 0 else { return .invalid }
        return time < now ? .expired : .valid
    }
}
