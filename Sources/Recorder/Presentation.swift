import Codecs
import Compositor
import Layout
import MediaCore
import Text

/// How a room's composite is dressed: watermarks, the chat overlay's style and the fonts.
public struct RoomPresentation: Sendable {
    public var watermarks: [(item: WatermarkItem, image: VideoPicture?)] = []
    /// The watermark document in force (the API answers with it).
    public var watermarkDocument: JSONValue = .object([("items", .array([]))])
    public var chat: ChatOverlayStyle?
    public var fontPath = TextRenderer.defaultFontPath
    public init() {}

    /// The items of a watermark document with their images decoded (paths as the document gives them).
    public static func load(_ document: WatermarkDocument) throws(MediaError) -> [(item: WatermarkItem, image: VideoPicture?)] {
        var marks: [(item: WatermarkItem, image: VideoPicture?)] = []
        for (i, item) in document.items.enumerated() {
            var image: VideoPicture?
            if case let .image(path, _) = item.content {
                do { image = try Composer.loadImage(path) } catch {
                    var located = error
                    located.location = "items[\(i)].image: " + (error.location ?? path)
                    throw located
                }
            }
            marks.append((item, image))
        }
        return marks
    }
}

/// What the API can change about a participant.
public struct ParticipantSettings: Sendable, Equatable {
    public var name: String
    public var pinned = false
    public var hidden = false
    public var gain: Float = 1
    public var muted = false
    /// Why its tile shows a slate rather than its picture (a pulled source reconnecting); nil: its picture.
    public var status: String?
    public init(name: String) { self.name = name }
}
