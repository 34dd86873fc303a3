import Foundation
import Hummingbird
import HummingbirdTesting
import Layout
import MediaCore
import NIOCore
import NIOPosix
import TestSupport
import Testing
import Delivery
import Transport
@testable import Rooms
@testable import Server

/// Every route and the error statuses it answers, in process (no socket). The OpenAPI document and the server
/// cannot drift apart unnoticed: the routes are the documented paths, every status seen is documented for its
/// route, and every body conforms to the documented schema of its status and content type.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RouteTests {
    /// (method, path template, status) of every answer the tests saw.
    final class Seen: @unchecked Sendable {          // only touched by the one test task, in order
        var answers: [(String, String, Int)] = []
    }

    static func directory(token: String? = nil) async throws -> (RoomDirectory, UDPTransport) {
        var configuration = ServerConfiguration(layout: LayoutPresets.document(named: "grid")!)
        configuration.size = PixelSize(width: 160, height: 90)
        configuration.preset = "ultrafast"
        configuration.recordings = TestScratch.path("routes")
        configuration.autoRecord = false
        configuration.token = token
        let directory = try RoomDirectory(configuration: configuration)
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, ingest: directory)
        directory.attach(transport)
        return (directory, transport)
    }

    @Test func everyRouteAnswersAsDocumented() async throws {
        let (directory, transport) = try await RouteTests.directory()
        let recordings = directory.configuration.recordings
        let delivery = try DeliveryService(configuration: DeliveryConfiguration(stateFolder: recordings + "/.delivery", recordings: recordings))
        try await delivery.start()
        directory.observe { delivery.observe($0) }
        let seen = Seen()
        let app = Application(router: HTTPServer.router(service: directory, delivery: delivery, metrics: { Array("mcu_up 1\n".utf8) }))
        try await app.test(.router) { client in
            func call(_ method: HTTPRequest.Method, _ uri: String, _ template: String, body: String? = nil, type: String? = "application/json",
                      accept: String? = nil, expect status: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestResponse {
                var headers: HTTPFields = [:]
                if let type, body != nil { headers[.contentType] = type }
                if let accept { headers[.accept] = accept }
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                #expect(Int(response.status.code) == status, "\(method) \(uri): \(response.status) \(String(buffer: response.body))", sourceLocation: sourceLocation)
                if response.status.code >= 400 && response.status.code != 405 {
                    #expect(response.headers[.contentType] == "application/problem+json", "\(method) \(uri): errors are problem documents",
                            sourceLocation: sourceLocation)
                }
                seen.answers.append((method.rawValue, template, Int(response.status.code)))
                for problem in RouteTests.conformance(response, method: method.rawValue, template: template) {
                    Issue.record("\(method) \(uri): \(problem)", sourceLocation: sourceLocation)
                }
                return response
            }
            _ = try await call(.get, "/healthz", "/healthz", expect: 200)
            let metrics = try await call(.get, "/metrics", "/metrics", expect: 200)
            #expect(String(buffer: metrics.body).contains("mcu_up 1"))
            let spec = try await call(.get, "/openapi.json", "/openapi.json", expect: 200)
            #expect(String(buffer: spec.body).contains("\"openapi\""))
            _ = try await call(.get, "/", "/", expect: 200)
            _ = try await call(.get, "/rooms", "/rooms", expect: 200)

            // WHIP: content type, size, bad offers, bad names, unknown sessions.
            _ = try await call(.post, "/rooms/a/whip", "/rooms/{room}/whip", body: "v=0", type: "text/plain", expect: 415)
            _ = try await call(.post, "/rooms/a/whip", "/rooms/{room}/whip", body: String(repeating: "a", count: HTTPServer.maxOfferBytes + 1),
                               type: "application/sdp", expect: 413)
            _ = try await call(.post, "/rooms/a/whip", "/rooms/{room}/whip", body: "v=0\r\n", type: "application/sdp", expect: 400)
            _ = try await call(.post, "/rooms/a%20b/whip", "/rooms/{room}/whip", body: "v=0\r\n", type: "application/sdp", expect: 400)
            _ = try await call(.delete, "/rooms/a/whip/nosuchsession", "/rooms/{room}/whip/{session}", expect: 404)
            _ = try await call(.patch, "/rooms/a/whip/nosuchsession", "/rooms/{room}/whip/{session}", body: "", type: "application/trickle-ice-sdpfrag", expect: 405)

            // A room: unknown, made, described as JSON or as the join page.
            _ = try await call(.get, "/rooms/r", "/rooms/{room}", expect: 404)
            _ = try await call(.get, "/rooms/a.b", "/rooms/{room}", expect: 400)
            try directory.createRoom("r")
            let described = try await call(.get, "/rooms/r", "/rooms/{room}", expect: 200)
            #expect(String(buffer: described.body).contains("\"name\":\"r\""))
            let page = try await call(.get, "/rooms/r", "/rooms/{room}", accept: "text/html", expect: 200)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)

            // Layouts.
            _ = try await call(.get, "/rooms/nope/layout", "/rooms/{room}/layout", expect: 404)
            _ = try await call(.get, "/rooms/r/layout", "/rooms/{room}/layout", expect: 200)
            _ = try await call(.put, "/rooms/nope/layout", "/rooms/{room}/layout", body: #"{"preset": "grid"}"#, expect: 404)
            _ = try await call(.put, "/rooms/r/layout", "/rooms/{room}/layout", body: "{", expect: 400)
            _ = try await call(.put, "/rooms/r/layout", "/rooms/{room}/layout", body: "grid", type: "text/plain", expect: 415)
            _ = try await call(.put, "/rooms/r/layout", "/rooms/{room}/layout", body: String(repeating: " ", count: HTTPServer.maxLayoutBytes + 1), expect: 413)
            let bad = try await call(.put, "/rooms/r/layout", "/rooms/{room}/layout", body: #"{"regions": [{"x": 0, "max_rows": -1}]}"#, expect: 400)
            #expect(String(buffer: bad.body).contains("\"field\""), "a bad layout names its field: \(String(buffer: bad.body))")
            _ = try await call(.put, "/rooms/r/layout", "/rooms/{room}/layout", body: #"{"preset": "speaker"}"#, expect: 200)

            // Watermarks.
            _ = try await call(.get, "/rooms/nope/watermark", "/rooms/{room}/watermark", expect: 404)
            _ = try await call(.get, "/rooms/r/watermark", "/rooms/{room}/watermark", expect: 200)
            _ = try await call(.put, "/rooms/r/watermark", "/rooms/{room}/watermark", body: #"{"items": [{"image": "../etc/passwd"}]}"#, expect: 400)
            _ = try await call(.put, "/rooms/r/watermark", "/rooms/{room}/watermark", body: #"{"items": []}"#, expect: 200)

            // Recording: not recording yet, start, again, commands while recording, stop, stop again.
            _ = try await call(.get, "/rooms/r/snapshot.jpg", "/rooms/{room}/snapshot.jpg", expect: 409)
            _ = try await call(.post, "/rooms/r/chat", "/rooms/{room}/chat", body: #"{"text": "hello"}"#, expect: 409)
            _ = try await call(.post, "/rooms/r/chat", "/rooms/{room}/chat", body: #"{"from": "x"}"#, expect: 400)
            _ = try await call(.delete, "/rooms/r/recording", "/rooms/{room}/recording", expect: 409)
            _ = try await call(.delete, "/rooms/nope/recording", "/rooms/{room}/recording", expect: 404)
            _ = try await call(.post, "/rooms/r/recording", "/rooms/{room}/recording", body: #"{"folder": "../up"}"#, expect: 400)
            _ = try await call(.post, "/rooms/r/recording", "/rooms/{room}/recording", body: #"{"webhook_url": "file:///etc"}"#, expect: 400)
            _ = try await call(.post, "/rooms/r/recording/pause", "/rooms/{room}/recording/pause", expect: 409)
            _ = try await call(.post, "/rooms/nope/recording/pause", "/rooms/{room}/recording/pause", expect: 404)
            _ = try await call(.get, "/uploads", "/uploads", expect: 200)
            _ = try await call(.get, "/rooms/r/hls/index.m3u8", "/rooms/{room}/hls/{file}", expect: 404)
            _ = try await call(.get, "/rooms/r/hls/..%2Fsecret.mp4", "/rooms/{room}/hls/{file}", expect: 404)
            _ = try await call(.post, "/rooms/r/recording", "/rooms/{room}/recording", body: #"{"rtmp_url": "http://x"}"#, expect: 400)
            _ = try await call(.post, "/rooms/r/recording", "/rooms/{room}/recording", body: #"{"max_part_duration": 1}"#, expect: 400)
            _ = try await call(.post, "/rooms/r/recording", "/rooms/{room}/recording", expect: 201)
            _ = try await call(.post, "/rooms/r/recording/resume", "/rooms/{room}/recording/resume", expect: 409)
            _ = try await call(.post, "/rooms/nope/recording/resume", "/rooms/{room}/recording/resume", expect: 404)
            _ = try await call(.post, "/rooms/r/recording/pause", "/rooms/{room}/recording/pause", expect: 200)
            _ = try await call(.post, "/rooms/r/recording/pause", "/rooms/{room}/recording/pause", expect: 409)
            _ = try await call(.post, "/rooms/r/chat", "/rooms/{room}/chat", body: #"{"from": "Ann", "text": "paused"}"#, expect: 409)
            let paused = try await call(.get, "/rooms/r", "/rooms/{room}", expect: 200)
            #expect(String(buffer: paused.body).contains("\"paused\":true"))
            _ = try await call(.post, "/rooms/r/recording/resume", "/rooms/{room}/recording/resume", expect: 200)
            _ = try await call(.post, "/rooms/r/recording", "/rooms/{room}/recording", expect: 409)
            _ = try await call(.post, "/rooms/r/chat", "/rooms/{room}/chat", body: #"{"from": "Ann", "text": "hello"}"#, expect: 201)
            let snapshot = try await call(.get, "/rooms/r/snapshot.jpg", "/rooms/{room}/snapshot.jpg", expect: 200)
            #expect(Array(snapshot.body.readableBytesView.prefix(2)) == [0xFF, 0xD8], "a JPEG")
            _ = try await call(.patch, "/rooms/r/participants/nobody", "/rooms/{room}/participants/{id}", body: #"{"pin": true}"#, expect: 404)
            _ = try await call(.patch, "/rooms/r/participants/nobody", "/rooms/{room}/participants/{id}", body: #"{"gain": 9}"#, expect: 400)
            _ = try await call(.patch, "/rooms/r/participants/nobody", "/rooms/{room}/participants/{id}", body: #"{"colour": 1}"#, expect: 400)
            // Plain RTP sources: refused with reasons, one made (both with RTCP on the RTP port and on its own), listed, removed.
            _ = try await call(.post, "/rooms/r/sources", "/rooms/{room}/sources", body: #"{"type": "whep"}"#, expect: 400)
            _ = try await call(.post, "/rooms/r/sources", "/rooms/{room}/sources", body: "rtp", type: "text/plain", expect: 415)
            _ = try await call(.post, "/rooms/r/sources", "/rooms/{room}/sources", body: String(repeating: " ", count: HTTPServer.maxOfferBytes + 1), expect: 413)
            _ = try await call(.post, "/rooms/a%20b/sources", "/rooms/{room}/sources", body: #"{"type": "rtp", "video": {"codec": "vp8", "payload_type": 96}}"#, expect: 400)
            let made = try await call(.post, "/rooms/r/sources", "/rooms/{room}/sources",
                                      body: #"{"type": "rtp", "name": "Stage", "video": {"codec": "vp8", "payload_type": 96}, "audio": {"codec": "opus", "payload_type": 111}, "rtcp_mux": false}"#,
                                      expect: 201)
            let mux = try await call(.post, "/rooms/r/sources", "/rooms/{room}/sources", body: #"{"type": "rtp", "video": {"codec": "h264", "payload_type": 102}}"#, expect: 201)
            let ids = [made, mux].compactMap { (try? JSONSerialization.jsonObject(with: Data(buffer: $0.body))) as? [String: Any] }.compactMap { $0["id"] as? String }
            #expect(ids.count == 2)
            let listed = try await call(.get, "/rooms/r/sources", "/rooms/{room}/sources", expect: 200)
            #expect(String(buffer: listed.body).contains("\"Stage\""))
            for id in ids { _ = try await call(.delete, "/rooms/r/sources/\(id)", "/rooms/{room}/sources/{source}", expect: 200) }
            _ = try await call(.delete, "/rooms/r/sources/\(ids.first ?? "x")", "/rooms/{room}/sources/{source}", expect: 404)
            let stopped = try await call(.delete, "/rooms/r/recording", "/rooms/{room}/recording", expect: 200)
            #expect(String(buffer: stopped.body).contains("\"file\""))

            // Recordings: listed, described, downloaded in ranges, signed links (good, altered, expired), deleted.
            let file = try #require((try? JSONSerialization.jsonObject(with: Data(buffer: stopped.body)) as? [String: Any])?["file"] as? String)
            let id = String(file.split(separator: "/").last!.dropLast(4)), name = id + ".mp4"
            let catalog = try await call(.get, "/recordings?room=r", "/recordings", expect: 200)
            #expect(String(buffer: catalog.body).contains("\"id\":\"\(id)\""))
            _ = try await call(.get, "/recordings?since=yesterday", "/recordings", expect: 400)
            _ = try await call(.get, "/recordings/\(id)", "/recordings/{id}", expect: 200)
            _ = try await call(.get, "/recordings/nope", "/recordings/{id}", expect: 404)
            let whole = try await call(.get, "/recordings/\(id)/files/\(name)", "/recordings/{id}/files/{file}", expect: 200)
            let size = whole.body.readableBytes
            #expect(size > 1000 && whole.headers[.acceptRanges] == "bytes")
            var range: HTTPFields = [:]
            range[.range] = "bytes=100-199"
            let part = try await client.execute(uri: "/recordings/\(id)/files/\(name)", method: .get, headers: range)
            #expect(part.status.code == 206 && part.body.readableBytes == 100 && part.headers[.contentRange] == "bytes 100-199/\(size)")
            #expect(Array(part.body.readableBytesView) == Array(whole.body.readableBytesView.dropFirst(100).prefix(100)))
            seen.answers.append(("GET", "/recordings/{id}/files/{file}", Int(part.status.code)))
            range[.range] = "bytes=\(size)-"
            let outside = try await client.execute(uri: "/recordings/\(id)/files/\(name)", method: .get, headers: range)
            #expect(outside.status.code == 416 && outside.headers[.contentRange] == "bytes */\(size)")
            seen.answers.append(("GET", "/recordings/{id}/files/{file}", Int(outside.status.code)))
            _ = try await call(.get, "/recordings/\(id)/files/other.mp4", "/recordings/{id}/files/{file}", expect: 404)
            _ = try await call(.post, "/recordings/\(id)/links", "/recordings/{id}/links", body: #"{"expires_in": 0}"#, expect: 400)
            let links = try await call(.post, "/recordings/\(id)/links", "/recordings/{id}/links", body: #"{"expires_in": 60}"#, expect: 201)
            let signed = try #require(((try? JSONSerialization.jsonObject(with: Data(buffer: links.body)) as? [String: Any])?["files"] as? [[String: Any]])?
                .first { $0["name"] as? String == name }?["url"] as? String)
            _ = try await call(.get, signed, "/recordings/{id}/files/{file}", expect: 200)
            _ = try await call(.get, signed.replacingOccurrences(of: "signature=", with: "signature=x"), "/recordings/{id}/files/{file}", expect: 403)
            let expired = delivery.links.link(path: "/recordings/\(id)/files/\(name)", seconds: -10).url
            _ = try await call(.get, expired, "/recordings/{id}/files/{file}", expect: 403)
            _ = try await call(.post, "/recordings/nope/links", "/recordings/{id}/links", expect: 404)
            _ = try await call(.delete, "/recordings/\(id)", "/recordings/{id}", expect: 204)
            _ = try await call(.delete, "/recordings/\(id)", "/recordings/{id}", expect: 404)
            _ = try await call(.delete, "/rooms/r/recording", "/rooms/{room}/recording", expect: 409)
        }

        // With a token: 401 with a reason, except on the public pages.
        let (guarded, guardedTransport) = try await RouteTests.directory(token: "secret")
        let locked = Application(router: HTTPServer.router(service: guarded))
        try await locked.test(.router) { client in
            for (method, uri, template) in [(HTTPRequest.Method.get, "/rooms", "/rooms"), (.get, "/metrics", "/metrics"), (.get, "/rooms/r", "/rooms/{room}"),
                                            (.post, "/rooms/r/whip", "/rooms/{room}/whip"), (.put, "/rooms/r/layout", "/rooms/{room}/layout"),
                                            (.delete, "/rooms/r/recording", "/rooms/{room}/recording")] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .unauthorized && response.headers[.wwwAuthenticate] == "Bearer", "\(method) \(uri)")
                seen.answers.append((method.rawValue, template, 401))
            }
            let open = try await client.execute(uri: "/healthz", method: .get)
            #expect(open.status == .ok)
            // A room's join page opens without the header (it carries no secret and sends the token from its URL
            // with its own calls); the room as JSON does not.
            try guarded.createRoom("r")
            let page = try await client.execute(uri: "/rooms/r?token=secret", method: .get, headers: [.accept: "text/html,application/xhtml+xml"])
            #expect(page.status == .ok && String(buffer: page.body).contains("Bearer "), "\(page.status)")
            let described = try await client.execute(uri: "/rooms/r?token=secret", method: .get, headers: [.accept: "text/html, application/json"])
            #expect(described.status == .unauthorized)
            seen.answers.append(("GET", "/rooms/{room}", 200))
            let authorized = try await client.execute(uri: "/rooms", method: .get, headers: [.authorization: "Bearer secret"])
            #expect(authorized.status == .ok)
        }
        await transport.close()
        await guardedTransport.close()

        // Every answer seen is documented for its route; every documented operation was tried.
        for (method, template, status) in seen.answers {
            #expect(RouteTests.documented(method: method, template: template, status: status) != nil,
                    "\(method) \(template) answered \(status), which the OpenAPI document does not list")
        }
        let tried = Set(seen.answers.map { "\($0.0) \($0.1)" })
        for operation in RouteTests.documentedOperations() {
            #expect(tried.contains(operation), "\(operation) is documented but no test calls it")
        }
    }

    /// The server's routes are exactly the documented operations.
    @Test func routesAreTheDocumentedPaths() async throws {
        let (directory, transport) = try await RouteTests.directory()
        let routes = Set(HTTPServer.router(service: directory).routes.map { "\($0.method.rawValue) \($0.path.description)" })
        await transport.close()
        let documented = Set(RouteTests.documentedOperations())
        #expect(routes.subtracting(documented).isEmpty, "routes the OpenAPI document lacks: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented operations the server lacks: \(documented.subtracting(routes).sorted())")
    }

    static let document = try! JSONParser.parse(OpenAPIDocument.text)
    static let schemas = SchemaCheck(document: document)

    /// "METHOD /path" of every operation in the document.
    static func documentedOperations() -> [String] {
        guard case let .object(paths)? = document["paths"] else { return [] }
        return paths.flatMap { path, item -> [String] in
            guard case let .object(entries) = item else { return [] }
            return entries.compactMap { key, _ in ["get", "put", "post", "delete", "patch"].contains(key) ? "\(key.uppercased()) \(path)" : nil }
        }
    }

    /// The documented response of `method template` for `status` ($ref followed).
    static func documented(method: String, template: String, status: Int) -> JSONValue? {
        guard let response = document["paths"]?[template]?[method.lowercased()]?["responses"]?[String(status)] else { return nil }
        if case let .string(reference)? = response["$ref"] { return schemas.resolve(reference) }
        return response
    }

    /// What is wrong with `response` against the document: an undocumented content type, or a JSON body off its schema.
    static func conformance(_ response: TestResponse, method: String, template: String) -> [String] {
        guard let documented = documented(method: method, template: template, status: Int(response.status.code)) else { return [] }
        let type = response.headers[.contentType].map { String($0.split(separator: ";")[0]) }
        guard let type, response.body.readableBytes > 0 else { return [] }
        guard let content = documented["content"]?[type] else { return ["answered \(type), which the document does not list for this status"] }
        guard let schema = content["schema"], type.hasSuffix("json") else { return [] }
        do {
            return schemas.problems(try JSONParser.parse(Array(response.body.readableBytesView)), schema)
        } catch {
            return ["the body is not JSON: \(error)"]
        }
    }
}
