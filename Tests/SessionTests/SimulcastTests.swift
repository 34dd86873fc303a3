import Testing
@testable import RTP
@testable import SDP
@testable import Session

@Suite struct SimulcastSelectorTests {
    static func feed(_ s: inout SimulcastSelector, _ sizes: [String: PictureSize?], now: RTPTime) {
        for (i, (rid, size)) in sizes.sorted(by: { $0.key < $1.key }).enumerated() {
            s.packet(rid: rid, ssrc: UInt32(100 + i), bytes: 1000 * (i + 1), now: now)
            if let size { s.sized(rid: rid, size) }
        }
    }

    /// The smallest layer that, fitted inside the tile, is enlarged by at most 25 %; the largest when none is; the
    /// smallest when shown nowhere. A wide cell (a strip) asks for what fits its height. A switch shows the old layer
    /// until the new one's keyframe.
    @Test func theLayerThatFillsTheTileIsChosen() {
        var s = SimulcastSelector(rids: ["q", "h", "f"])
        let sizes: [String: PictureSize?] = ["q": PictureSize(width: 320, height: 180), "h": PictureSize(width: 640, height: 360),
                                             "f": PictureSize(width: 1280, height: 720)]
        Self.feed(&s, sizes, now: 1_000)
        #expect(s.decide(now: 1_000) == "q", "in no tile: the smallest")
        #expect(s.frame(rid: "q", keyframe: true) == (true, true) && s.selected == "q")
        for (tile, want) in [((1280, 720), "f"), ((1920, 1080), "f"), ((600, 338), "h"), ((400, 225), "q"), ((160, 90), "q"),
                              ((960, 119), "q"), ((1280, 400), "h"), ((1280, 480), "f")] {
            s.tile = PictureSize(width: tile.0, height: tile.1)
            #expect(s.target(now: 2_000) == want, "tile \(tile)")
        }
        s.tile = PictureSize(width: 1280, height: 720)
        #expect(s.decide(now: 2_000) == "f" && s.isReceiving("f") && s.isReceiving("q") && !s.isReceiving("h"))
        #expect(s.decide(now: 2_100) == nil, "already waiting for its keyframe")
        #expect(s.frame(rid: "f", keyframe: false) == (false, false), "no delta frame before the keyframe")
        #expect(s.frame(rid: "q", keyframe: false) == (true, false), "the old layer until then")
        #expect(s.decide(now: 1_100_000) == nil || s.pending == "f", "no keyframe for a second: asked again")
        #expect(s.frame(rid: "f", keyframe: true) == (true, true) && s.selected == "f" && !s.isReceiving("q"))
    }

    /// A layer the sender stops (no packets for a second) or that loses a burst is left for the next one.
    @Test func aStoppedOrLossyLayerIsLeft() {
        var s = SimulcastSelector(rids: ["q", "h", "f"])
        s.tile = PictureSize(width: 1280, height: 720)
        let sizes: [String: PictureSize?] = ["q": PictureSize(width: 320, height: 180), "h": PictureSize(width: 640, height: 360),
                                             "f": PictureSize(width: 1280, height: 720)]
        Self.feed(&s, sizes, now: 0)
        #expect(s.target(now: 500_000) == "f")
        Self.feed(&s, ["q": nil, "h": nil], now: 900_000)
        #expect(s.target(now: 1_200_000) == "h", "f silent for 1.2 s")
        s.lossBurst(rid: "h", now: 1_200_000)
        #expect(s.target(now: 1_300_000) == "q", "h lost a burst")
        Self.feed(&s, ["q": nil, "h": nil], now: 6_000_000)
        #expect(s.target(now: 6_300_000) == "h", "five seconds later h is back")
    }

    /// Layers of unknown size are ranked by their rate.
    @Test func unknownSizesRankByRate() {
        var s = SimulcastSelector(rids: ["a", "b"])
        s.packet(rid: "a", ssrc: 1, bytes: 9000, now: 0)
        s.packet(rid: "b", ssrc: 2, bytes: 500, now: 0)
        #expect(s.target(now: 10) == "b", "in no tile: the smaller stream")
        s.tile = PictureSize(width: 640, height: 360)
        #expect(s.target(now: 10) == "a", "sizes unknown: the larger stream")
    }
}

