/// A picture size in pixels, as a keyframe's headers state it.
public struct PictureSize: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    public var description: String { "\(width)x\(height)" }
}

/// The picture size a single RTP packet announces, read without decoding: a VP8 keyframe's first packet, a VP9
/// packet with its scalability structure, an H.264 sequence parameter set. Lets a receiver know the size of a
/// simulcast layer it does not decode. Nil for any other packet; never traps on any bytes.
public enum KeyframeSize {
    public static func of(_ codec: RTPCodec, payload: ArraySlice<UInt8>) -> PictureSize? {
        // Called for every packet of a simulcast layer: only a packet that can carry a size is copied to be read.
        guard let first = payload.first else { return nil }
        switch codec {
        case .vp8 where first & 0x17 != 0x10, .vp9 where first & 0x02 == 0: return nil   // not a frame start / no SS
        case .h264 where first & 0x1F != 7 && first & 0x1F != 24: return nil               // neither SPS nor STAP-A
        default: break
        }
        let p = Array(payload)
        switch codec {
        case .vp8: return vp8(p)
        case .vp9: return vp9(p)
        case .h264: return h264(p)
        default: return nil
        }
    }

    /// RFC 7741 descriptor, then the VP8 key frame header (RFC 6386 §9.1): 3-byte tag, start code, 14-bit sizes.
    static func vp8(_ p: [UInt8]) -> PictureSize? {
        guard let first = p.first, first & 0x10 != 0, first & 0x07 == 0 else { return nil }   // S=1, partition 0
        var i = 1
        if first & 0x80 != 0 {
            guard i < p.count else { return nil }
            let x = p[i]; i += 1
            if x & 0x80 != 0 { guard i < p.count else { return nil }; i += p[i] & 0x80 != 0 ? 2 : 1 }   // PictureID
            if x & 0x40 != 0 { i += 1 }                                                                 // TL0PICIDX
            if x & 0x30 != 0 { i += 1 }                                                                 // TID/KEYIDX
        }
        guard i + 10 <= p.count, p[i] & 0x01 == 0, p[i + 3] == 0x9D, p[i + 4] == 0x01, p[i + 5] == 0x2A else { return nil }
        let width = (Int(p[i + 6]) | Int(p[i + 7]) << 8) & 0x3FFF, height = (Int(p[i + 8]) | Int(p[i + 9]) << 8) & 0x3FFF
        return width > 0 && height > 0 ? PictureSize(width: width, height: height) : nil
    }

    /// The VP9 payload descriptor's scalability structure (V=1): the largest spatial layer's size.
    static func vp9(_ p: [UInt8]) -> PictureSize? {
        guard let first = p.first, first & 0x02 != 0 else { return nil }   // V
        var i = 1
        if first & 0x80 != 0 { guard i < p.count else { return nil }; i += p[i] & 0x80 != 0 ? 2 : 1 }   // I: PictureID
        if first & 0x20 != 0 {                                                                             // L
            i += 1
            if first & 0x10 == 0 { i += 1 }                                                                // TL0PICIDX unless F
        }
        if first & 0x10 != 0 && first & 0x40 != 0 {                                                        // F and P: P_DIFFs
            while i < p.count { let more = p[i] & 0x01 != 0; i += 1; if !more { break } }
        }
        guard i < p.count else { return nil }
        let ss = p[i]; i += 1
        guard ss & 0x10 != 0 else { return nil }                                                           // Y: sizes present
        let layers = Int(ss >> 5) + 1
        guard i + 4 * layers <= p.count else { return nil }
        let last = i + 4 * (layers - 1)
        let width = Int(p[last]) << 8 | Int(p[last + 1]), height = Int(p[last + 2]) << 8 | Int(p[last + 3])
        return width > 0 && height > 0 ? PictureSize(width: width, height: height) : nil
    }

    /// An SPS, alone or in a STAP-A (RFC 6184).
    static func h264(_ p: [UInt8]) -> PictureSize? {
        guard let first = p.first else { return nil }
        switch first & 0x1F {
        case 7: return H264SPS.size(p[...])
        case 24:
            var i = 1
            while i + 2 <= p.count {
                let size = Int(p[i]) << 8 | Int(p[i + 1]); i += 2
                guard size > 0, i + size <= p.count else { return nil }
                if p[i] & 0x1F == 7 { return H264SPS.size(p[i..<(i + size)]) }
                i += size
            }
            return nil
        default: return nil
        }
    }
}

