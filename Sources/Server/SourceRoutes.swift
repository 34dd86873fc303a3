import Hummingbird
import Rooms

/// POST /rooms/{room}/sources: a source the recorder receives rather than a publisher that comes to it. Plain RTP
/// (`"type": "rtp"`) from an SDP, or from one codec description per kind.
struct SourceRequest: Decodable {
    struct Media: Decodable {
        var codec: String, payloadType: Int, clockRate: Int?, ssrc: UInt32?
        enum CodingKeys: String, CodingKey, CaseIterable { case codec, payloadType = "payload_type", clockRate = "clock_rate", ssrc }
        init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(CodingKeys.self)
            guard let codec = try c.field(String.self, .codec) else { throw RoomError(.invalid, "is required", field: "codec") }
            guard let pt = try c.field(Int.self, .payloadType), (96...127).contains(pt) else {
                throw RoomError(.invalid, "is required: a dynamic payload type, 96-127", field: "payload_type")
            }
            self.codec = codec.lowercased(); payloadType = pt
            clockRate = try c.field(Int.self, .clockRate)
            ssrc = try c.field(UInt32.self, .ssrc)
        }
    }
    var type: String, name: String?, sdp: String?, sender: String?, video: Media?, audio: Media?, rtcpMux: Bool?
    enum CodingKeys: String, CodingKey, CaseIterable { case type, name, sdp, sender, video, audio, rtcpMux = "rtcp_mux" }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(CodingKeys.self)
        guard let type = try c.field(String.self, .type) else { throw RoomError(.invalid, "is required (\"rtp\")", field: "type") }
        guard type == "rtp" else { throw RoomError(.invalid, "must be \"rtp\" (WHEP and Janus sources are not available yet)", field: "type") }
        self.type = type
        name = try c.field(String.self, .name)
        sdp = try c.field(String.self, .sdp)
        sender = try c.field(String.self, .sender)
        video = try c.field(Media.self, .video)
        audio = try c.field(Media.self, .audio)
        rtcpMux = try c.field(Bool.self, .rtcpMux)
        if let name, !(1...64).contains(name.count) { throw RoomError(.invalid, "must be a string of 1-64 characters", field: "name") }
        if sdp == nil && video == nil && audio == nil { throw RoomError(.invalid, "give an SDP, or video and/or audio codec descriptions", field: "sdp") }
        if sdp != nil && (video != nil || audio != nil) { throw RoomError(.invalid, "give an SDP or codec descriptions, not both", field: "sdp") }
    }

    /// The SDP to build the endpoint from: the one given, or one written from the codec descriptions.
    var description: String {
        if let sdp { return sdp }
        var lines = ["v=0", "o=- 0 0 IN IP4 0.0.0.0", "s=-", "c=IN IP4 0.0.0.0", "t=0 0"]
        for (kind, media) in [("video", video), ("audio", audio)] {
            guard let media else { continue }
            let rate = media.clockRate ?? (kind == "audio" ? 48_000 : 90_000)
            lines.append("m=\(kind) 0 RTP/AVPF \(media.payloadType)")
            lines.append("a=rtpmap:\(media.payloadType) \(media.codec)/\(rate)" + (media.codec == "opus" ? "/2" : ""))
            if media.codec == "h264" { lines.append("a=fmtp:\(media.payloadType) packetization-mode=1") }
            if rtcpMux ?? true { lines.append("a=rtcp-mux") }
            if let ssrc = media.ssrc { lines.append("a=ssrc:\(ssrc) cname:source") }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

struct SourceBody: Encodable {
    struct Stream: Encodable {
        var mid: String, kind: String, codec: String, payloadType: Int, port: Int, rtcpPort: Int?
        enum CodingKeys: String, CodingKey { case mid, kind, codec, payloadType = "payload_type", port, rtcpPort = "rtcp_port" }
    }
    var id: String, type: String, name: String, host: String, rtcpMux: Bool, streams: [Stream], declined: [String], sdp: String
    enum CodingKeys: String, CodingKey { case id, type, name, host, rtcpMux = "rtcp_mux", streams, declined, sdp }

    init(_ s: RTPSource) {
        id = s.id; type = "rtp"; name = s.name; host = s.host; rtcpMux = s.rtcpMux; declined = s.declined; sdp = s.sdp
        streams = s.streams.map { Stream(mid: $0.mid, kind: $0.kind, codec: $0.codec, payloadType: $0.payloadType, port: $0.port, rtcpPort: $0.rtcpPort) }
    }
}

struct SourceListBody: Encodable { var sources: [SourceBody] }

extension HTTPServer {
    static func addSourceRoutes(_ router: Router<BasicRequestContext>, service: RoomDirectory) {
        router.post("/rooms/{room}/sources") { request, context -> Response in
            let room = try context.parameters.require("room")
            let body = try await decodeBody(SourceRequest.self, request, limit: maxOfferBytes)
            let source = try await service.addRTPSource(room: room, name: body.name, sdp: body.description, sender: body.sender)
            var response = json(SourceBody(source), status: .created)
            response.headers[.location] = "/rooms/\(room)/sources/\(source.id)"
            return response
        }
        router.get("/rooms/{room}/sources") { _, context -> Response in
            json(SourceListBody(sources: service.rtpSources(room: try context.parameters.require("room")).map(SourceBody.init)))
        }
        router.delete("/rooms/{room}/sources/{source}") { _, context -> Response in
            try await service.removeRTPSource(room: try context.parameters.require("room"), id: try context.parameters.require("source"))
            return Response(status: .ok)
        }
    }
}
