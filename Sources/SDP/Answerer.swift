/// What we offer back, and what the answer agreed per track.
public struct AnswerOptions: Sendable {
    public var iceUfrag: String
    public var icePwd: String
    /// SHA-256 of our DTLS certificate, `AB:CD:…`.
    public var fingerprint: String
    /// Host candidates: one per announced address, all on the shared UDP port.
    public var candidates: [(ip: String, port: Int)]
    public var sessionID: UInt64
    /// We answer as an ICE-lite agent (WHIP publishers); a session we opened ourselves runs full ICE.
    public var iceLite = true
    /// Our address as a STUN server saw it (a session we opened, behind NAT): a server-reflexive candidate.
    public var reflexive: (ip: String, port: Int)?
    /// The kinds of media taken; the others are answered inactive (port 0), so the sender does not send them (an
    /// audio-only room takes no video).
    public var kinds: Set<String> = ["audio", "video"]

    /// The `a=candidate` lines: host candidates first, then the server-reflexive one (based on the first host).
    var candidateLines: [String] {
        var lines = candidates.enumerated().map { i, c in "a=candidate:\(i + 1) 1 udp \(2_130_706_431 - i) \(c.ip) \(c.port) typ host" }
        if let r = reflexive, let base = candidates.first {
            lines.append("a=candidate:\(candidates.count + 1) 1 udp 1694498815 \(r.ip) \(r.port) typ srflx raddr \(base.ip) rport \(base.port)")
        }
        return lines + ["a=end-of-candidates"]
    }

    public init(iceUfrag: String, icePwd: String, fingerprint: String, candidates: [(ip: String, port: Int)], sessionID: UInt64, iceLite: Bool = true) {
        self.iceUfrag = iceUfrag; self.icePwd = icePwd; self.fingerprint = fingerprint; self.candidates = candidates; self.sessionID = sessionID
        self.iceLite = iceLite
    }
}

public struct NegotiatedTrack: Sendable, Equatable {
    public var mid: String
    public var kind: String
    public var codec: String
    public var payloadType: UInt8
    public var clockRate: Int
    /// Header extension ids by URI, as the offer numbered them.
    public var extensions: [String: UInt8]
    public var ssrcs: [UInt32]
    /// The sender may be told how much to send (REMB, `goog-remb`).
    public var remb = false
    /// A screen share rather than a camera: `a=content:slides`, or "screen" in its `a=msid`.
    public var isScreen = false
    /// Simulcast layers received (`a=rid` with `a=simulcast`, RFC 8853), in the offer's order; for SSRC-signalled
    /// simulcast (`a=ssrc-group:SIM`) "0", "1", … for `simulcastSSRCs` in order. Empty: one encoding.
    public var simulcastLayers: [String] = []
    public var simulcastSSRCs: [UInt32] = []
    /// RTX (RFC 4588): its payload type, and the media SSRC each retransmission SSRC repairs (`a=ssrc-group:FID`).
    public var rtxPayloadType: UInt8?
    public var rtxSSRCs: [UInt32: UInt32] = [:]
}

public struct Negotiation: Sendable {
    public var answer: String
    public var tracks: [NegotiatedTrack]
    public var remoteUfrag: String
    public var remotePwd: String
    public var remoteFingerprint: (algorithm: String, value: String)
    /// Why offered media was not taken, when something else was (a camera in a codec we do not decode, say).
    public var declined: [String] = []
    /// Whether we start the DTLS handshake (the offer said `a=setup:passive`); otherwise we wait for it.
    public var dtlsClient = false
    /// Where the remote side said it can be reached (its `a=candidate` lines), and whether it is ICE-lite.
    public var remoteCandidates: [SessionDescription.Candidate] = []
    public var remoteICELite = false
}

