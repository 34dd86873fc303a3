/// Splits encoded frames into RTP payloads (what a publisher sends): VP8 per RFC 7741 with a one-byte
/// descriptor, Opus one frame per packet.
public enum Packetizer {
    public static let maxPayload = 1100

    public static func payloads(_ codec: RTPCodec, frame: [UInt8]) -> [[UInt8]] {
        switch codec {
        case .opus:
            return [frame]
        case .vp8:
            var out: [[UInt8]] = []
            var offset = 0
            while offset < frame.count {
                let end = min(frame.count, offset + maxPayload)
                out.append([offset == 0 ? 0x10 : 0x00] + frame[offset..<end])
                offset = end
            }
            return out
        case .vp9, .h264, .av1:
            return []   // not sent by our publisher
        }
    }
}
