import Delivery
import HTTPTypes
import Hummingbird
import Pull
import Layout
import MediaCore
import NIOCore
import Output
import Rooms

/// The HTTP side: WHIP (RFC 9725) and the join page.
public enum HTTPServer {
    public static let maxOfferBytes = 64 * 1024
    /// A layout sent through the API (the largest preset is under 2 KiB; files given to the CLI may be larger).
    public static let maxLayoutBytes = 64 * 1024
    public static let maxWatermarkBytes = 64 * 1024

    /// `metrics`: the Prometheus text of the metrics registry.
    public static func router(service: RoomDirectory, pulls: PullDirectory? = nil, delivery: DeliveryService? = nil,
                              metrics: @escaping @Sendable () -> [UInt8] = { [] }) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(token: service.configuration.token))
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: metrics())))
        }
        router.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: ControlPage.html)))
        }
        router.post("/rooms/{room}/whip") { request, context -> Response in
            let room = try context.parameters.require("room")
            let offer = try await body(request, type: "application/sdp", limit: maxOfferBytes, what: "a WHIP offer")
            let name = request.uri.queryParameters["name"].map(String.init) ?? request.headers.first { $0.name.canonicalName == "x-participant-name" }?.value
            let screens = Set((request.uri.queryParameters["screen"].map(String.init) ?? "").split(separator: ",").map { String($0.prefix(32)) })
            let (answer, sessionID) = try await service.publish(room: room, name: name, offer: String(buffer: offer), screens: screens)
            return Response(status: .created, headers: [.contentType: "application/sdp", .location: "/rooms/\(room)/whip/\(sessionID)"],
                            body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        router.delete("/rooms/{room}/whip/{session}") { _, context -> Response in
            try await service.end(room: try context.parameters.require("room"), sessionID: try context.parameters.require("session"))
            return Response(status: .ok)
        }
        router.patch("/rooms/{room}/whip/{session}") { _, _ in
            plain(.methodNotAllowed, "trickle ICE is not needed: the server is ICE-lite and the answer carries its candidates")
        }
        router.get("/rooms/{room}") { request, context -> Response in
            let room = try context.parameters.require("room")
            guard RoomDirectory.isValidRoomName(room) else { throw RoomError(.invalid, "bad room name") }
            // A browser asks for HTML and gets the join page; API clients get the room as JSON.
            if JoinPage.isWanted(by: request) {
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: JoinPage.html(room: room))))
            }
            return json(RoomBody(try await service.describe(room: room)))
        }
        router.get("/rooms") { _, _ -> Response in
            var rooms: [RoomBody] = []
            for name in service.roomNames { if let room = try? await service.describe(room: name) { rooms.append(RoomBody(room)) } }
            return json(RoomListBody(rooms: rooms))
        }
        router.get("/rooms/{room}/layout") { _, context -> Response in
            json(try service.layout(room: try context.parameters.require("room")).source)
        }
        router.put("/rooms/{room}/layout") { request, context -> Response in
            let room = try context.parameters.require("room")
            _ = try service.layout(room: room)                       // 404 before reading the body
            let bytes = try await jsonBody(request, limit: maxLayoutBytes)
            let layout: LayoutDocument
            do { layout = try LayoutParser.parseRequest(bytes: bytes) } catch let error as MediaError {
                throw RoomError(.invalid, error.message, field: error.location)
            }
            let effect = try await service.applyLayout(room: room, layout)
            var headers: HTTPFields = [:]
            if let effect {
                headers[.layoutFrame] = String(effect.frame)
                headers[.layoutTime] = decimal(Double(effect.time) / 1e6, 3)
            }
            return json(layout.source, headers: headers)
        }
        router.get("/rooms/{room}/watermark") { _, context -> Response in
            json(try service.watermarks(room: try context.parameters.require("room")))
        }
        router.put("/rooms/{room}/watermark") { request, context -> Response in
            let room = try context.parameters.require("room")
            _ = try service.watermarks(room: room)                   // 404 before reading the body
            let bytes = try await jsonBody(request, limit: maxWatermarkBytes)
            return json(try await service.setWatermarks(room: room, bytes: bytes))
        }
        router.post("/rooms/{room}/recording") { request, context -> Response in
            let room = try context.parameters.require("room")
            // Optional body: {"folder": "NAME", "webhook_url": URL}.
            var start: StartRecordingRequest?
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > 0 {
                start = try await decodeBody(StartRecordingRequest.self, request, limit: 4096)
            }
            var parts: PartPolicy?
            if start?.maxPartDuration != nil || start?.maxPartSize != nil {
                parts = PartPolicy(maxDuration: start?.maxPartDuration.map { Microseconds($0 * 1e6) }, maxBytes: start?.maxPartSize.map { Int64($0 * 1e6) })
            }
            let file = try await service.startRecording(room: room, folder: start?.folder, webhooks: start?.webhookURL.map { [$0] } ?? [], parts: parts,
                                                        rtmp: start?.rtmpURL.map { [$0] } ?? [])
            return json(RecordingStartedBody(room: room, file: file, active: true), status: .created)
        }
        router.post("/rooms/{room}/recording/pause") { _, context -> Response in
            let time = try service.pauseRecording(room: try context.parameters.require("room"))
            return json(PauseBody(paused: true, time: seconds(time), pausedFor: nil))
        }
        router.post("/rooms/{room}/recording/resume") { _, context -> Response in
            let (time, paused) = try service.resumeRecording(room: try context.parameters.require("room"))
            return json(PauseBody(paused: false, time: seconds(time), pausedFor: seconds(paused)))
        }
        router.get("/rooms/{room}/hls/{file}") { _, context -> Response in
            try await hlsFile(service: service, room: try context.parameters.require("room"), file: try context.parameters.require("file"), context: context)
        }
        RecordingRoutes.add(to: router, delivery: delivery)
        router.get("/uploads") { _, _ -> Response in
            json(UploadsBody(uploads: await delivery?.uploader?.all ?? [], webhooksPending: await delivery?.outbox?.pending.values.reduce(0, +) ?? 0,
                             store: delivery?.configuration.s3.map { $0.location(of: $0.prefix) }))
        }
        router.delete("/rooms/{room}/recording") { _, context -> Response in
            let summary = try await service.stopRecording(room: try context.parameters.require("room"))
            return json(RecordingFileBody(summary))
        }
        router.patch("/rooms/{room}/participants/{id}") { request, context -> Response in
            let room = try context.parameters.require("room"), id = try context.parameters.require("id")
            let change = try await decodeBody(ParticipantChange.self, request, limit: 16 * 1024)
            let settings = try await service.update(room: room, participant: id) { s in
                if let name = change.name { s.name = name }
                if let pin = change.pin { s.pinned = pin }
                if let hide = change.hide { s.hidden = hide }
                if let mute = change.mute { s.muted = mute }
                if let gain = change.gain { s.gain = Float(gain) }
            }
            return json(ParticipantSettingsBody(id: id, name: settings.name, pin: settings.pinned, hide: settings.hidden,
                                                gain: Double(settings.gain), mute: settings.muted))
        }
        router.post("/rooms/{room}/chat") { request, context -> Response in
            let room = try context.parameters.require("room")
            let message = try await decodeBody(ChatRequest.self, request, limit: 16 * 1024)
            guard let effect = try await service.chat(room: room, from: message.from, text: message.text) else {
                throw RoomError(.conflict, "room \(room) is not recording: chat shows in the recording")
            }
            return json(ChatPostedBody(from: message.from, text: message.text, time: Double(effect.time / 1000) / 1000), status: .created)
        }
        router.get("/rooms/{room}/snapshot.jpg") { _, context -> Response in
            let jpeg = try await service.snapshot(room: try context.parameters.require("room"))
            return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        addSourceRoutes(router, service: service, pulls: pulls ?? PullDirectory(directory: service))
        return router
    }
}

extension HTTPField.Name {
    /// The output frame (index and seconds into the recording) that first showed a new layout.
    static let layoutFrame = HTTPField.Name("Layout-Frame")!
    static let layoutTime = HTTPField.Name("Layout-Time")!
}