public enum SDPAnswerer {
    public static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
    public static let absSendTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    /// Which simulcast encoding a packet belongs to (RFC 8852).
    public static let ridURI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    /// Which simulcast encoding an RTX packet repairs.
    public static let repairedRIDURI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
    /// Transport-wide sequence numbers, for transport-cc feedback.
    public static let transportSequenceURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    static let supportedExtensions: Set<String> = [midURI, absSendTimeURI, audioLevelURI, transportSequenceURI, ridURI, repairedRIDURI]

    /// The codec we take from an m-section, in our order of preference.
    static func choose(_ media: SessionDescription.Media) -> SessionDescription.RTPMap? {
        let offered = media.codecs.filter { media.formats.contains(String($0.payloadType)) }
        if media.kind == "audio" {
            return offered.first { $0.name == "opus" && $0.clockRate == 48000 }
        }
        guard media.kind == "video" else { return nil }
        if let vp8 = offered.first(where: { $0.name == "vp8" }) { return vp8 }
        let vp9 = { (profile: String) in offered.first { $0.name == "vp9" && ($0.parameters["profile-id"] ?? "0") == profile } }
        if let profile0 = vp9("0") { return profile0 }
        // H.264 non-interleaved (packetization-mode 1), else single NAL units (mode 0: a subset of what mode 1
        // carries), in a profile FFmpeg decodes.
        let h264 = offered.filter { $0.name == "h264" && $0.parameters["packetization-mode"] == "1" }.nonEmpty
            ?? offered.filter { $0.name == "h264" && ($0.parameters["packetization-mode"] ?? "0") == "0" }
        let profileOrder = ["42e0", "4200", "4d00", "6400", "640c", "42c0"]
        // AV1 main profile (libdav1d decodes it), else VP9 profile 2 (10-bit 4:2:0, drawn from 10 bits to 8).
        guard !h264.isEmpty else { return offered.first { $0.name == "av1" && ($0.parameters["profile"] ?? "0") == "0" } ?? vp9("2") }
        return h264.min { a, b in
            let pa = profileOrder.firstIndex { (a.parameters["profile-level-id"] ?? "42e0").lowercased().hasPrefix($0) } ?? 99
            let pb = profileOrder.firstIndex { (b.parameters["profile-level-id"] ?? "42e0").lowercased().hasPrefix($0) } ?? 99
            return pa < pb
        }
    }

