import Delivery
import Foundation
import Testing

/// Our SigV4 signer against botocore's on the same requests (the S3 calls an upload makes, odd keys, temporary
/// credentials, both addressing styles), and Standard Webhooks signing against the specification's example.
@Suite(.timeLimit(.minutes(1)))
struct SigningTests {
    struct Case {
        var method: String, host: String, path: String, query: [(String, String)], headers: [(String, String)], body: [UInt8]
        var token: String? = nil, region = "us-east-1", scheme = "http"
    }

    static let cases: [Case] = [
        Case(method: "PUT", host: "127.0.0.1:9000", path: "/bucket/recordings/room-1764500000.mp4", query: [],
             headers: [("content-md5", "XUFAKrxLKna5cZ2REBfFkg=="), ("content-length", "5")], body: Array("hello".utf8)),
        Case(method: "POST", host: "127.0.0.1:9000", path: "/bucket/room.mp4", query: [("uploads", "")],
             headers: [("x-amz-server-side-encryption", "AES256")], body: []),
        Case(method: "PUT", host: "s3.eu-west-3.amazonaws.com", path: "/bucket/room.mp4",
             query: [("partNumber", "12"), ("uploadId", "2~a/b+c==")], headers: [("content-length", "3")], body: [1, 2, 3], region: "eu-west-3"),
        Case(method: "GET", host: "bucket.s3.amazonaws.com", path: "/a%20b/%C3%A9t%C3%A9%2B1.mp4",
             query: [("uploadId", "x y"), ("part-number-marker", "1000")], headers: [], body: [], token: "FQoGZXIvYXdzEJr//////////token"),
        Case(method: "HEAD", host: "bucket.s3.us-east-1.amazonaws.com", path: "/recordings/r.events.jsonl", query: [],
             headers: [("x-amz-meta-room", "  two   spaces ")], body: []),
    ]

    @Test func sigV4MatchesBotocore() throws {
        let credentials = SigV4.Credentials(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let time: Int64 = 1_764_510_000
        var specs: [[String: Any]] = []
        var ours: [[(String, String)]] = []
        for c in SigningTests.cases {
            var creds = credentials
            creds.sessionToken = c.token
            let signer = SigV4(credentials: creds, region: c.region)
            ours.append(signer.sign(method: c.method, path: c.path, query: c.query, headers: [("host", c.host)] + c.headers,
                                    payloadHash: SigV4.sha256Hex(c.body), time: time))
            let query = c.query.map { $0.1.isEmpty ? "\(SigV4.encode($0.0))=" : "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
            specs.append(["method": c.method, "url": "\(c.scheme)://\(c.host)\(c.path)" + (query.isEmpty ? "" : "?" + query),
                          "headers": c.headers.map { [$0.0, $0.1] }, "body_hex": c.body.map { String(format: "%02x", $0) }.joined(),
                          "time": time, "access_key": creds.accessKey, "secret_key": creds.secretKey, "token": c.token as Any, "region": c.region])
        }
        let theirs = try SigningTests.botocore(specs)
        #expect(theirs.count == ours.count)
        for (index, (mine, reference)) in zip(ours, theirs).enumerated() {
            let headers = Dictionary(mine, uniquingKeysWith: { a, _ in a })
            #expect(headers["authorization"] == reference["authorization"], "case \(index): \(SigningTests.cases[index].method) \(SigningTests.cases[index].path)")
            #expect(headers["x-amz-date"] == reference["x-amz-date"])
            #expect(headers["x-amz-content-sha256"] == reference["x-amz-content-sha256"])
        }
    }

    @Test func timestampsAreUTC() {
        #expect(SigV4.timestamp(0) == "19700101T000000Z")
        #expect(SigV4.timestamp(951_782_400) == "20000229T000000Z")      // a leap day
        #expect(SigV4.timestamp(1_764_510_000) == "20251130T134000Z")
    }

    /// The example of the Standard Webhooks specification (and of its reference libraries' tests).
    @Test func webhookSignatureMatchesSpecification() throws {
        let signer = try #require(WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: "{\"test\": 2432232314}")
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(WebhookSigner(secret: "not base64!") == nil)
    }

    static func botocore(_ specs: [[String: Any]]) throws -> [[String: String]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = root.appendingPathComponent(".build-venv/bin/python")
        process.arguments = [root.appendingPathComponent("Tests/peers/sigv4_botocore.py").path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: specs))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [[String: String]])
    }
}
