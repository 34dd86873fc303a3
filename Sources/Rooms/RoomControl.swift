import Codecs
import Synchronization
import Compositor
import FoundationEssentials
import Layout
import Logging
import Metrics
import MediaCore
import Recorder
import RTP
import SDP
import SecureTransport
import Session
import Text
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// The room commands the API drives: layout, watermarks, participant settings, chat, snapshots.
extension RoomDirectory {
    public func layout(room name: String) throws -> LayoutDocument { try existing(name).live.layout }

    public func watermarks(room name: String) throws -> JSONValue { try existing(name).live.watermarkDocument }

    /// Replaces a room's watermarks (a watermark document; images by relative path inside the assets folder).
    public func setWatermarks(room name: String, bytes: [UInt8]) async throws -> JSONValue {
        let room = try existing(name)
        let document: WatermarkDocument
        do throws(MediaError) { document = try WatermarkDocument.parse(bytes: bytes) } catch {
            throw RoomError(.invalid, error.message, field: error.location)
        }
        var marks: [(item: WatermarkItem, image: VideoPicture?)] = []
        for (i, item) in document.items.enumerated() {
            var image: VideoPicture?
            if case let .image(path, _) = item.content {
                let field = "items[\(i)].image"
                let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                guard !path.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !path.contains("\0") else {
                    throw RoomError(.invalid, "must be a path inside the assets folder (relative, without ..)", field: field)
                }
                let resolved = configuration.assets + "/" + path
                guard FileManager.default.isReadableFile(atPath: resolved) else {
                    throw RoomError(.invalid, "no such image in the assets folder", field: field)
                }
                do throws(MediaError) { image = try Composer.loadImage(resolved) } catch {
                    throw RoomError(.invalid, "not a readable image: \(error.message)", field: field)
                }
            }
            marks.append((item, image))
        }
        _ = await room.live.setWatermarks(marks, document: document.source)
        return document.source
    }

    /// Puts a layout in force; returns once a frame with it is written (frame index and time, nil when not recording).
    public func applyLayout(room name: String, _ layout: LayoutDocument) async throws -> LiveRoom.Effect? {
        let room = try existing(name)
        let effect = await room.live.apply(layout)
        logger.info("layout", metadata: ["room": "\(name)", "layout": "\(layout.name ?? "custom")"])
        return effect
    }

    public func update(room name: String, participant id: String, _ change: @escaping (inout ParticipantSettings) -> Void) async throws -> ParticipantSettings {
        let room = try existing(name)
        guard let settings = await room.live.update(id, change) else { throw RoomError(.notFound, "no participant \(id) in room \(name)") }
        return settings
    }

    /// 409 while the recording is paused: nothing from a pause is recorded, chat included.
    public func chat(room name: String, from: String, text: String) async throws -> LiveRoom.Effect? {
        let live = try existing(name).live
        if live.isPaused { throw RoomError(.conflict, "the recording of room \(name) is paused: chat is not recorded until it resumes") }
        return await live.chat(from: from, text: text)
    }

    /// Pauses the room's recording: where on the recording it pauses (seconds). 409 when not recording or paused.
    public func pauseRecording(room name: String) throws -> Microseconds {
        let live = try existing(name).live
        do { return try live.pauseRecording() } catch { throw RoomError(.conflict, error.message) }
    }

    /// Resumes it: where on the recording it goes on, and how long the pause lasted.
    public func resumeRecording(room name: String) throws -> (time: Microseconds, paused: Microseconds) {
        let live = try existing(name).live
        do { return try live.resumeRecording() } catch { throw RoomError(.conflict, error.message) }
    }

    public func snapshot(room name: String) async throws -> [UInt8] {
        guard let jpeg = try await existing(name).live.snapshot() else { throw RoomError(.conflict, "room \(name) is not recording: no composite to show") }
        return jpeg
    }
}