@Suite(.timeLimit(.minutes(2))) struct SimulcastSessionTests {
    static let simulcastOffer = offer().replacingOccurrences(of: "a=rtcp-fb:96 goog-remb\r\n", with:
        "a=rtcp-fb:96 goog-remb\r\na=extmap:6 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=rid:q send\r\na=rid:f send\r\na=simulcast:send q;f\r\n")

    /// A VP8 keyframe (or delta frame) of `width`x`height` in one packet, with mid and rid.
    static func frame(rid: String, ssrc: UInt32, seq: UInt16, ts: UInt32, key: Bool, width: Int, height: Int) -> [UInt8] {
        let header: [UInt8] = key ? [0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, UInt8(width & 0xFF), UInt8(width >> 8), UInt8(height & 0xFF), UInt8(height >> 8)]
                                  : [0x51, 0x42, 0x00]
        return RTPPacket.build(payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: ssrc, marker: true,
                               extensions: [(4, Array("1".utf8)), (6, Array(rid.utf8))], payload: [0x10] + header + [0xAA, 0xBB])
    }

    /// Two layers arrive; only the one the tile needs comes out as frames. A bigger tile asks the other layer for a
    /// keyframe (PLI on its SSRC) and the switch happens on it, reported with the new layer's size.
    @Test func onlyTheChosenLayerIsDecodedAndTheTileSwitchesIt() throws {
        let c = try connect(offer: Self.simulcastOffer)
        #expect(c.session.tracks.first { $0.kind == "video" }?.simulcastLayers == ["q", "f"])
        var frames: [Int] = [], changes: [(String, PictureSize?)] = [], plis: [UInt32] = []
        func collect(_ outputs: [PeerSession.Output]) {
            for o in outputs {
                switch o {
                case let .frame(mid, _, _, frame, _) where mid == "1": frames.append(frame.data.count)
                case let .layerChanged(_, rid, size): changes.append((rid, size))
                case let .send(bytes, _):
                    var packet = bytes
                    if bytes.count > 1, bytes[1] == 206, c.receive.unprotect(&packet, rtcp: true) {
                        for case let .pli(_, media) in (try? RTCPPacket.parseCompound(packet)) ?? [] { plis.append(media) }
                    }
                default: break
                }
            }
        }
        for n in 0..<10 {
            let t = RTPTime(100_000 + n * 33_000), ts = UInt32(3000 * n)
            collect(media(c, Self.frame(rid: "q", ssrc: 0x10, seq: UInt16(n), ts: ts, key: n == 0 || n == 6, width: 320, height: 180), now: t))
            collect(media(c, Self.frame(rid: "f", ssrc: 0x20, seq: UInt16(n), ts: ts, key: n == 0 || n == 8, width: 1280, height: 720), now: t + 1))
            collect(c.session.poll(now: t + 2))
        }
        #expect(changes.first?.0 == "q", "in no tile yet: the small layer, \(changes)")
        let small = frames.count
        #expect(small >= 8, "q's frames came out: \(frames)")
        collect(c.session.setVideoTiles(["1": PictureSize(width: 1280, height: 720)], now: 500_000))
        #expect(plis.contains(0x20), "the big layer is asked for a keyframe: \(plis)")
        for n in 10..<14 {
            let t = RTPTime(500_000 + (n - 9) * 33_000), ts = UInt32(3000 * n)
            collect(media(c, Self.frame(rid: "q", ssrc: 0x10, seq: UInt16(n), ts: ts, key: false, width: 320, height: 180), now: t))
            collect(media(c, Self.frame(rid: "f", ssrc: 0x20, seq: UInt16(n), ts: ts, key: n == 12, width: 1280, height: 720), now: t + 1))
            collect(c.session.poll(now: t + 2))
        }
        #expect(changes.last?.0 == "f" && changes.last?.1 == PictureSize(width: 1280, height: 720), "\(changes)")
        #expect(frames.count - small == 5, "q until f's keyframe (three, the last at the same instant as it), then f twice: \(frames)")
        let report = try #require(c.session.reports.first { $0.mid == "1" }?.simulcast)
        #expect(report.selected == "f" && report.layers.map(\.size) == [PictureSize(width: 320, height: 180), PictureSize(width: 1280, height: 720)])
    }
}
