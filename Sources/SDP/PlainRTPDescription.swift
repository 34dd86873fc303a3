/// What a plain RTP sender's SDP says — ffmpeg's `-sdp_file`, GStreamer's, mediasoup's PlainTransport parameters
/// written as SDP, or one by hand: per media section the port it sends to (0: any we choose), the codec we take,
/// its SSRCs; rtcp-mux; SDES keys (RFC 4568). The tracks are numbered by section ("0", "1", …) unless `a=mid` names them.
public struct PlainRTPDescription: Sendable {
    public struct Stream: Sendable {
        public var track: NegotiatedTrack
        /// The RTP port the sender sends to (0: ours to choose), and its RTCP port when not rtcp-mux.
        public var port: Int
        public var rtcpPort: Int?
    }
    public var streams: [Stream]
    public var rtcpMux: Bool
    /// The sender's SRTP master key and salt (AES_CM_128_HMAC_SHA1_80), when it encrypts.
    public var srtpKey: [UInt8]?
    /// Sections not taken, and why.
    public var declined: [String]

    public init(sdp: String) throws(SDPError) {
        let description = try SessionDescription(parsing: sdp)
        var streams: [Stream] = [], declined: [String] = [], key: [UInt8]?
        for (index, media) in description.media.enumerated() where media.kind == "audio" || media.kind == "video" {
            let mid = media.mid ?? String(index)
            guard media.proto.hasPrefix("RTP/") else {
                declined.append("\(media.kind) \(mid) uses \(media.proto), not plain RTP (RTP/AVP, RTP/AVPF, RTP/SAVP)")
                continue
            }
            guard let codec = SDPAnswerer.choose(media) else {
                declined.append("no codec the recorder takes for \(media.kind) \(mid) (offered \(Set(media.codecs.map(\.name)).sorted().joined(separator: ", ")))")
                continue
            }
            if media.proto.contains("SAVP") {
                guard let line = media.crypto.first(where: { $0.contains("AES_CM_128_HMAC_SHA1_80") }),
                      let inline = line.split(separator: " ").first(where: { $0.hasPrefix("inline:") }),
                      let decoded = Base64.decode(String(inline.dropFirst(7).prefix { $0 != "|" })), decoded.count == 30 else {
                    throw SDPError.refused("\(media.kind) \(mid) is SRTP but has no a=crypto AES_CM_128_HMAC_SHA1_80 inline key of 30 bytes")
                }
                key = decoded
            }
            let extensions = media.extensions.filter { SDPAnswerer.supportedExtensions.contains($0.uri) }
            let track = NegotiatedTrack(mid: mid, kind: media.kind, codec: codec.name, payloadType: codec.payloadType, clockRate: codec.clockRate,
                                        extensions: Dictionary(extensions.map { ($0.uri, $0.id) }, uniquingKeysWith: { a, _ in a }),
                                        ssrcs: media.ssrcs)
            streams.append(Stream(track: track, port: media.port, rtcpPort: media.rtcpMux ? nil : (media.rtcpPort ?? (media.port == 0 ? nil : media.port + 1))))
        }
        guard !streams.isEmpty else { throw SDPError.refused(declined.isEmpty ? "the SDP has no audio or video" : declined.joined(separator: "; ")) }
        guard Set(streams.map(\.track.payloadType)).count == streams.count || Set(streams.map(\.port)).count == streams.count else {
            throw SDPError.refused("two media sections share a port and a payload type: their packets cannot be told apart")
        }
        self.streams = streams
        self.rtcpMux = description.media.contains { $0.rtcpMux }
        self.srtpKey = key
        self.declined = declined
    }
}

/// RFC 4648 base64 (SDES keys), without padding requirements; nil on any other character.
public enum Base64 {
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [], buffer = 0, bits = 0
        for c in text.utf8 where c != UInt8(ascii: "=") {
            let v: Int
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = Int(c) - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = Int(c) - 71
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(c) + 4
            case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
            default: return nil
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8((buffer >> bits) & 0xFF)) }
        }
        return out
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        for i in stride(from: 0, to: bytes.count, by: 3) {
            let n = Int(bytes[i]) << 16 | (i + 1 < bytes.count ? Int(bytes[i + 1]) << 8 : 0) | (i + 2 < bytes.count ? Int(bytes[i + 2]) : 0)
            out += [alphabet[n >> 18 & 63], alphabet[n >> 12 & 63], i + 1 < bytes.count ? alphabet[n >> 6 & 63] : 61, i + 2 < bytes.count ? alphabet[n & 63] : 61]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
