import Foundation
import Hummingbird
@testable import Rooms
@testable import Server
import Testing

@Suite(.timeLimit(.minutes(2))) struct SecurityTests {
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

    /// Whether ids look drawn independently and uniformly from letters and digits: every symbol in roughly equal
    /// shares at every position, and consecutive ids differing almost everywhere (a counter changes a few symbols).
    static func looksRandom(_ ids: [String]) -> Bool {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        guard Set(ids).count == ids.count, let length = ids.first?.count, ids.allSatisfy({ $0.count == length && $0.allSatisfy(alphabet.contains) }) else { return false }
        let chars = ids.map(Array.init)
        let expected = Double(ids.count) / Double(alphabet.count)
        for position in 0..<length {
            var counts: [Character: Int] = [:]
            for id in chars { counts[id[position], default: 0] += 1 }
            // Chi-square with 61 degrees of freedom: above 120 happens by chance about once in a million.
            let chiSquare = alphabet.reduce(0.0) { $0 + pow(Double(counts[$1, default: 0]) - expected, 2) / expected }
            if chiSquare > 120 { return false }
        }
        let differing = zip(chars, chars.dropFirst()).map { a, b in zip(a, b).filter { $0 != $1 }.count }
        return Double(differing.reduce(0, +)) / Double(differing.count) > Double(length) * 0.9
    }

    /// Session ids (the WHIP resource URL) and ICE credentials: at least 128 bits from the system's generator
    /// (32 symbols of 62: about 190 bits). The check itself rejects a counter and a cycling generator.
    @Test func sessionIDsCarryAtLeast128BitsOfRandomness() {
        let ids = (0..<2000).map { _ in RoomDirectory.random(32) }
        #expect(SecurityTests.looksRandom(ids))
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let counter = (0..<2000).map { n in String((0..<32).map { i in alphabet[(n / Int(pow(62, Double(min(i, 3))))) % 62] }) }
        #expect(!SecurityTests.looksRandom(counter), "a counter must not pass")
        let cycling = (0..<2000).map { n in String((0..<32).map { i in alphabet[(n * 33 + i) % 62] }) }
        #expect(!SecurityTests.looksRandom(cycling), "a generator cycling through the alphabet must not pass")
    }

    /// Room names cannot reach outside the recordings folder or carry anything but letters, digits, - and _.
    @Test func roomNamesCannotEscapeTheRecordingsFolder() {
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "a b", "ä", String(repeating: "x", count: 65), "x\u{0}", "%2e%2e"] {
            #expect(!RoomDirectory.isValidRoomName(bad), "\(bad) accepted")
        }
        #expect(RoomDirectory.isValidRoomName("standup-2026_11"))
    }
}
