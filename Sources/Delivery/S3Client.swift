import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Where recordings are uploaded: any S3 API store (AWS S3, or an S3-compatible one at `endpoint`).
public struct S3Configuration: Sendable {
    public var bucket: String
    public var region = "us-east-1"
    /// `https://s3.REGION.amazonaws.com` when nil.
    public var endpoint: String?
    /// Object keys begin with this (e.g. `recordings/`).
    public var prefix = ""
    /// `ENDPOINT/BUCKET/KEY` rather than `BUCKET.HOST/KEY` (most self-hosted stores want this).
    public var pathStyle = false
    public var credentials: SigV4.Credentials
    /// `AES256` or `aws:kms` (`x-amz-server-side-encryption`), with the KMS key when given.
    public var serverSideEncryption: String?
    public var kmsKeyID: String?
    /// Files above this go up in parts of this size (S3 wants at least 5 MiB for every part but the last).
    public var partSize = 8 << 20

    public init(bucket: String, credentials: SigV4.Credentials) { self.bucket = bucket; self.credentials = credentials }

    /// What an upload's address is shown as (`s3://bucket/key`).
    public func location(of key: String) -> String { "s3://\(bucket)/\(key)" }
}

/// A refusal or failure of the store: its HTTP status and S3 error code, or a transport failure (status 0).
public struct S3Error: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// Worth trying again later: the store could not be reached, timed out, was busy or failed on its side.
    /// A refusal of the request itself (credentials, permissions, no such bucket) is not.
    public var isTransient: Bool { status == 0 || status == 408 || status == 429 || status >= 500 || ["RequestTimeout", "SlowDown", "RequestTimeTooSkewed"].contains(code) }
    public var description: String { status == 0 ? message : "\(status) \(code): \(message)" }
}

