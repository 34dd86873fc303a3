import Foundation
import HTTPTypes
import Hummingbird
import Rooms

/// `GET /rooms/{room}/hls/{file}`: the HLS stream of the room's recording in progress (or its last one): the
/// playlist, its init segment and media segments, read from the stream's folder (nothing else: plain names only).
func hlsFile(service: RoomDirectory, room: String, file: String, context: some RequestContext) async throws -> Response {
    let allowed = file.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "." }
    let type: String
    switch true {
    case file.hasSuffix(".m3u8"): type = "application/vnd.apple.mpegurl"
    case file.hasSuffix(".m4s"): type = "video/iso.segment"
    case file.hasSuffix(".mp4"): type = "video/mp4"
    default: type = ""
    }
    guard allowed, !file.hasPrefix("."), !type.isEmpty, file.count <= 64 else {
        throw RoomError(.notFound, "no such file in the stream (a playlist, an init segment or a .m4s segment)")
    }
    let folder = try service.hlsFolder(room: room)
    guard let size = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + file)[.size] as? NSNumber)?.intValue else {
        throw RoomError(.notFound, file == "index.m3u8" ? "the stream has no playlist yet (its first segment is being made)" : "no \(file) in the stream")
    }
    let body = size > 0 ? FileBody.body(path: folder + "/" + file, range: 0...(size - 1)) : ResponseBody()
    // A live playlist changes every segment; segments never change.
    let cache = file.hasSuffix(".m3u8") ? "no-cache" : "max-age=86400"
    return Response(status: .ok, headers: [.contentType: type, .cacheControl: cache], body: body)
}
