import Testing
@testable import SDP

/// Offers as browsers and libraries write them beyond the common case: bundle-only sections (GStreamer's
/// max-bundle), REMB, screen shares marked by `a=content` or the msid, simulcast, and video we cannot decode.
@Suite(.timeLimit(.minutes(1))) struct BrowserOfferTests {
    /// A second video section that is bundle-only (port 0 + a=bundle-only, no transport attributes of its own).
    static var bundleOnlyOffer: String {
        chromeOffer.replacingOccurrences(of: "a=group:BUNDLE 0 1", with: "a=group:BUNDLE 0 1 2")
            + "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=mid:2\r\na=sendonly\r\na=rtcp-mux\r\n"
            + "a=msid:stream screen-share-track\r\na=content:slides\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\n"
    }

    @Test func aBundleOnlySectionIsTakenAndAnsweredInFull() throws {
        let n = try SDPAnswerer.answer(offer: Self.bundleOnlyOffer, options: options)
        #expect(n.tracks.map(\.mid) == ["0", "1", "2"])
        let sections = n.answer.components(separatedBy: "m=").dropFirst()
        let third = try #require(sections.first { $0.contains("a=mid:2") })
        #expect(third.hasPrefix("video 40000 "), "answered on the bundle's port, not rejected: \(third.prefix(40))")
        #expect(third.contains("a=fingerprint:sha-256") && third.contains("a=ice-ufrag:") && third.contains("a=recvonly"))
        #expect(n.answer.contains("a=group:BUNDLE 0 1 2"))
    }

    @Test func screenSharesAreMarked() throws {
        let n = try SDPAnswerer.answer(offer: Self.bundleOnlyOffer, options: options)
        #expect(n.tracks.map(\.isScreen) == [false, false, true])
        let byMsid = chromeOffer.replacingOccurrences(of: "a=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize", with: "a=sendonly\r\na=msid:s screen:0\r\na=rtcp-mux\r\na=rtcp-rsize")
        #expect(try SDPAnswerer.answer(offer: byMsid, options: options).tracks.last?.isScreen == true, "\"screen\" in the msid")
    }

    @Test func rembIsAnsweredWhenOffered() throws {
        let n = try SDPAnswerer.answer(offer: chromeOffer, options: options)
        #expect(n.tracks.first { $0.kind == "video" }?.remb == true)
        #expect(n.answer.contains("a=rtcp-fb:96 goog-remb"))
        let without = try SDPAnswerer.answer(offer: chromeOffer.replacingOccurrences(of: "a=rtcp-fb:96 goog-remb\r\n", with: ""), options: options)
        #expect(without.tracks.first { $0.kind == "video" }?.remb == false && !without.answer.contains("goog-remb"))
    }

    /// Video only in codecs we do not take (AV1 high profile, VP9 profile 3) beside usable audio: the audio is
    /// taken, and why the video is not is said (it was silent).
    @Test func declinedVideoIsExplained() throws {
        let av1 = chromeOffer.replacingOccurrences(of: "a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 AV1/90000\r\na=fmtp:96 profile=1")
            .replacingOccurrences(of: "a=rtpmap:102 H264/90000", with: "a=rtpmap:102 AV1X/90000")
            .replacingOccurrences(of: "a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0", with: "a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=3")
        let n = try SDPAnswerer.answer(offer: av1, options: options)
        #expect(n.tracks.map(\.kind) == ["audio"])
        let reason = try #require(n.declined.first)
        #expect(reason.contains("video 1") && reason.contains("av1") && reason.contains("VP9 profiles 0 and 2 only")
                && reason.contains("AV1 main profile only"), "\(reason)")
    }

    /// AV1 main profile as the only video codec: taken, and answered as offered.
    @Test func av1MainProfileIsTaken() throws {
        let av1 = chromeOffer.replacingOccurrences(of: "a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 AV1/90000\r\na=fmtp:96 level-idx=5;profile=0;tier=0")
            .replacingOccurrences(of: "a=rtpmap:102 H264/90000", with: "a=rtpmap:102 AV1X/90000")
            .replacingOccurrences(of: "a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0", with: "a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=2")
        let n = try SDPAnswerer.answer(offer: av1, options: options)
        #expect(n.tracks.first { $0.kind == "video" }?.codec == "av1")
        #expect(n.answer.contains("a=rtpmap:96 AV1/90000") && n.answer.contains("a=fmtp:96 level-idx=5;profile=0;tier=0"), "\(n.answer)")
        // Without AV1, VP9 profile 2; H.264 in single NAL mode (packetization-mode 0) beats both.
        let vp9 = av1.replacingOccurrences(of: "a=rtpmap:96 AV1/90000", with: "a=rtpmap:96 AV1X/90000")
        let p2 = try SDPAnswerer.answer(offer: vp9, options: options)
        #expect(p2.tracks.first { $0.kind == "video" }?.codec == "vp9" && p2.answer.contains("a=fmtp:98 profile-id=2"), "\(p2.answer)")
        let single = chromeOffer.replacingOccurrences(of: "a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 VP8X/90000")
            .replacingOccurrences(of: "a=rtpmap:98 VP9/90000", with: "a=rtpmap:98 VP9X/90000")
            .replacingOccurrences(of: "packetization-mode=1", with: "packetization-mode=0")
        let pm0 = try SDPAnswerer.answer(offer: single, options: options)
        #expect(pm0.tracks.first { $0.kind == "video" }?.codec == "h264" && pm0.answer.contains("packetization-mode=0"), "\(pm0.answer)")
    }

    /// Simulcast by rid (Chromium's `sendEncodings`): every layer is received, the answer mirrors the rids as
    /// `recv`; without the rid header extension the layers cannot be told apart and the refusal says so.
    @Test func simulcastOffersAreAccepted() throws {
        let rids = "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;~f\r\n"
        let withExtension = chromeOffer.replacingOccurrences(of: "a=rtcp-rsize\r\n", with: "a=rtcp-rsize\r\n" + rids)
            .replacingOccurrences(of: "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
                                  with: "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n")
        let n = try SDPAnswerer.answer(offer: withExtension, options: options)
        let video = try #require(n.tracks.first { $0.kind == "video" })
        #expect(video.simulcastLayers == ["q", "h", "f"] && video.extensions[SDPAnswerer.ridURI] == 10)
        #expect(n.answer.contains("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;~f\r\n"), "\(n.answer)")
        #expect(n.declined.isEmpty)

        let without = try SDPAnswerer.answer(offer: chromeOffer.replacingOccurrences(of: "a=rtcp-rsize\r\n", with: "a=rtcp-rsize\r\n" + rids), options: options)
        #expect(without.tracks.first { $0.kind == "video" }?.simulcastLayers == [])
        #expect(!without.answer.contains("a=simulcast") && without.declined.contains { $0.contains("rtp-stream-id") })

        // SSRC-signalled simulcast: the SIM group's SSRCs are layers "0", "1", "2".
        let sim = chromeOffer.replacingOccurrences(of: "a=rtcp-rsize\r\n", with: "a=rtcp-rsize\r\na=ssrc-group:SIM 11 12 13\r\na=ssrc:11 cname:x\r\na=ssrc:12 cname:x\r\na=ssrc:13 cname:x\r\n")
        let bySSRC = try SDPAnswerer.answer(offer: sim, options: options).tracks.first { $0.kind == "video" }
        #expect(bySSRC?.simulcastLayers == ["0", "1", "2"] && bySSRC?.simulcastSSRCs == [11, 12, 13])
    }
}
