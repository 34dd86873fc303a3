/// The codecs we receive.
public enum RTPCodec: String, Sendable, CaseIterable {
    case vp8, vp9, h264, av1, opus

    /// RTP clock rate (RFC 7741, RFC 9628, RFC 6184, the AV1 payload format, RFC 7587).
    public var clockRate: Int { self == .opus ? 48_000 : 90_000 }
}

/// One encoded frame rebuilt from the payloads of all RTP packets that share its timestamp.
public struct EncodedFrame: Sendable, Equatable {
    public var data: [UInt8]
    public var keyframe: Bool
    public init(data: [UInt8], keyframe: Bool) { self.data = data; self.keyframe = keyframe }
}

/// Payload formats → codec bitstream. Pure functions; a malformed payload throws and the frame is dropped
/// (the jitter buffer then asks for a keyframe), never a crash.
public enum Depacketizer {
    public static func assemble(_ codec: RTPCodec, payloads: [ArraySlice<UInt8>]) throws(RTPError) -> EncodedFrame {
        guard !payloads.isEmpty else { throw RTPError.truncated("no payloads") }
        switch codec {
        case .opus:
            guard payloads.count == 1 else { throw RTPError.unsupported("an Opus frame is one packet") }
            return EncodedFrame(data: Array(payloads[0]), keyframe: true)
        case .vp8: return try vp8(payloads)
        case .vp9: return try vp9(payloads)
        case .h264: return try h264(payloads)
        case .av1: return try av1(payloads)
        }
    }

    /// Where a frame begins: VP8 S=1 with partition 0, VP9 B=1, H.264 anything but a middle/last FU-A fragment,
    /// AV1 a packet that does not continue an OBU (Z=0).
    public static func startsFrame(_ codec: RTPCodec, _ payload: ArraySlice<UInt8>) -> Bool {
        guard let first = payload.first else { return false }
        switch codec {
        case .opus: return true
        case .vp8: return first & 0x10 != 0 && first & 0x07 == 0
        case .vp9: return first & 0x08 != 0
        case .h264:
            if first & 0x1F == 28 { return payload.count >= 2 && payload[payload.startIndex + 1] & 0x80 != 0 }
            return true
        case .av1: return first & 0x80 == 0
        }
    }

    // MARK: VP8 (RFC 7741 §4.2)

    static func vp8Descriptor(_ p: ArraySlice<UInt8>) throws(RTPError) -> Int {
        var i = p.startIndex
        guard i < p.endIndex else { throw RTPError.truncated("empty VP8 payload") }
        let x = p[i] & 0x80 != 0
        i += 1
        if x {
            guard i < p.endIndex else { throw RTPError.truncated("truncated VP8 extension byte") }
            let ext = p[i]
            i += 1
            if ext & 0x80 != 0 {                          // I: picture id
                guard i < p.endIndex else { throw RTPError.truncated("truncated VP8 picture id") }
                i += p[i] & 0x80 != 0 ? 2 : 1
            }
            if ext & 0x40 != 0 { i += 1 }                 // L: TL0PICIDX
            if ext & 0x30 != 0 { i += 1 }                 // T or K: TID/KEYIDX
        }
        guard i < p.endIndex else { throw RTPError.truncated("VP8 payload descriptor without data") }
        return i
    }

    static func vp8(_ payloads: [ArraySlice<UInt8>]) throws(RTPError) -> EncodedFrame {
        guard startsFrame(.vp8, payloads[0]) else { throw RTPError.malformed("VP8 frame does not start with partition 0") }
        var data: [UInt8] = []
        data.reserveCapacity(payloads.reduce(0) { $0 + $1.count })
        for p in payloads { data += p[(try vp8Descriptor(p))...] }
        // The frame tag's P bit is 0 for key frames (RFC 6386 §9.1).
        return EncodedFrame(data: data, keyframe: data[0] & 0x01 == 0)
    }

    // MARK: VP9 (RFC 9628 §4.2)

    static func vp9Descriptor(_ p: ArraySlice<UInt8>) throws(RTPError) -> (offset: Int, interPredicted: Bool, spatialLayer: Int) {
        var i = p.startIndex
        func need(_ n: Int) throws(RTPError) { if i + n > p.endIndex { throw RTPError.truncated("truncated VP9 payload descriptor") } }
        try need(1)
        let b = p[i]
        i += 1
        let hasPictureID = b & 0x80 != 0, interPredicted = b & 0x40 != 0, hasLayers = b & 0x20 != 0
        let flexible = b & 0x10 != 0, hasSS = b & 0x02 != 0
        var spatial = 0
        if hasPictureID { try need(1); i += p[i] & 0x80 != 0 ? 2 : 1 }
        if hasLayers {
            try need(1)
            spatial = Int((p[i] >> 1) & 0x07)
            i += 1
            if !flexible { try need(1); i += 1 }           // TL0PICIDX
        }
        if flexible && interPredicted {
            var more = true, count = 0
            while more {
                try need(1)
                more = p[i] & 0x01 != 0
                i += 1; count += 1
                if count > 3 { throw RTPError.limitExceeded("too many VP9 reference indices") }
            }
        }
        if hasSS {
            try need(1)
            let ss = p[i]
            i += 1
            let layers = Int(ss >> 5) + 1
            if ss & 0x10 != 0 { try need(4 * layers); i += 4 * layers }
            if ss & 0x08 != 0 {
                try need(1)
                let groups = Int(p[i])
                i += 1
                for _ in 0..<groups {
                    try need(1)
                    let refs = Int((p[i] >> 2) & 0x03)
                    i += 1
                    try need(refs); i += refs
                }
            }
        }
        try need(1)
        return (i, interPredicted, spatial)
    }

