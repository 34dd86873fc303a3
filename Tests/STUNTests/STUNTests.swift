@testable import STUN
import Testing

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0..<($0 + 2)]), radix: 16)! }
}

// RFC 5769 §2.1–2.3.
let sampleRequest = hex("""
00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e 20746573 7420636c 69656e74 00240004 6e0001ff
80290008 932ff9b1 51263b36 00060009 6576746a 3a683676 59202020 00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249
c1b571a2 80280004 e57a3bcf
""")
let sampleIPv4Response = hex("""
0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200008 0001a147 e112a643
00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7 80280004 c07d4c96
""")
let sampleIPv6Response = hex("""
01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200014 0002a147 0113a9fa
a5d3f179 bc25f4b5 bed2b9d9 00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41 80280004 c8fb0b4c
""")
let password = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)

@Suite(.timeLimit(.minutes(2))) struct RFC5769Tests {
    @Test func parsesTheSampleRequest() throws {
        let m = try STUNMessage(parsing: sampleRequest)
        #expect(m.messageClass == .request && m.method == 1)
        #expect(m.username == "evtj:h6vY")
        #expect(m.priority == 0x6e0001ff)
        #expect(m.hasValidFingerprint)
        #expect(m.hasValidIntegrity(key: password))
        #expect(!m.hasValidIntegrity(key: Array("wrong".utf8)))
    }

    @Test func parsesTheSampleResponses() throws {
        let v4 = try STUNMessage(parsing: sampleIPv4Response)
        #expect(v4.messageClass == .success)
        #expect(v4.xorMappedAddress == TransportAddress(ip: [192, 0, 2, 1], port: 32853))
        #expect(v4.hasValidFingerprint && v4.hasValidIntegrity(key: password))
        let v6 = try STUNMessage(parsing: sampleIPv6Response)
        #expect(v6.xorMappedAddress == TransportAddress(ip: hex("20010db8123456780011223344556677"), port: 32853))
        #expect(v6.hasValidFingerprint && v6.hasValidIntegrity(key: password))
    }

    @Test func builderReproducesTheIPv4Response() {
        var b = STUNMessageBuilder(class: .success, transactionID: hex("b7e7a701bc34d686fa87dfae"))
        b.add(.software, Array("test vector".utf8))
        b.addXorMappedAddress(TransportAddress(ip: [192, 0, 2, 1], port: 32853))
        b.addMessageIntegrity(key: password)
        b.addFingerprint()
        // The RFC pads SOFTWARE with a space, we pad with zero: compare everything else and the checks.
        var expected = sampleIPv4Response
        expected[35] = 0
        let ours = b.encoded
        #expect(ours.count == expected.count)
        #expect(Array(ours[0..<32]) == Array(expected[0..<32]))
        let parsed = try? STUNMessage(parsing: ours)
        #expect(parsed?.hasValidIntegrity(key: password) == true && parsed?.hasValidFingerprint == true)
    }

    @Test func digests() {
        #expect(Digest.hmacSHA1(key: Array("key".utf8), Array("The quick brown fox jumps over the lazy dog".utf8))
                == hex("de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"))
        #expect(Digest.crc32(Array("123456789".utf8)) == 0xCBF43926)
    }
}

@Suite(.timeLimit(.minutes(2))) struct MalformedSTUNTests {
    @Test func everyTruncationIsRefusedWithoutCrashing() {
        for n in 0..<sampleRequest.count {
            #expect { try STUNMessage(parsing: Array(sampleRequest.prefix(n))) } throws: { error in
                switch error as? STUNError { case .truncated?, .malformed?: true; default: false }
            }
        }
    }

    @Test func corruptedLengthsAreRefused() {
        for i in 0..<sampleRequest.count {
            for value: UInt8 in [0x00, 0xFF, 0x7F] {
                var bytes = sampleRequest
                bytes[i] = value
                // Never a crash; if it still parses it must not pass both integrity checks.
                if let m = try? STUNMessage(parsing: bytes), bytes != sampleRequest {
                    #expect(!(m.hasValidFingerprint && m.hasValidIntegrity(key: password)), "byte \(i) = \(value)")
                }
            }
        }
    }

    @Test func attributeRunningPastTheEnd() {
        var bytes = sampleRequest
        bytes[22] = 0x01; bytes[23] = 0x00   // SOFTWARE claims 256 bytes
        #expect(throws: STUNError.self) { try STUNMessage(parsing: bytes) }
    }
}

