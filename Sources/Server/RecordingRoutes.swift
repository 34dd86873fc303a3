import Delivery
import Foundation
import HTTPTypes
import Hummingbird
import MediaCore
import Rooms

/// The recordings API: list and describe the recordings on disk (with their delivery state), download their files
/// (HTTP ranges, so players seek), hand out signed, expiring links that need no token, and delete them.
enum RecordingRoutes {
    static func add(to router: Router<BasicRequestContext>, delivery: DeliveryService?) {
        router.get("/recordings") { request, _ -> Response in
            let delivery = try available(delivery)
            let query = request.uri.queryParameters
            let room = query["room"].map(String.init)
            let since = try query["since"].map { try time(String($0), field: "since") }, until = try query["until"].map { try time(String($0), field: "until") }
            let catalog = delivery.catalog
            let entries = await offPool("recordings") { catalog.all() }.filter { entry in
                let when = entry.started ?? entry.modified
                return (room.map { entry.room == $0 } ?? true) && (since.map { when >= $0 } ?? true) && (until.map { when < $0 } ?? true)
            }
            let uploads = await delivery.uploader?.all ?? []
            return json(RecordingListBody(recordings: entries.map { RecordingBody($0, uploads: uploads) }))
        }
        router.get("/recordings/{id}") { _, context -> Response in
            let (delivery, entry) = try await lookup(delivery, try context.parameters.require("id"))
            return json(RecordingBody(entry, uploads: await delivery.uploader?.all ?? []))
        }
        router.delete("/recordings/{id}") { _, context -> Response in
            let delivery = try available(delivery)
            let id = try context.parameters.require("id"), catalog = delivery.catalog
            do { try await offPool("delete recording") { try catalog.delete(id) } } catch RecordingCatalog.CatalogError.recording {
                throw RoomError(.conflict, "recording \(id) is still being written: stop it first")
            } catch RecordingCatalog.CatalogError.notFound {
                throw RoomError(.notFound, "no recording \(id)")
            } catch {
                throw RoomError(.failed, "cannot delete recording \(id): \(error)")
            }
            return Response(status: .noContent)
        }
        router.post("/recordings/{id}/links") { request, context -> Response in
            let (delivery, entry) = try await lookup(delivery, try context.parameters.require("id"))
            var seconds: Int64 = 3600
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > 0 {
                seconds = try await decodeBody(LinkRequest.self, request, limit: 1024).expiresIn ?? seconds
            }
            let files = entry.files.map { file -> LinksBody.Link in
                let link = delivery.links.link(path: "/recordings/\(entry.id)/files/\(file.name)", seconds: seconds)
                return LinksBody.Link(name: file.name, url: link.url)
            }
            return json(LinksBody(expires: Int64(Date().timeIntervalSince1970) + seconds, files: files), status: .created)
        }
        router.get("/recordings/{id}/files/{file}") { request, context -> Response in
            let delivery = try available(delivery)
            let id = try context.parameters.require("id"), name = try context.parameters.require("file")
            let query = request.uri.queryParameters
            if query["signature"] != nil || query["expires"] != nil {
                switch delivery.links.check(path: request.uri.path, expires: query["expires"].map(String.init), signature: query["signature"].map(String.init)) {
                case .valid: break
                case .expired: throw RoomError(.forbidden, "the link has expired")
                case .invalid: throw RoomError(.forbidden, "the link's signature does not match")
                }
            }
            let catalog = delivery.catalog
            guard let path = await offPool("recording file", { catalog.path(of: id, file: name) }) else {
                throw RoomError(.notFound, "recording \(id) has no file \(name)")
            }
            return try await serve(path: path, name: name, range: request.headers[.range], context: context)
        }
    }

    static func available(_ delivery: DeliveryService?) throws -> DeliveryService {
        guard let delivery else { throw RoomError(.notFound, "this server keeps no recordings catalog") }
        return delivery
    }

    static func lookup(_ delivery: DeliveryService?, _ id: String) async throws -> (DeliveryService, RecordingCatalog.Entry) {
        let delivery = try available(delivery), catalog = delivery.catalog
        guard let entry = await offPool("recording", { catalog.entry(id) }) else { throw RoomError(.notFound, "no recording \(id)") }
        return (delivery, entry)
    }

    /// Seconds since 1970, or an ISO 8601 date-time.
    static func time(_ text: String, field: String) throws -> Double {
        if let seconds = Double(text) { return seconds }
        if let date = try? Date(text, strategy: .iso8601) { return date.timeIntervalSince1970 }
        throw RoomError(.invalid, "must be seconds since 1970 or an ISO 8601 date-time", field: field)
    }

    /// The file, or the one range asked for (206; 416 when it lies outside the file). Several ranges: the whole file.
    static func serve(path: String, name: String, range: String?, context: some RequestContext) async throws -> Response {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        var headers: HTTPFields = [.contentType: contentType(of: name), .acceptRanges: "bytes"]
        if let range, let requested = ByteRange.parse(range, size: size) {
            guard let bytes = requested else {
                var refused = problem(.rangeNotSatisfiable, "the range lies outside the file (\(size) bytes)")
                refused.headers[.contentRange] = "bytes */\(size)"
                return refused
            }
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            headers[.contentLength] = String(bytes.count)
            return Response(status: .partialContent, headers: headers, body: FileBody.body(path: path, range: bytes))
        }
        headers[.contentLength] = String(size)
        return Response(status: .ok, headers: headers, body: size > 0 ? FileBody.body(path: path, range: 0...(size - 1)) : ResponseBody())
    }

    static func contentType(of name: String) -> String {
        if name.hasSuffix(".mp4") { return "video/mp4" }
        if name.hasSuffix(".m4a") { return "audio/mp4" }
        if name.hasSuffix(".ogg") { return "audio/ogg" }
        if name.hasSuffix(".mp3") { return "audio/mpeg" }
        if name.hasSuffix(".wav") { return "audio/wav" }
        if name.hasSuffix(".vtt") { return "text/vtt; charset=utf-8" }
        if name.hasSuffix(".jsonl") { return "application/x-ndjson" }
        return "application/json"
    }
}

/// `Range: bytes=A-B`, `bytes=A-`, `bytes=-N` against a file of `size` bytes: nil to ignore the header (not bytes,
/// several ranges, malformed), `.some(nil)` when it cannot be satisfied.
enum ByteRange {
    static func parse(_ header: String, size: Int) -> ClosedRange<Int>?? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return nil }
            guard size > 0 else { return .some(nil) }
            return .some(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(first), start >= 0 else { return nil }
        guard start < size else { return .some(nil) }
        let end = last.isEmpty ? size - 1 : Int(last)
        guard let end, end >= start else { return nil }
        return .some(start...min(end, size - 1))
    }
}