/// Just enough of an H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1) to know the cropped picture size.
enum H264SPS {
    struct Bits {
        var bytes: [UInt8]; var position = 0
        init(_ nal: ArraySlice<UInt8>) {
            // Emulation prevention: 00 00 03 → 00 00.
            var out: [UInt8] = []; out.reserveCapacity(nal.count)
            var zeros = 0
            for b in nal {
                if zeros >= 2 && b == 3 { zeros = 0; continue }
                zeros = b == 0 ? zeros + 1 : 0
                out.append(b)
            }
            bytes = out
        }
        mutating func bit() -> Int? {
            guard position < bytes.count * 8 else { return nil }
            defer { position += 1 }
            return Int(bytes[position / 8] >> (7 - UInt8(position % 8))) & 1
        }
        mutating func bits(_ n: Int) -> Int? {
            var v = 0
            for _ in 0..<n { guard let b = bit() else { return nil }; v = v << 1 | b }
            return v
        }
        /// Exp-Golomb, bounded so garbage cannot overflow.
        mutating func ue() -> Int? {
            var zeros = 0
            while true { guard let b = bit() else { return nil }; if b == 1 { break }; zeros += 1; if zeros > 31 { return nil } }
            guard let rest = bits(zeros) else { return nil }
            return (1 << zeros) - 1 + rest
        }
        mutating func se() -> Int? { ue().map { $0 % 2 == 1 ? ($0 + 1) / 2 : -($0 / 2) } }
    }

    static func size(_ nal: ArraySlice<UInt8>) -> PictureSize? {
        var r = Bits(nal.dropFirst())
        guard let profile = r.bits(8), r.bits(16) != nil, r.ue() != nil else { return nil }
        var chroma = 1
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
            guard let c = r.ue() else { return nil }
            chroma = c
            if chroma == 3 { guard r.bit() != nil else { return nil } }
            guard r.ue() != nil, r.ue() != nil, r.bit() != nil, let scaling = r.bit() else { return nil }
            if scaling == 1 {
                for list in 0..<(chroma == 3 ? 12 : 8) {
                    guard let present = r.bit() else { return nil }
                    guard present == 1 else { continue }
                    var last = 8, next = 8
                    for _ in 0..<(list < 6 ? 16 : 64) where next != 0 {
                        guard let delta = r.se() else { return nil }
                        next = (last + delta + 256) % 256
                        last = next == 0 ? last : next
                    }
                }
            }
        }
        guard r.ue() != nil, let pocType = r.ue() else { return nil }
        if pocType == 0 {
            guard r.ue() != nil else { return nil }
        } else if pocType == 1 {
            guard r.bit() != nil, r.se() != nil, r.se() != nil, let cycle = r.ue(), cycle <= 255 else { return nil }
            for _ in 0..<cycle { guard r.se() != nil else { return nil } }
        }
        guard r.ue() != nil, r.bit() != nil, let widthMBs = r.ue(), let heightUnits = r.ue(), let frameMBsOnly = r.bit() else { return nil }
        if frameMBsOnly == 0 { guard r.bit() != nil else { return nil } }
        guard r.bit() != nil, let cropping = r.bit() else { return nil }
        var crop = (left: 0, right: 0, top: 0, bottom: 0)
        if cropping == 1 {
            guard let l = r.ue(), let rt = r.ue(), let t = r.ue(), let b = r.ue() else { return nil }
            crop = (l, rt, t, b)
        }
        let unitX = chroma == 0 || chroma == 3 ? 1 : 2
        let unitY = (chroma == 1 ? 2 : 1) * (2 - frameMBsOnly)
        guard widthMBs < 1024, heightUnits < 1024 else { return nil }
        let width = (widthMBs + 1) * 16 - unitX * (crop.left + crop.right)
        let height = (heightUnits + 1) * 16 * (2 - frameMBsOnly) - unitY * (crop.top + crop.bottom)
        return width > 0 && height > 0 ? PictureSize(width: width, height: height) : nil
    }
}
