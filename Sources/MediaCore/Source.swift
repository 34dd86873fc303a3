/// What the layout solver and compositor know of one video/audio source: who it is, what role it has and
/// when it is present on the room timeline.
public struct SourceDescriptor: Hashable, Sendable {
    public enum Role: String, Sendable, Hashable {
        case camera
        case screen
    }

    /// Stable participant or track id (file sources: the file's base name unless named).
    public var id: String
    /// Display name; selectors match it as well as the id.
    public var name: String
    public var role: Role
    /// When the source joins the room timeline.
    public var start: Microseconds
    /// When it leaves, when known (files: their end; live: nil while present).
    public var end: Microseconds?
    public var hasVideo: Bool
    public var hasAudio: Bool
    /// Arrival order; breaks ties between sources that joined at the same instant.
    public var sequence: Int
    /// False for sound without a picture of its own (a participant's second microphone): mixed, never given a tile.
    public var tiled = true

    public init(id: String, name: String? = nil, role: Role = .camera, start: Microseconds = 0,
                end: Microseconds? = nil, hasVideo: Bool = true, hasAudio: Bool = true, sequence: Int = 0) {
        self.sequence = sequence
        self.id = id
        self.name = name ?? id
        self.role = role
        self.start = start
        self.end = end
        self.hasVideo = hasVideo
        self.hasAudio = hasAudio
    }

    public func isPresent(at time: Microseconds) -> Bool {
        time >= start && (end.map { time < $0 } ?? true)
    }
}
