/// Our side as the offerer (WHEP, RFC 9725's sibling draft): a receive-only offer of everything we decode, and the
/// negotiation the remote answer settles.
public enum SDPOfferer {
    /// The codecs offered per video section, in our order of preference, each with its RTX payload type.
    static let videoCodecs: [(pt: UInt8, rtx: UInt8, rtpmap: String, fmtp: String?)] = [
        (96, 97, "VP8/90000", nil),
        (98, 99, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
        (100, 101, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
        (102, 103, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
        (104, 105, "VP9/90000", "profile-id=0"),
        (106, 107, "VP9/90000", "profile-id=2"),
        (45, 46, "AV1/90000", nil),
    ]
    static let opus: UInt8 = 111
    /// Header extensions we read, with the ids we give them.
    static let extensions: [(id: UInt8, uri: String, video: Bool, audio: Bool)] = [
        (1, SDPAnswerer.midURI, true, true), (2, SDPAnswerer.absSendTimeURI, true, true), (3, SDPAnswerer.audioLevelURI, false, true),
        (4, SDPAnswerer.transportSequenceURI, true, true),
    ]

    /// A recvonly offer of `kinds` ("audio"/"video", one m-section each, mids "0", "1", …), bundled, rtcp-mux, with
    /// the DTLS role left to the answerer (actpass) and full ICE (our host and server-reflexive candidates).
    public static func offer(kinds: [String], options: AnswerOptions) -> String {
        let mids = kinds.indices.map(String.init)
        var lines = ["v=0", "o=mcu-record \(options.sessionID) 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
                     "a=group:BUNDLE " + mids.joined(separator: " "), "a=msid-semantic: WMS"]
        for (mid, kind) in zip(mids, kinds) {
            let video = kind == "video"
            let formats = video ? videoCodecs.flatMap { [$0.pt, $0.rtx] } : [opus]
            lines += ["m=\(kind) \(options.candidates.first?.port ?? 9) UDP/TLS/RTP/SAVPF " + formats.map(String.init).joined(separator: " "),
                      "c=IN IP4 \(options.candidates.first?.ip ?? "0.0.0.0")", "a=mid:\(mid)", "a=recvonly", "a=rtcp-mux", "a=rtcp-rsize",
                      "a=ice-ufrag:\(options.iceUfrag)", "a=ice-pwd:\(options.icePwd)", "a=fingerprint:sha-256 \(options.fingerprint)", "a=setup:actpass"]
            for e in extensions where video ? e.video : e.audio { lines.append("a=extmap:\(e.id) \(e.uri)") }
            if video {
                for c in videoCodecs {
                    lines.append("a=rtpmap:\(c.pt) \(c.rtpmap)")
                    if let fmtp = c.fmtp { lines.append("a=fmtp:\(c.pt) \(fmtp)") }
                    lines += ["nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"].map { "a=rtcp-fb:\(c.pt) \($0)" }
                    lines += ["a=rtpmap:\(c.rtx) rtx/90000", "a=fmtp:\(c.rtx) apt=\(c.pt)"]
                }
            } else {
                lines += ["a=rtpmap:\(opus) opus/48000/2", "a=fmtp:\(opus) minptime=10;useinbandfec=1", "a=rtcp-fb:\(opus) transport-cc"]
            }
            lines += options.candidateLines
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// What the remote `answer` to our `offer` agreed: the tracks it sends, its ICE and DTLS parameters.
    public static func negotiate(offer: String, answer text: String) throws(SDPError) -> Negotiation {
        let answer = try SessionDescription(parsing: text)
        var tracks: [NegotiatedTrack] = [], declined: [String] = []
        var dtlsClient: Bool?
        for media in answer.media {
            let mid = media.mid ?? String(tracks.count)
            guard media.port != 0 || media.bundleOnly, media.direction == "sendonly" || media.direction == "sendrecv" else {
                declined.append("\(media.kind) \(mid) is \(media.port == 0 ? "rejected" : media.direction) in the answer")
                continue
            }
            // The answer's first format we decode (the answerer lists its choice first).
            let offered = media.codecs.filter { media.formats.contains(String($0.payloadType)) && $0.name != "rtx" && $0.name != "red" && $0.name != "ulpfec" }
            guard let codec = offered.first(where: { c in SDPAnswerer.choose(SessionDescription.Media(copying: media, codecs: [c])) != nil }) else {
                declined.append("no codec we decode for \(media.kind) \(mid) (answered \(Set(offered.map(\.name)).sorted().joined(separator: ", ")))")
                continue
            }
            switch media.setup ?? answer.media.first?.setup ?? "active" {
            case "active": dtlsClient = dtlsClient ?? false
            case "passive": dtlsClient = dtlsClient ?? true
            default: throw SDPError.refused("\(media.kind) \(mid) answers a=setup:\(media.setup ?? ""); an answer must say active or passive")
            }
            let extensions = media.extensions.filter { SDPAnswerer.supportedExtensions.contains($0.uri) }
            let rtx = media.kind == "video" ? media.codecs.first { $0.name == "rtx" && $0.parameters["apt"] == String(codec.payloadType) } : nil
            tracks.append(NegotiatedTrack(mid: mid, kind: media.kind, codec: codec.name, payloadType: codec.payloadType, clockRate: codec.clockRate,
                                          extensions: Dictionary(extensions.map { ($0.uri, $0.id) }, uniquingKeysWith: { a, _ in a }),
                                          ssrcs: media.ssrcs, remb: media.kind == "video" && codec.feedback.contains("goog-remb"),
                                          rtxPayloadType: rtx?.payloadType, rtxSSRCs: rtx == nil ? [:] : media.retransmissionSSRCs))
        }
        guard !tracks.isEmpty else {
            throw SDPError.refused(declined.isEmpty ? "the answer sends no audio or video" : declined.joined(separator: "; "))
        }
        let first = answer.media.first { $0.mid == tracks[0].mid }
        guard let ufrag = answer.iceUfrag ?? first?.iceUfrag, let pwd = answer.icePwd ?? first?.icePwd else {
            throw SDPError.refused("the answer has no a=ice-ufrag/a=ice-pwd")
        }
        guard let fingerprint = answer.fingerprint ?? first?.fingerprint else { throw SDPError.refused("the answer has no a=fingerprint") }
        if tracks.count > 1 && !tracks.allSatisfy({ answer.bundle.contains($0.mid) }) {
            throw SDPError.refused("the answer does not bundle its media on one transport")
        }
        return Negotiation(answer: offer, tracks: tracks, remoteUfrag: ufrag, remotePwd: pwd, remoteFingerprint: fingerprint, declined: declined,
                           dtlsClient: dtlsClient ?? false, remoteCandidates: first?.candidates ?? [], remoteICELite: answer.iceLite)
    }
}

extension SessionDescription.Media {
    /// This section with only `codecs` (to ask `SDPAnswerer.choose` about one codec).
    init(copying media: SessionDescription.Media, codecs: [SessionDescription.RTPMap]) {
        self = media
        self.codecs = codecs
    }
}
