import Foundation
import SDP
import Testing

let fp = "sha-256 " + (0..<32).map { _ in "AB" }.joined(separator: ":")

// The shape of Chrome's offer (sendonly camera + microphone, BUNDLE, many codecs).
let chromeOffer = """
v=0\r
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
a=extmap-allow-mixed\r
a=msid-semantic: WMS stream\r
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r
c=IN IP4 0.0.0.0\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=ice-ufrag:Xk2f\r
a=ice-pwd:p9Jd9fb3jFkq3fLk2jKd93kD\r
a=ice-options:trickle\r
a=fingerprint:\(fp)\r
a=setup:actpass\r
a=mid:0\r
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=msid:stream audio0\r
a=rtcp-mux\r
a=rtpmap:111 opus/48000/2\r
a=rtcp-fb:111 transport-cc\r
a=fmtp:111 minptime=10;useinbandfec=1\r
a=rtpmap:63 red/48000/2\r
a=rtpmap:9 G722/8000\r
a=rtpmap:0 PCMU/8000\r
a=ssrc:1001 cname:abc\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 98 99\r
c=IN IP4 0.0.0.0\r
a=ice-ufrag:Xk2f\r
a=ice-pwd:p9Jd9fb3jFkq3fLk2jKd93kD\r
a=fingerprint:\(fp)\r
a=setup:actpass\r
a=mid:1\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=rtcp-mux\r
a=rtcp-rsize\r
a=rtpmap:96 VP8/90000\r
a=rtcp-fb:96 goog-remb\r
a=rtcp-fb:96 nack\r
a=rtcp-fb:96 nack pli\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
a=rtpmap:102 H264/90000\r
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r
a=rtpmap:103 rtx/90000\r
a=fmtp:103 apt=102\r
a=rtpmap:98 VP9/90000\r
a=fmtp:98 profile-id=0\r
a=rtpmap:99 rtx/90000\r
a=ssrc-group:FID 2001 2002\r
a=ssrc:2001 cname:abc\r
a=ssrc:2002 cname:abc\r

"""

let options = AnswerOptions(iceUfrag: "srv1", icePwd: "0123456789abcdefghijkl", fingerprint: (0..<32).map { _ in "CD" }.joined(separator: ":"),
                            candidates: [("127.0.0.1", 40000)], sessionID: 42)

