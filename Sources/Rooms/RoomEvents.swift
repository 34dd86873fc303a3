import MediaCore
import Output

/// What happens to rooms, told to whoever delivers it (webhooks, uploads). Told outside every lock, on whatever
/// thread it happened; an observer hands it on and returns at once.
public enum RoomEvent: Sendable {
    case recordingStarted(room: String, recording: String, path: String, webhooks: [String])
    /// A recording ended: finalized (`summary`), or failed (`error`, and what is left on disk is recovered at the next
    /// start).
    case recordingFinished(room: String, recording: String, path: String, summary: LiveRecordingSummary?, error: String?)
    /// A part of a recording cut into parts is finished (`part.error` when it could not be).
    case partReady(room: String, recording: String, part: PartSummary)
    case participantJoined(room: String, recording: String?, participant: String, name: String)
    case participantLeft(room: String, recording: String?, participant: String, name: String, reason: String)
    case roomFinished(room: String)
}

extension RoomDirectory {
    /// Sets the one observer of room events.
    public func observe(_ observer: @escaping @Sendable (RoomEvent) -> Void) { state.withLock { $0.observer = observer } }

    func emit(_ event: RoomEvent) {
        state.withLock { $0.observer }?(event)
    }

    /// The id of a recording: its file's name without the folder and `.mp4`.
    public static func recordingID(of path: String) -> String {
        let name = String(path.split(separator: "/").last ?? Substring(path))
        for ext in [".mp4", ".m4a", ".ogg", ".mp3", ".wav"] where name.hasSuffix(ext) { return String(name.dropLast(ext.count)) }
        return name
    }

    /// The room's recording in progress (its id), if any.
    func currentRecording(of room: String) -> String? {
        state.withLock { $0.rooms[room]?.live }?.recordingState.map { RoomDirectory.recordingID(of: $0.path) }
    }

    /// Tells that a recording ended, with its per-recording webhooks.
    func emitFinished(room: String, path: String, summary: LiveRecordingSummary?, error: String?) {
        emit(.recordingFinished(room: room, recording: RoomDirectory.recordingID(of: path), path: path, summary: summary, error: error))
    }
}