/// The S3 calls an upload needs, signed with SigV4, on async-http-client.
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    let http: HTTPClient
    static let timeout = TimeAmount.seconds(120)

    public init(configuration: S3Configuration, http: HTTPClient = DeliveryHTTP.client) {
        self.configuration = configuration; self.http = http
    }

    public struct Part: Sendable, Codable, Equatable {
        public var number: Int
        public var etag: String
        public var size: Int
        public init(number: Int, etag: String, size: Int) { self.number = number; self.etag = etag; self.size = size }
    }

    public func put(key: String, bytes: [UInt8]) async throws(S3Error) -> String {
        let response = try await send("PUT", key: key, body: bytes, extra: encryptionHeaders + [("content-md5", S3Client.md5Base64(bytes))])
        return response.etag
    }

    public func createMultipart(key: String) async throws(S3Error) -> String {
        let response = try await send("POST", key: key, query: [("uploads", "")], extra: encryptionHeaders)
        guard let id = XMLText.values(of: "UploadId", in: response.body).first else {
            throw S3Error(status: response.status, code: "BadResponse", message: "no UploadId in the store's answer")
        }
        return id
    }

    public func uploadPart(key: String, uploadID: String, number: Int, bytes: [UInt8]) async throws(S3Error) -> Part {
        let response = try await send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: bytes,
                                      extra: [("content-md5", S3Client.md5Base64(bytes))])
        return Part(number: number, etag: response.etag, size: bytes.count)
    }

    /// The parts the store holds for an unfinished upload (all pages).
    public func listParts(key: String, uploadID: String) async throws(S3Error) -> [Part] {
        var parts: [Part] = [], marker = 0
        while true {
            var query = [("uploadId", uploadID)]
            if marker > 0 { query.append(("part-number-marker", String(marker))) }
            let response = try await send("GET", key: key, query: query)
            for block in XMLText.values(of: "Part", in: response.body) {
                guard let number = XMLText.values(of: "PartNumber", in: block).first.flatMap({ Int($0) }),
                      let etag = XMLText.values(of: "ETag", in: block).first,
                      let size = XMLText.values(of: "Size", in: block).first.flatMap({ Int($0) }) else { continue }
                parts.append(Part(number: number, etag: etag, size: size))
            }
            guard XMLText.values(of: "IsTruncated", in: response.body).first == "true",
                  let next = XMLText.values(of: "NextPartNumberMarker", in: response.body).first.flatMap({ Int($0) }), next > marker else { break }
            marker = next
        }
        return parts
    }

    public func complete(key: String, uploadID: String, parts: [Part]) async throws(S3Error) -> String {
        let list = parts.sorted { $0.number < $1.number }
            .map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(XMLText.escape($0.etag))</ETag></Part>" }.joined()
        let response = try await send("POST", key: key, query: [("uploadId", uploadID)],
                                      body: Array("<CompleteMultipartUpload>\(list)</CompleteMultipartUpload>".utf8))
        // A 200 may still carry an error (S3 answers before it has finished combining the parts).
        if let code = XMLText.values(of: "Code", in: response.body).first {
            throw S3Error(status: response.status, code: code, message: XMLText.values(of: "Message", in: response.body).first ?? "")
        }
        return XMLText.values(of: "ETag", in: response.body).first ?? response.etag
    }

    /// `listParts`, or nil when the store has no such unfinished upload (it was completed, aborted or expired).
    public func listPartsIfAny(key: String, uploadID: String) async throws(S3Error) -> [Part]? {
        do { return try await listParts(key: key, uploadID: uploadID) } catch {
            if error.code == "NoSuchUpload" || error.status == 404 { return nil }
            throw error
        }
    }

    /// `complete`, or nil when the store no longer has the upload or a part of it.
    public func completeIfAny(key: String, uploadID: String, parts: [Part]) async throws(S3Error) -> String? {
        do { return try await complete(key: key, uploadID: uploadID, parts: parts) } catch {
            if error.code == "NoSuchUpload" || error.code == "InvalidPart" { return nil }
            throw error
        }
    }

    public func abort(key: String, uploadID: String) async throws(S3Error) {
        _ = try await send("DELETE", key: key, query: [("uploadId", uploadID)])
    }

    /// The stored object's size and ETag; nil when there is none.
    public func head(key: String) async throws(S3Error) -> (size: Int, etag: String)? {
        do {
            let response = try await send("HEAD", key: key)
            return (response.length ?? -1, response.etag)
        } catch where error.status == 404 {
            return nil
        }
    }

    var encryptionHeaders: [(String, String)] {
        guard let sse = configuration.serverSideEncryption else { return [] }
        return [("x-amz-server-side-encryption", sse)] + (configuration.kmsKeyID.map { [("x-amz-server-side-encryption-aws-kms-key-id", $0)] } ?? [])
    }

    struct Response { var status: Int; var etag: String; var length: Int?; var body: String }

    /// The URL's scheme and authority, and the path as sent, for a key.
    func address(of key: String) -> (base: String, host: String, path: String) {
        let endpoint = configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com"
        let trimmed = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        let scheme = trimmed.hasPrefix("http://") ? "http://" : "https://"
        let authority = trimmed.hasPrefix(scheme) ? String(trimmed.dropFirst(scheme.count)) : trimmed
        let encodedKey = SigV4.encode(key, keepSlash: true)
        if configuration.pathStyle {
            return (scheme + authority, authority, "/\(SigV4.encode(configuration.bucket))/\(encodedKey)")
        }
        let host = "\(configuration.bucket).\(authority)"
        return (scheme + host, host, "/\(encodedKey)")
    }

    func send(_ method: String, key: String, query: [(String, String)] = [], body: [UInt8]? = nil,
              extra: [(String, String)] = []) async throws(S3Error) -> Response {
        let (base, host, path) = address(of: key)
        let payloadHash = SigV4.sha256Hex(body ?? [])
        var headers = [("host", host)] + extra
        if let body { headers.append(("content-length", String(body.count))) }
        let signer = SigV4(credentials: configuration.credentials, region: configuration.region)
        headers += signer.sign(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash,
                               time: Int64(Date().timeIntervalSince1970))
        let queryText = query.map { $0.1.isEmpty && $0.0 == "uploads" ? "uploads=" : "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: base + path + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers where name != "host" { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let status: Int, responseHeaders: HTTPHeaders, text: String
        do {
            let response = try await http.execute(request, timeout: S3Client.timeout)
            status = Int(response.status.code)
            responseHeaders = response.headers
            let bytes = method == "HEAD" ? ByteBuffer() : try await response.body.collect(upTo: 16 << 20)
            text = String(buffer: bytes)
        } catch {
            throw S3Error(status: 0, code: "Unreachable", message: "cannot reach the store at \(base): \(error)")
        }
        guard (200..<300).contains(status) else {
            let code = XMLText.values(of: "Code", in: text).first ?? (status == 404 ? "NotFound" : "HTTP\(status)")
            let message = XMLText.values(of: "Message", in: text).first ?? (text.isEmpty ? "no reason given" : String(text.prefix(200)))
            throw S3Error(status: status, code: code, message: message)
        }
        return Response(status: status, etag: responseHeaders.first(name: "etag") ?? "",
                        length: responseHeaders.first(name: "content-length").flatMap { Int($0) }, body: text)
    }

    static func md5Base64(_ bytes: [UInt8]) -> String { Data(Insecure.MD5.hash(data: bytes)).base64EncodedString() }
}

/// The shared HTTP client of uploads and webhooks.
public enum DeliveryHTTP {
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// The few values read from the store's XML answers (flat, small documents): the text between `<Tag>` and `</Tag>`.
enum XMLText {
    static func values(of tag: String, in xml: String) -> [String] {
        var out: [String] = []
        var rest = Substring(xml)
        while let open = rest.range(of: "<\(tag)>") {
            guard let close = rest[open.upperBound...].range(of: "</\(tag)>") else { break }
            out.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
