/// Why an SDP was refused: unreadable, too big, or an offer we cannot answer.
public enum SDPError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A line or a value that does not parse.
    case malformed(String)
    /// Larger or with more of something than we take.
    case limitExceeded(String)
    /// Well-formed, but not something we speak.
    case unsupported(String)
    /// A readable offer we cannot answer (no usable media, no ICE or DTLS, not bundled, the wrong DTLS role).
    case refused(String)

    /// What went wrong, for logs and error responses.
    public var reason: String {
        switch self {
        case let .malformed(text), let .limitExceeded(text), let .unsupported(text), let .refused(text): text
        }
    }
    public var description: String { reason }
}

/// The parts of an SDP offer (RFC 8866, JSEP RFC 8829) a receive-only WebRTC endpoint needs.
public struct SessionDescription: Sendable, Equatable {
    public struct RTPMap: Sendable, Equatable {
        public var payloadType: UInt8
        public var name: String
        public var clockRate: Int
        public var channels: Int?
        public var parameters: [String: String]
        public var feedback: [String]
    }

    public struct Media: Sendable, Equatable {
        public var kind: String
        public var port: Int
        public var proto: String
        public var formats: [String]
        public var mid: String?
        public var direction: String
        public var codecs: [RTPMap]
        public var extensions: [(id: UInt8, uri: String)]
        public var iceUfrag: String?
        public var icePwd: String?
        public var fingerprint: (algorithm: String, value: String)?
        public var setup: String?
        public var rtcpMux: Bool
        public var ssrcs: [UInt32]
        /// `a=bundle-only` (RFC 8843): port 0 in the offer, yet wanted, on the bundle's transport.
        public var bundleOnly = false
        /// `a=msid:STREAM TRACK` (RFC 8830), and `a=content` (RFC 4796: `slides` marks a screen share).
        public var msid: String?
        public var content: String?
        /// `a=rid` lines and `a=simulcast` (RFC 8851, 8853): a sender offering several encodings.
        public var rids: [String] = []
        public var simulcast: String?
        /// `a=ssrc-group:SIM` (SSRC-signalled simulcast), lowest layer first.
        public var simulcastSSRCs: [UInt32] = []
        /// `a=rtcp:PORT` (RFC 3605): where RTCP goes when not on the RTP port + 1.
        public var rtcpPort: Int?
        /// `a=crypto` lines (RFC 4568 SDES), as written.
        public var crypto: [String] = []
        /// `a=ssrc-group:FID MEDIA RTX` (RFC 5576, 4588): the retransmission SSRC of each media SSRC.
        public var retransmissionSSRCs: [UInt32: UInt32] = [:]
        /// `a=candidate` lines (RFC 8839) of component 1 over UDP with a literal address (no mDNS names).
        public var candidates: [Candidate] = []

        public static func == (a: Media, b: Media) -> Bool {
            a.kind == b.kind && a.port == b.port && a.mid == b.mid && a.direction == b.direction && a.codecs == b.codecs
                && a.extensions.map(\.id) == b.extensions.map(\.id) && a.extensions.map(\.uri) == b.extensions.map(\.uri)
                && a.iceUfrag == b.iceUfrag && a.icePwd == b.icePwd && a.fingerprint?.value == b.fingerprint?.value && a.ssrcs == b.ssrcs
                && a.bundleOnly == b.bundleOnly && a.msid == b.msid && a.content == b.content && a.rids == b.rids && a.simulcast == b.simulcast
                && a.simulcastSSRCs == b.simulcastSSRCs && a.retransmissionSSRCs == b.retransmissionSSRCs && a.candidates == b.candidates
        }
    }

    /// An ICE candidate the remote side can be reached at.
    public struct Candidate: Sendable, Equatable {
        public var ip: String
        public var port: Int
        public var priority: UInt32
        /// host, srflx, prflx or relay.
        public var type: String
    }

    public var bundle: [String]
    public var iceUfrag: String?
    public var icePwd: String?
    public var fingerprint: (algorithm: String, value: String)?
    public var iceLite: Bool
    public var media: [Media]

    public static func == (a: SessionDescription, b: SessionDescription) -> Bool {
        a.bundle == b.bundle && a.iceUfrag == b.iceUfrag && a.icePwd == b.icePwd && a.fingerprint?.value == b.fingerprint?.value
            && a.iceLite == b.iceLite && a.media == b.media
    }

    public static let maxSize = 64 * 1024

