import MediaCore

/// How much video a sender is asked to send (REMB): enough for the tile it shows in at good quality, and no more.
/// A participant in a small tile sends a small stream (less uplink, less decoding); when it becomes the speaker or
/// is pinned, its tile grows and so does the cap, at once. Sans-IO.
public struct VideoBitratePolicy: Sendable, Equatable {
    /// Bits per pixel per frame of the tile (0.1: good quality for a camera in VP8 or H.264).
    public var bitsPerPixel = 0.1
    /// Bits per second at least (a source shown nowhere, or in a tiny tile), and at most.
    public var floor = 150_000
    public var ceiling = 4_000_000

    public init() {}

    /// The cap for a source shown in `tile` (nil: in no tile) at `fps` output frames per second.
    public func cap(tile: PixelSize?, fps: Double) -> Int {
        guard let tile else { return floor }
        let wanted = Double(tile.width * tile.height) * max(1, fps) * bitsPerPixel
        return min(ceiling, max(floor, Int(wanted.rounded())))
    }
}