    public static func answer(offer text: String, options: AnswerOptions) throws(SDPError) -> Negotiation {
        let offer = try SessionDescription(parsing: text)
        guard offer.media.contains(where: { $0.kind == "audio" || $0.kind == "video" }) else {
            throw SDPError.refused("the offer has no audio or video")
        }
        var lines = ["v=0", "o=mcu-record \(options.sessionID) 2 IN IP4 127.0.0.1", "s=-", "t=0 0"] + (options.iceLite ? ["a=ice-lite"] : [])
        var sections: [String] = []
        var tracks: [NegotiatedTrack] = []
        var accepted: [String] = []
        var refusals: [String] = []
        var remoteUfrag = offer.iceUfrag, remotePwd = offer.icePwd, remoteFingerprint = offer.fingerprint
        var dtlsClient: Bool?
        for media in offer.media {
            let mid = media.mid ?? String(tracks.count)
            // A bundle-only section (port 0 and a=bundle-only, RFC 8843) is wanted on the bundle's transport.
            let usable = (media.kind == "audio" || media.kind == "video") && (media.port != 0 || media.bundleOnly)
            var codec = usable ? choose(media) : nil
            if codec != nil && !options.kinds.contains(media.kind) {
                refusals.append("\(media.kind) \(mid): this room records \(options.kinds.sorted().joined(separator: " and ")) only"); codec = nil
            }
            if codec != nil && !(media.direction == "sendrecv" || media.direction == "sendonly") {
                refusals.append("\(media.kind) \(mid) is \(media.direction)"); codec = nil
            }
            if codec != nil && !media.proto.contains("SAVPF") && !media.proto.contains("SAVP") {
                refusals.append("\(media.kind) \(mid) uses \(media.proto), not DTLS-SRTP"); codec = nil
            }
            if codec != nil && !media.rtcpMux {
                refusals.append("\(media.kind) \(mid) does not multiplex RTCP (a=rtcp-mux)"); codec = nil
            }
            if usable && codec == nil && choose(media) == nil && options.kinds.contains(media.kind) {
                var reason = "no common \(media.kind) codec for \(media.kind) \(mid) (offered \(Set(media.codecs.map(\.name)).sorted().joined(separator: ", "))"
                if media.codecs.contains(where: { $0.name == "h264" }) { reason += "; H.264 is taken with packetization-mode 0 or 1" }
                if media.codecs.contains(where: { $0.name == "vp9" }) { reason += "; VP9 profiles 0 and 2 only" }
                if media.codecs.contains(where: { $0.name == "av1" }) { reason += "; AV1 main profile only" }
                refusals.append(reason + ")")
            }
            guard let codec else {
                sections.append(contentsOf: ["m=\(media.kind) 0 \(media.proto) \(media.formats.first ?? "0")", "c=IN IP4 0.0.0.0"]
                                + (media.mid.map { ["a=mid:\($0)"] } ?? []) + ["a=inactive"])
                continue
            }
            // RFC 5763: to actpass or active we answer passive (we wait for the handshake); to passive, active (we
            // start it). One transport: the first section decides.
            switch media.setup ?? "actpass" {
            case "actpass", "active": dtlsClient = dtlsClient ?? false
            case "passive": dtlsClient = dtlsClient ?? true
            default: throw SDPError.refused("\(media.kind) \(mid) has a=setup:\(media.setup ?? ""); the offer must say actpass, active or passive")
            }
            remoteUfrag = remoteUfrag ?? media.iceUfrag
            remotePwd = remotePwd ?? media.icePwd
            remoteFingerprint = remoteFingerprint ?? media.fingerprint
            accepted.append(mid)
            let extensions = media.extensions.filter { supportedExtensions.contains($0.uri) && (media.kind == "video" || ($0.uri != ridURI && $0.uri != repairedRIDURI)) }
            let remb = media.kind == "video" && codec.feedback.contains("goog-remb")
            let screen = media.content == "slides" || (media.msid?.lowercased().contains("screen") ?? false)
            // Simulcast by rid needs the rid header extension to tell the layers apart.
            let ridLayers = media.kind == "video" && media.simulcast?.hasPrefix("send") == true && media.rids.count > 1
                && extensions.contains { $0.uri == ridURI } ? media.rids : []
            let simSSRCs = media.kind == "video" && ridLayers.isEmpty && media.simulcastSSRCs.count > 1 ? media.simulcastSSRCs : []
            // Retransmissions in their own stream (RTX) for the codec we took, when offered: NACKed packets then
            // never disturb the media stream's sequence numbers and statistics.
            let rtx = media.kind == "video" ? media.codecs.first { $0.name == "rtx" && $0.parameters["apt"] == String(codec.payloadType)
                                                                   && media.formats.contains(String($0.payloadType)) } : nil
            tracks.append(NegotiatedTrack(mid: mid, kind: media.kind, codec: codec.name, payloadType: codec.payloadType, clockRate: codec.clockRate,
                                          extensions: Dictionary(extensions.map { ($0.uri, $0.id) }, uniquingKeysWith: { a, _ in a }),
                                          ssrcs: media.ssrcs, remb: remb, isScreen: screen,
                                          simulcastLayers: ridLayers.isEmpty ? simSSRCs.indices.map(String.init) : ridLayers, simulcastSSRCs: simSSRCs,
                                          rtxPayloadType: rtx?.payloadType, rtxSSRCs: rtx == nil ? [:] : media.retransmissionSSRCs))
            if media.rids.count > 1 && ridLayers.isEmpty && media.kind == "video" {
                refusals.append("simulcast on video \(mid) without the rtp-stream-id header extension: only one encoding is received")
            }
            var s = ["m=\(media.kind) \(options.candidates.first?.port ?? 9) UDP/TLS/RTP/SAVPF \(codec.payloadType)" + (rtx.map { " \($0.payloadType)" } ?? ""),
                     "c=IN IP4 \(options.candidates.first?.ip ?? "0.0.0.0")", "a=mid:\(mid)", "a=recvonly", "a=rtcp-mux",
                     "a=ice-ufrag:\(options.iceUfrag)", "a=ice-pwd:\(options.icePwd)", "a=fingerprint:sha-256 \(options.fingerprint)",
                     dtlsClient == true ? "a=setup:active" : "a=setup:passive"]
            s.append("a=rtpmap:\(codec.payloadType) \(codec.name == "h264" ? "H264" : codec.name.uppercased() == "OPUS" ? "opus" : codec.name.uppercased())/\(codec.clockRate)" + (codec.channels.map { "/\($0)" } ?? ""))
            if !codec.parameters.isEmpty {
                s.append("a=fmtp:\(codec.payloadType) " + codec.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";"))
            }
            if let rtx {
                s += ["a=rtpmap:\(rtx.payloadType) rtx/\(rtx.clockRate)", "a=fmtp:\(rtx.payloadType) apt=\(codec.payloadType)"]
            }
            if media.kind == "video" {
                s += ["a=rtcp-fb:\(codec.payloadType) nack", "a=rtcp-fb:\(codec.payloadType) nack pli", "a=rtcp-fb:\(codec.payloadType) ccm fir"]
                if remb { s.append("a=rtcp-fb:\(codec.payloadType) goog-remb") }
            }
            if codec.feedback.contains("transport-cc") && extensions.contains(where: { $0.uri == transportSequenceURI }) {
                s.append("a=rtcp-fb:\(codec.payloadType) transport-cc")
            }
            for e in extensions { s.append("a=extmap:\(e.id) \(e.uri)") }
            if !ridLayers.isEmpty, let list = media.simulcast?.dropFirst(4).drop(while: { $0 == " " }) {
                // Every offered encoding is received (RFC 8853 §5.3: the answer mirrors the rids, "recv").
                for rid in ridLayers { s.append("a=rid:\(rid) recv") }
                s.append("a=simulcast:recv \(list)")
            }
            s += options.candidateLines
            sections.append(contentsOf: s)
        }
        guard !tracks.isEmpty else {
            throw SDPError.refused(refusals.isEmpty ? "nothing in the offer can be received" : refusals.joined(separator: "; "))
        }
        guard let ufrag = remoteUfrag, let pwd = remotePwd else { throw SDPError.refused("the offer has no a=ice-ufrag/a=ice-pwd") }
        guard (4...256).contains(ufrag.count), (22...256).contains(pwd.count) else { throw SDPError.refused("ICE credentials of the wrong length") }
        guard let fingerprint = remoteFingerprint else { throw SDPError.refused("the offer has no a=fingerprint (DTLS-SRTP is required)") }
        if accepted.count > 1 && !accepted.allSatisfy(offer.bundle.contains) {
            throw SDPError.refused("media must be bundled on one transport (a=group:BUNDLE with \(accepted.joined(separator: " ")))")
        }
        lines.append("a=group:BUNDLE " + accepted.joined(separator: " "))
        lines.append("a=msid-semantic: WMS")
        let answer = (lines + sections).joined(separator: "\r\n") + "\r\n"
        return Negotiation(answer: answer, tracks: tracks, remoteUfrag: ufrag, remotePwd: pwd, remoteFingerprint: fingerprint, declined: refusals,
                           dtlsClient: dtlsClient ?? false, remoteCandidates: offer.media.first { $0.mid == accepted.first }?.candidates ?? [],
                           remoteICELite: offer.iceLite)
    }
}

extension Array {
    /// Nil when empty (to chain preferences with `??`).
    var nonEmpty: [Element]? { isEmpty ? nil : self }
}