    public init(parsing text: String) throws(SDPError) {
        guard text.utf8.count <= SessionDescription.maxSize else { throw SDPError.limitExceeded("SDP is larger than \(SessionDescription.maxSize) bytes") }
        var bundle: [String] = [], iceUfrag: String?, icePwd: String?, fingerprint: (String, String)?, iceLite = false
        // A session-level a=setup is every section's until one says otherwise (RFC 4145 §4).
        var sessionSetup: String?
        var media: [Media] = []
        var sawVersion = false
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            guard line.count >= 2, line[line.index(after: line.startIndex)] == "=" else {
                throw SDPError.malformed("line is not TYPE=VALUE: \"\(line.prefix(40))\"")
            }
            let type = line.first!, value = String(line.dropFirst(2))
            switch type {
            case "v":
                guard value == "0" else { throw SDPError.unsupported("unsupported SDP version \(value)") }
                sawVersion = true
            case "m":
                let parts = value.split(separator: " ").map(String.init)
                guard parts.count >= 3, let port = Int(parts[1]), (0...65535).contains(port) else { throw SDPError.malformed("malformed m= line \"\(value)\"") }
                guard media.count < 32 else { throw SDPError.limitExceeded("more than 32 media sections") }
                media.append(Media(kind: parts[0], port: port, proto: parts[2], formats: Array(parts.dropFirst(3)), mid: nil,
                                   direction: "sendrecv", codecs: [], extensions: [], iceUfrag: nil, icePwd: nil, fingerprint: nil,
                                   setup: sessionSetup, rtcpMux: false, ssrcs: []))
            case "a":
                let (name, argument) = SessionDescription.splitAttribute(value)
                if media.isEmpty {
                    switch name {
                    case "group" where argument?.hasPrefix("BUNDLE") == true:
                        bundle = argument!.split(separator: " ").dropFirst().map(String.init)
                    case "ice-ufrag": iceUfrag = argument
                    case "ice-pwd": icePwd = argument
                    case "ice-lite": iceLite = true
                    case "setup": sessionSetup = argument
                    case "fingerprint": fingerprint = SessionDescription.prefer(fingerprint, try SessionDescription.fingerprint(argument))
                    default: break
                    }
                } else {
                    try SessionDescription.apply(name, argument, to: &media[media.count - 1])
                }
            default:
                break
            }
        }
        guard sawVersion else { throw SDPError.malformed("no v=0 line: not an SDP") }
        self.bundle = bundle; self.iceUfrag = iceUfrag; self.icePwd = icePwd
        self.fingerprint = fingerprint; self.iceLite = iceLite; self.media = media
    }

    static func splitAttribute(_ value: String) -> (String, String?) {
        guard let colon = value.firstIndex(of: ":") else { return (value, nil) }
        return (String(value[..<colon]), String(value[value.index(after: colon)...]))
    }

    /// Offers may carry several fingerprints (aiortc: sha-256, sha-384, sha-512); we verify with SHA-256.
    static func prefer(_ current: (algorithm: String, value: String)?, _ new: (String, String)) -> (algorithm: String, value: String) {
        guard let current, current.algorithm == "sha-256" || new.0 != "sha-256" else { return (new.0, new.1) }
        return current
    }

    static func fingerprint(_ argument: String?) throws(SDPError) -> (String, String) {
        let parts = (argument ?? "").split(separator: " ")
        guard parts.count == 2 else { throw SDPError.malformed("malformed a=fingerprint") }
        let hex = parts[1].split(separator: ":")
        guard hex.count >= 20, hex.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            throw SDPError.malformed("malformed fingerprint value")
        }
        return (parts[0].lowercased(), parts[1].uppercased())
    }

    static func apply(_ name: String, _ argument: String?, to m: inout Media) throws(SDPError) {
        func payloadType(_ text: Substring) throws(SDPError) -> UInt8 {
            guard let pt = UInt8(text), pt < 128 else { throw SDPError.malformed("bad payload type \"\(text)\"") }
            return pt
        }
        switch name {
        case "mid": m.mid = argument
        case "sendrecv", "sendonly", "recvonly", "inactive": m.direction = name
        case "rtcp-mux": m.rtcpMux = true
        case "bundle-only": m.bundleOnly = true
        case "msid": m.msid = argument.map { String($0.prefix(256)) }
        case "content": m.content = argument.map { String($0.prefix(64)).lowercased() }
        case "simulcast": m.simulcast = argument.map { String($0.prefix(256)) }
        case "rid":
            // Only encodings the offerer sends (`a=rid:ID send`) are ours to receive.
            let parts = argument?.split(separator: " ") ?? []
            if parts.count >= 2, parts[1] == "send", m.rids.count < 8, !m.rids.contains(String(parts[0].prefix(32))) {
                m.rids.append(String(parts[0].prefix(32)))
            }
        case "rtcp":
            m.rtcpPort = argument?.split(separator: " ").first.flatMap { Int($0) }.flatMap { (1...65535).contains($0) ? $0 : nil }
        case "crypto":
            if let argument, m.crypto.count < 8 { m.crypto.append(String(argument.prefix(256))) }
        case "ssrc-group":
            let parts = argument?.split(separator: " ") ?? []
            if parts.first == "SIM", m.simulcastSSRCs.isEmpty { m.simulcastSSRCs = parts.dropFirst().prefix(8).compactMap { UInt32($0) } }
            if parts.first == "FID", parts.count == 3, let media = UInt32(parts[1]), let rtx = UInt32(parts[2]), m.retransmissionSSRCs.count < 16 {
                m.retransmissionSSRCs[rtx] = media
            }
        case "candidate":
            // foundation component transport priority address port typ type …
            let parts = argument?.split(separator: " ") ?? []
            guard parts.count >= 8, parts[1] == "1", parts[2].lowercased() == "udp", let priority = UInt32(parts[3]),
                  let port = Int(parts[5]), (1...65535).contains(port), parts[6] == "typ", m.candidates.count < 32,
                  parts[4].allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return }
            m.candidates.append(Candidate(ip: String(parts[4]), port: port, priority: priority, type: String(parts[7].prefix(8))))
        case "ice-ufrag": m.iceUfrag = argument
        case "ice-pwd": m.icePwd = argument
        case "setup": m.setup = argument
        case "fingerprint": m.fingerprint = prefer(m.fingerprint, try fingerprint(argument))
        case "rtpmap":
            guard let argument, let space = argument.firstIndex(of: " ") else { throw SDPError.malformed("malformed a=rtpmap") }
            let pt = try payloadType(argument[..<space])
            let encoding = argument[argument.index(after: space)...].split(separator: "/")
            guard encoding.count >= 2, let rate = Int(encoding[1]), rate > 0 else { throw SDPError.malformed("malformed a=rtpmap encoding") }
            guard m.codecs.count < 128 else { throw SDPError.limitExceeded("too many codecs") }
            m.codecs.append(RTPMap(payloadType: pt, name: encoding[0].lowercased(), clockRate: rate,
                                   channels: encoding.count > 2 ? Int(encoding[2]) : nil, parameters: [:], feedback: []))
        case "fmtp":
            guard let argument, let space = argument.firstIndex(of: " ") else { return }
            let pt = try payloadType(argument[..<space])
            guard let index = m.codecs.firstIndex(where: { $0.payloadType == pt }) else { return }
            for pair in argument[argument.index(after: space)...].split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard let name = kv.first else { continue }          // "=" alone splits into nothing
                let key = name.trimmingCharacters(in: " "), val = kv.count > 1 ? String(kv[1]) : ""
                m.codecs[index].parameters[key.lowercased()] = val
            }
        case "rtcp-fb":
            guard let argument, let space = argument.firstIndex(of: " ") else { return }
            if argument[..<space] == "*" {    // RFC 4585 §4.2: every payload type of the section
                for i in m.codecs.indices { m.codecs[i].feedback.append(String(argument[argument.index(after: space)...])) }
                return
            }
            guard let pt = UInt8(argument[..<space]), let index = m.codecs.firstIndex(where: { $0.payloadType == pt }) else { return }
            m.codecs[index].feedback.append(String(argument[argument.index(after: space)...]))
        case "extmap":
            guard let argument else { return }
            let parts = argument.split(separator: " ")
            guard parts.count >= 2, let first = parts[0].split(separator: "/").first, let id = UInt8(first), (1...255).contains(id) else {
                throw SDPError.malformed("malformed a=extmap")
            }
            m.extensions.append((id, String(parts[1])))
        case "ssrc":
            guard let argument, let first = argument.split(separator: " ").first, let ssrc = UInt32(first) else { return }
            if !m.ssrcs.contains(ssrc) && m.ssrcs.count < 16 { m.ssrcs.append(ssrc) }
        default:
            break
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
