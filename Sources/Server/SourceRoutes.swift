import Hummingbird
import Layout
import Pull
import Rooms

/// POST /rooms/{room}/sources: a source the recorder receives rather than a publisher that comes to it. Plain RTP
/// (`"type": "rtp"`) from an SDP, or from one codec description per kind; WHEP (`"type": "whep"`) from a URL.
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
    var url: String?, token: String?, offerer: WHEPSource.Offerer?
    var janusRoom: JSONValue?, pin: String?, apiSecret: String?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, name, sdp, sender, video, audio, rtcpMux = "rtcp_mux", url, token, offerer, janusRoom = "janus_room", pin, apiSecret = "api_secret"
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(CodingKeys.self)
        guard let type = try c.field(String.self, .type) else { throw RoomError(.invalid, "is required (\"rtp\", \"whep\" or \"janus\")", field: "type") }
        guard ["rtp", "whep", "janus"].contains(type) else { throw RoomError(.invalid, "must be \"rtp\", \"whep\" or \"janus\"", field: "type") }
        self.type = type
        let only: [String: Set<CodingKeys>] = ["rtp": [.sdp, .sender, .video, .audio, .rtcpMux], "whep": [.offerer], "janus": [.janusRoom, .pin, .apiSecret]]
        for (owner, fields) in only where owner != type {
            for field in fields where c.contains(field) { throw RoomError(.invalid, "is for \(owner) sources, not \(type)", field: field.rawValue) }
        }
        if type == "janus" {
            guard let url = try c.field(String.self, .url) else { throw RoomError(.invalid, "is required: Janus's HTTP API (http://HOST:8088/janus)", field: "url") }
            self.url = url
            if let number = try? c.decodeIfPresent(UInt64.self, forKey: .janusRoom), number < 1 << 53 {
                janusRoom = .number(Double(number))
            } else if let text = try? c.decodeIfPresent(String.self, forKey: .janusRoom), (1...128).contains(text.count) {
                janusRoom = .string(text)
            } else {
                throw RoomError(.invalid, "is required: the VideoRoom's id (a number, or a string for string room ids)", field: "janus_room")
            }
            pin = try c.field(String.self, .pin)
            apiSecret = try c.field(String.self, .apiSecret)
            token = try c.field(String.self, .token)
            name = try c.field(String.self, .name)
            if name != nil { throw RoomError(.invalid, "is not for janus sources: the tiles take the Janus display names", field: "name") }
            return
        }
        name = try c.field(String.self, .name)
        if let name, !(1...64).contains(name.count) { throw RoomError(.invalid, "must be a string of 1-64 characters", field: "name") }
        if type == "whep" {
            guard let url = try c.field(String.self, .url) else { throw RoomError(.invalid, "is required: the WHEP endpoint", field: "url") }
            self.url = url
            token = try c.field(String.self, .token)
            if let text = try c.field(String.self, .offerer) {
                guard let offerer = WHEPSource.Offerer(rawValue: text) else { throw RoomError(.invalid, "must be client, server or auto", field: "offerer") }
                self.offerer = offerer
            }
            return
        }
        sdp = try c.field(String.self, .sdp)
        sender = try c.field(String.self, .sender)
        video = try c.field(Media.self, .video)
        audio = try c.field(Media.self, .audio)
        rtcpMux = try c.field(Bool.self, .rtcpMux)
        for field in [CodingKeys.url, .token] where c.contains(field) {
            throw RoomError(.invalid, "is for whep and janus sources, not rtp", field: field.rawValue)
        }
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
    var id: String, type: String, name: String
    var host: String?, rtcpMux: Bool?, streams: [Stream]?, declined: [String]?, sdp: String?
    var url: String?, state: String?, offerer: String?, connections: Int?, lastError: String?
    var janusRoom: JSONValue?, publishers: [String]?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, type, name, host, rtcpMux = "rtcp_mux", streams, declined, sdp, url, state, offerer, connections, lastError = "last_error"
        case janusRoom = "janus_room", publishers
    }

    init(_ s: RTPSource) {
        id = s.id; type = "rtp"; name = s.name; host = s.host; rtcpMux = s.rtcpMux; declined = s.declined; sdp = s.sdp
        streams = s.streams.map { Stream(mid: $0.mid, kind: $0.kind, codec: $0.codec, payloadType: $0.payloadType, port: $0.port, rtcpPort: $0.rtcpPort) }
    }

    init(_ s: JanusSource) {
        let status = s.current
        id = s.id; type = "janus"; name = "janus"; url = s.url; state = status.state; connections = status.connections
        lastError = status.lastError; janusRoom = s.janusRoom; publishers = status.publishers
    }

    init(_ s: WHEPSource) {
        let status = s.current
        id = s.id; type = "whep"; name = s.name; url = s.url; state = status.state; offerer = status.offerer
        connections = status.connections; lastError = status.lastError
    }
}

struct SourceListBody: Encodable { var sources: [SourceBody] }

extension HTTPServer {
    static func addSourceRoutes(_ router: Router<BasicRequestContext>, service: RoomDirectory, pulls: PullDirectory) {
        router.post("/rooms/{room}/sources") { request, context -> Response in
            let room = try context.parameters.require("room")
            let body = try await decodeBody(SourceRequest.self, request, limit: maxOfferBytes)
            let created: SourceBody
            if body.type == "janus", let url = body.url, let janusRoom = body.janusRoom {
                if let allowed = service.configuration.allowedRooms, !allowed.contains(room) { throw RoomError(.notFound, "no room \(room) here") }
                created = SourceBody(try await pulls.addJanus(room: room, url: url, janusRoom: janusRoom, pin: body.pin, apiSecret: body.apiSecret, token: body.token))
            } else if body.type == "whep", let url = body.url {
                if let allowed = service.configuration.allowedRooms, !allowed.contains(room) { throw RoomError(.notFound, "no room \(room) here") }
                created = SourceBody(try await pulls.addWHEP(room: room, name: body.name, url: url, token: body.token, offerer: body.offerer ?? .auto))
            } else {
                created = SourceBody(try await service.addRTPSource(room: room, name: body.name, sdp: body.description, sender: body.sender))
            }
            var response = json(created, status: .created)
            response.headers[.location] = "/rooms/\(room)/sources/\(created.id)"
            return response
        }
        router.get("/rooms/{room}/sources") { _, context -> Response in
            let room = try context.parameters.require("room")
            return json(SourceListBody(sources: service.rtpSources(room: room).map(SourceBody.init) + pulls.sources(room: room).map(SourceBody.init)
                                       + pulls.janusSources(room: room).map(SourceBody.init)))
        }
        router.delete("/rooms/{room}/sources/{source}") { _, context -> Response in
            let room = try context.parameters.require("room"), id = try context.parameters.require("source")
            if pulls.has(room: room, id: id) {
                try await pulls.remove(room: room, id: id)
            } else {
                try await service.removeRTPSource(room: room, id: id)
            }
            return Response(status: .ok)
        }
    }
}
