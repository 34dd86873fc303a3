import Hummingbird
@testable import Rooms
@testable import Server
import Testing

@Suite struct SecurityTests {
    /// The bearer check reads every byte whatever it finds (no early exit on the first difference) and accepts
    /// only the exact token.
    @Test func bearerTokensMatchExactlyOnly() {
        let token = "s3cret-token"
        #expect(AccessMiddleware<BasicRequestContext>.authorized("Bearer s3cret-token", token: token))
        for wrong in [nil, "", "Bearer ", "Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer S3cret-token", "bearer s3cret-token",
                      "Basic s3cret-token", "Bearer \u{0}3cret-token", "Bearer s3cret-token "] {
            #expect(!AccessMiddleware<BasicRequestContext>.authorized(wrong, token: token), "accepted \(String(describing: wrong))")
        }
    }

    /// Session ids (the WHIP resource URL) and ICE credentials: at least 128 bits from the system's generator.
    @Test func sessionIDsCarryAtLeast128BitsOfRandomness() {
        let ids = (0..<2000).map { _ in RoomDirectory.random(32) }
        #expect(Set(ids).count == ids.count)
        let alphabet = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(alphabet.contains) })
        // 32 symbols of 62: log2(62) * 32 ≈ 190 bits. Every symbol turns up, in roughly equal shares.
        var counts: [Character: Int] = [:]
        for id in ids { for c in id { counts[c, default: 0] += 1 } }
        #expect(counts.count == 62)
        let expected = Double(2000 * 32) / 62
        #expect(counts.values.allSatisfy { abs(Double($0) - expected) < expected * 0.25 })
    }

    /// Room names cannot reach outside the recordings folder or carry anything but letters, digits, - and _.
    @Test func roomNamesCannotEscapeTheRecordingsFolder() {
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "a b", "ä", String(repeating: "x", count: 65), "x\u{0}", "%2e%2e"] {
            #expect(!RoomDirectory.isValidRoomName(bad), "\(bad) accepted")
        }
        #expect(RoomDirectory.isValidRoomName("standup-2026_11"))
    }
}