    static func vp9(_ payloads: [ArraySlice<UInt8>]) throws(RTPError) -> EncodedFrame {
        guard startsFrame(.vp9, payloads[0]) else { throw RTPError.malformed("VP9 frame does not start with B") }
        var data: [UInt8] = []
        var keyframe = false
        for (n, p) in payloads.enumerated() {
            let d = try vp9Descriptor(p)
            if n == 0 { keyframe = !d.interPredicted && d.spatialLayer == 0 }
            data += p[d.offset...]
        }
        return EncodedFrame(data: data, keyframe: keyframe)
    }

    // MARK: H.264 (RFC 6184 §5.6–5.8), to Annex B

    static let startCode: [UInt8] = [0, 0, 0, 1]

    static func h264(_ payloads: [ArraySlice<UInt8>]) throws(RTPError) -> EncodedFrame {
        var data: [UInt8] = []
        var keyframe = false
        var inFragment = false
        func note(_ nalType: UInt8) { if nalType == 5 { keyframe = true } }
        for p in payloads {
            guard let first = p.first else { throw RTPError.truncated("empty H.264 payload") }
            guard first & 0x80 == 0 else { throw RTPError.malformed("H.264 forbidden bit set") }
            let type = first & 0x1F
            switch type {
            case 1...23:
                note(type)
                data += startCode + p
            case 24:                                      // STAP-A
                var i = p.startIndex + 1
                while i < p.endIndex {
                    guard i + 2 <= p.endIndex else { throw RTPError.truncated("truncated STAP-A size") }
                    let size = Int(p[i]) << 8 | Int(p[i + 1])
                    i += 2
                    guard size > 0, i + size <= p.endIndex else { throw RTPError.truncated("STAP-A unit runs past the end") }
                    note(p[i] & 0x1F)
                    data += startCode + p[i..<(i + size)]
                    i += size
                }
            case 28:                                      // FU-A
                guard p.count >= 3 else { throw RTPError.truncated("truncated FU-A") }
                let header = p[p.startIndex + 1]
                let start = header & 0x80 != 0
                if start {
                    inFragment = true
                    note(header & 0x1F)
                    data += startCode + [(first & 0xE0) | (header & 0x1F)]
                } else if !inFragment {
                    throw RTPError.malformed("FU-A continues a fragment that never started")
                }
                data += p[(p.startIndex + 2)...]
                if header & 0x40 != 0 { inFragment = false }
            default:
                throw RTPError.unsupported("unsupported H.264 packetization (NAL type \(type))")
            }
        }
        guard !data.isEmpty else { throw RTPError.truncated("no H.264 NAL units") }
        return EncodedFrame(data: data, keyframe: keyframe)
    }
}

/// Opus packet facts (RFC 6716 §3.1), for placing audio in time.
public enum OpusPacket {
    /// Samples at 48 kHz the packet decodes to, from its TOC byte (and frame count byte for code 3); nil if malformed.
    public static func duration(_ packet: [UInt8]) -> Int? {
        guard let toc = packet.first else { return nil }
        let config = Int(toc >> 3)
        let frameSamples: Int
        switch config {
        case 0...11: frameSamples = [480, 960, 1920, 2880][config % 4]          // SILK: 10, 20, 40, 60 ms
        case 12...15: frameSamples = [480, 960][config % 2]                    // hybrid: 10, 20 ms
        default: frameSamples = [120, 240, 480, 960][config % 4]               // CELT: 2.5, 5, 10, 20 ms
        }
        let frames: Int
        switch toc & 0x3 {
        case 0: frames = 1
        case 1, 2: frames = 2
        default:
            guard packet.count >= 2 else { return nil }
            frames = Int(packet[1] & 0x3F)
        }
        let total = frames * frameSamples
        return total > 0 && total <= 5760 ? total : nil                      // at most 120 ms
    }

    /// Encoder look-ahead of libopus at 48 kHz (what Ogg Opus calls pre-skip): decoded sound comes out this
    /// many samples after the input it encodes.
    public static let lookahead = 312
}