@Suite(.timeLimit(.minutes(2))) struct ICELiteResponderTests {
    let peer = TransportAddress(ip: [127, 0, 0, 1], port: 50000)
    let responder = ICELiteResponder(localUfrag: "srv1", localPassword: "serverpasswordserverpass", remoteUfrag: "peer")

    func request(username: String = "srv1:peer", key: String = "serverpasswordserverpass", controlling: Bool = true,
                 controlled: Bool = false, priority: Bool = true, useCandidate: Bool = false, fingerprint: Bool = true,
                 integrity: Bool = true, extra: [(UInt16, [UInt8])] = []) -> [UInt8] {
        var b = STUNMessageBuilder(class: .request, transactionID: Array(1...12))
        b.add(.username, Array(username.utf8))
        if priority { b.add(.priority, [0x6e, 0, 1, 0xff]) }
        if controlling { b.add(.iceControlling, [1, 2, 3, 4, 5, 6, 7, 8]) }
        if controlled { b.add(.iceControlled, [1, 2, 3, 4, 5, 6, 7, 8]) }
        if useCandidate { b.add(.useCandidate, []) }
        for (t, v) in extra { b.add(t, v) }
        if integrity { b.addMessageIntegrity(key: Array(key.utf8)) }
        if fingerprint { b.addFingerprint() }
        return b.encoded
    }

    @Test func validCheckIsAnsweredWithTheMappedAddress() throws {
        guard case let .success(response, nominated, priority) = responder.handle(request(useCandidate: true), from: peer) else {
            Issue.record("not accepted"); return
        }
        #expect(nominated && priority == 0x6e0001ff)
        let m = try STUNMessage(parsing: response)
        #expect(m.messageClass == .success && m.transactionID == Array(1...12))
        #expect(m.xorMappedAddress == peer)
        #expect(m.hasValidIntegrity(key: Array("serverpasswordserverpass".utf8)) && m.hasValidFingerprint)
    }

    @Test(arguments: [
        (401, "wrong ufrag"), (401, "wrong remote ufrag"), (401, "wrong password"), (400, "no integrity"),
        (400, "no fingerprint"), (400, "no priority"), (400, "not controlling"), (487, "both controlled"), (420, "unknown attribute"),
    ])
    func badChecksGetTheRightError(code: Int, what: String) throws {
        let bytes: [UInt8]
        switch what {
        case "wrong ufrag": bytes = request(username: "other:peer")
        case "wrong remote ufrag": bytes = request(username: "srv1:intruder")
        case "wrong password": bytes = request(key: "not the password")
        case "no integrity": bytes = request(integrity: false)
        case "no fingerprint": bytes = request(fingerprint: false)
        case "no priority": bytes = request(priority: false)
        case "not controlling": bytes = request(controlling: false)
        case "both controlled": bytes = request(controlling: false, controlled: true)
        default: bytes = request(extra: [(0x0003, [0, 0, 0, 0])])
        }
        guard case let .reject(response, got, _) = responder.handle(bytes, from: peer) else {
            Issue.record("\(what): not rejected"); return
        }
        #expect(got == code, "\(what)")
        let m = try STUNMessage(parsing: response)
        #expect(m.messageClass == .error && m.errorCode == code && m.hasValidFingerprint)
    }

    @Test func iceCheckBuilderIsAccepted() {
        let check = STUNMessageBuilder.iceCheck(remoteUfrag: "srv1", localUfrag: "peer", remotePassword: "serverpasswordserverpass")
        guard case let .success(_, nominated, priority) = responder.handle(check, from: peer) else { Issue.record("refused"); return }
        #expect(nominated && priority == 0x6e0001ff)
        let plain = STUNMessageBuilder.iceCheck(remoteUfrag: "srv1", localUfrag: "peer", remotePassword: "serverpasswordserverpass", nominate: false)
        guard case let .success(_, nominatedToo, _) = responder.handle(plain, from: peer) else { Issue.record("refused"); return }
        #expect(!nominatedToo)
    }

    @Test func garbageAndNonRequestsAreIgnored() {
        for bytes in [[], [0x00], Array(repeating: 0xFF, count: 40), Array(request().dropLast(3)), sampleIPv4Response] as [[UInt8]] {
            guard case .ignore = responder.handle(bytes, from: peer) else { Issue.record("answered \(bytes.prefix(8))"); continue }
        }
        var damaged = request()
        damaged[damaged.count - 1] ^= 0xFF   // bad FINGERPRINT: silently dropped
        guard case .ignore = responder.handle(damaged, from: peer) else { Issue.record("bad fingerprint answered"); return }
    }
}