@Suite(.timeLimit(.minutes(2))) struct SDPTests {
    @Test func answersChromeRecvOnlyWithOneCodecEach() throws {
        let n = try SDPAnswerer.answer(offer: chromeOffer, options: options)
        #expect(n.tracks.map(\.codec) == ["opus", "vp8"])
        #expect(n.tracks.map(\.payloadType) == [111, 96])
        #expect(n.tracks[0].extensions[SDPAnswerer.audioLevelURI] == 1 && n.tracks[1].extensions[SDPAnswerer.midURI] == 4)
        #expect(n.tracks[1].ssrcs == [2001, 2002])
        #expect(n.remoteUfrag == "Xk2f" && n.remoteFingerprint.algorithm == "sha-256")
        let answer = try SessionDescription(parsing: n.answer)
        #expect(answer.iceLite && answer.bundle == ["0", "1"])
        #expect(answer.media.allSatisfy { $0.direction == "recvonly" && $0.setup == "passive" && $0.rtcpMux && $0.iceUfrag == "srv1" })
        #expect(answer.media.map { $0.codecs.map(\.name) } == [["opus"], ["vp8", "rtx"]], "VP8 and its retransmissions")
        #expect(n.answer.contains("a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"))
        #expect(n.answer.contains("a=rtcp-fb:96 nack pli"))
    }

    @Test func prefersVP9ThenH264WhenVP8IsAbsent() throws {
        let noVP8 = chromeOffer.replacingOccurrences(of: "a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 AV1/90000")
        #expect(try SDPAnswerer.answer(offer: noVP8, options: options).tracks.last?.codec == "vp9")
        let h264Only = noVP8.replacingOccurrences(of: "a=rtpmap:98 VP9/90000", with: "a=rtpmap:98 H265/90000")
        let n = try SDPAnswerer.answer(offer: h264Only, options: options)
        #expect(n.tracks.last?.codec == "h264" && n.tracks.last?.payloadType == 102)
        #expect(n.answer.contains("packetization-mode=1"))
    }

    @Test func firefoxAndAiortcShapes() throws {
        // Session-level ICE and fingerprint (Firefox, aiortc), LF line ends, mids as names.
        let offer = """
        v=0
        o=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=fingerprint:\(fp)
        a=group:BUNDLE audio video
        a=ice-ufrag:ab12cd34
        a=ice-pwd:0123456789abcdef0123456789abcdef
        m=audio 9 UDP/TLS/RTP/SAVPF 109
        c=IN IP4 0.0.0.0
        a=sendrecv
        a=mid:audio
        a=rtcp-mux
        a=rtpmap:109 opus/48000/2
        m=video 9 UDP/TLS/RTP/SAVPF 120 126
        c=IN IP4 0.0.0.0
        a=sendrecv
        a=mid:video
        a=rtcp-mux
        a=rtpmap:126 H264/90000
        a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1
        a=rtpmap:120 VP8/90000
        """
        let n = try SDPAnswerer.answer(offer: offer, options: options)
        #expect(n.tracks.map(\.mid) == ["audio", "video"] && n.tracks.map(\.codec) == ["opus", "vp8"])
    }

    @Test(arguments: [
        ("nothing", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "no audio or video", "refused"),
        ("garbage", "hello world", "TYPE=VALUE", "malformed"),
        ("no version", "o=- 1 1 IN IP4 0.0.0.0\r\n", "not an SDP", "malformed"),
        ("no fingerprint", chromeOffer.replacingOccurrences(of: "a=fingerprint:\(fp)\r\n", with: ""), "fingerprint", "refused"),
        ("no ICE", chromeOffer.replacingOccurrences(of: "a=ice-ufrag:Xk2f\r\n", with: ""), "ice-ufrag", "refused"),
        ("no common codec", chromeOffer.replacingOccurrences(of: "opus/48000/2", with: "foo/48000/2")
            .replacingOccurrences(of: "VP8/90000", with: "X/90000").replacingOccurrences(of: "VP9/90000", with: "Y/90000")
            .replacingOccurrences(of: "H264/90000", with: "Z/90000"), "no common", "refused"),
        ("not bundled", chromeOffer.replacingOccurrences(of: "a=group:BUNDLE 0 1\r\n", with: ""), "BUNDLE", "refused"),
        ("no rtcp-mux", chromeOffer.replacingOccurrences(of: "a=rtcp-mux\r\n", with: ""), "rtcp-mux", "refused"),
        ("receive only", chromeOffer.replacingOccurrences(of: "a=sendonly", with: "a=recvonly"), "recvonly", "refused"),
        ("bad m line", "v=0\r\nm=video abc UDP\r\n", "malformed m=", "malformed"),
        ("bad rtpmap", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:300 VP8/90000\r\n", "payload type", "malformed"),
        ("bad fingerprint", chromeOffer.replacingOccurrences(of: "a=fingerprint:\(fp)", with: "a=fingerprint:sha-256 zz"), "fingerprint", "malformed"),
        // RFC 4145's holdconn (no connection yet) cannot carry DTLS-SRTP: a reason, not a hang.
        ("setup holdconn", chromeOffer.replacingOccurrences(of: "a=setup:actpass", with: "a=setup:holdconn"), "a=setup:holdconn", "refused"),
    ] as [(String, String, String, String)])
    func refusesWithAReason(name: String, offer: String, reason: String, kind: String) {
        do {
            _ = try SDPAnswerer.answer(offer: offer, options: options)
            Issue.record("\(name): accepted")
        } catch {
            let actual = switch error { case .malformed: "malformed"; case .limitExceeded: "limitExceeded"; case .unsupported: "unsupported"; case .refused: "refused" }
            #expect(actual == kind, "\(name): \(error)")
            #expect(error.reason.contains(reason), "\(name): \(error.reason)")
        }
    }

    @Test func hugeAndMangledOffersNeverCrash() {
        #expect { try SessionDescription(parsing: "v=0\r\n" + String(repeating: "a=x\r\n", count: 20_000)) } throws: { error in
            if case .limitExceeded = error as? SDPError { true } else { false }
        }
        // Every truncation and mangling either answers with an SDP that parses again and receives something, or is
        // refused with a reason.
        func check(_ offer: String, _ what: String) {
            do {
                let n = try SDPAnswerer.answer(offer: offer, options: options)
                #expect(!n.tracks.isEmpty, "\(what): an answer with nothing to receive")
                #expect((try? SessionDescription(parsing: n.answer)) != nil, "\(what): an answer that does not parse")
            } catch {
                #expect(!error.reason.isEmpty, "\(what): refused without a reason")
            }
        }
        let bytes = Array(chromeOffer.utf8)
        var answered = 0
        for cut in stride(from: 0, to: bytes.count, by: 37) {
            check(String(decoding: bytes.prefix(cut), as: UTF8.self), "cut at \(cut)")
            if (try? SDPAnswerer.answer(offer: String(decoding: bytes.prefix(cut), as: UTF8.self), options: options)) != nil { answered += 1 }
        }
        #expect(answered > 0, "a long enough prefix of a good offer is answered")
        for step in [5, 11, 29] {
            var mangled = bytes
            for i in stride(from: 0, to: mangled.count, by: step) { mangled[i] = UInt8(ascii: ":") }
            check(String(decoding: mangled, as: UTF8.self), "every \(step)th byte mangled")
        }
    }
}


@Suite(.timeLimit(.minutes(2))) struct FingerprintChoiceTests {
    @Test func sha256IsPreferredAmongSeveral() throws {
        let sha384 = "sha-384 " + (0..<48).map { _ in "11" }.joined(separator: ":")
        let sha256 = "sha-256 " + (0..<32).map { _ in "22" }.joined(separator: ":")
        for order in [[sha384, sha256], [sha256, sha384]] {
            let offer = chromeOffer.replacingOccurrences(of: "a=fingerprint:\(fp)\r\n", with: order.map { "a=fingerprint:\($0)\r\n" }.joined())
            let n = try SDPAnswerer.answer(offer: offer, options: options)
            #expect(n.remoteFingerprint.algorithm == "sha-256" && n.remoteFingerprint.value.hasPrefix("22:"))
        }
    }
}
