import Layout
import MediaCore
import RTP
import SDP
import STUN

/// Every parser that reads outside input, as a function of arbitrary bytes. libFuzzer drives them
/// (`make fuzz`, the `mcu-fuzz` program); `make test` replays the seed corpora and every crash found in
/// `Fixtures/fuzz/`. A target must never crash, hang or leak, whatever the bytes: errors are the expected outcome.
public enum FuzzTargets {
    public static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        ("stun", stun), ("ice", ice), ("rtp", rtp), ("rtcp", rtcp), ("sdp", sdp),
        ("vp8", { depacketize(.vp8, $0) }), ("vp9", { depacketize(.vp9, $0) }), ("h264", { depacketize(.h264, $0) }),
        ("av1", { depacketize(.av1, $0) }),
        ("opus", opus), ("jitter", jitter), ("layout", layout), ("watermark", watermark), ("chat", chat), ("json", json),
    ]

    public static func target(named name: String) -> (@Sendable ([UInt8]) -> Void)? { all.first { $0.name == name }?.run }

    static func stun(_ bytes: [UInt8]) {
        guard let message = try? STUNMessage(parsing: bytes) else { return }
        _ = message.hasValidIntegrity(key: Array("serverpassword0123456789".utf8))
        for type in [STUNMessage.AttributeType.username, .messageIntegrity, .fingerprint] { _ = message.attribute(type) }
    }

    /// The ICE-lite responder as the network sees it: any datagram from any address.
    static func ice(_ bytes: [UInt8]) {
        let responder = ICELiteResponder(localUfrag: "srvr", localPassword: "serverpassword0123456789")
        _ = responder.handle(bytes, from: TransportAddress(ip: [127, 0, 0, 1], port: 5000))
    }

    static func rtp(_ bytes: [UInt8]) {
        guard let packet = try? RTPPacket(parsing: bytes) else { return }
        _ = packet.mid(id: 4)
        _ = packet.absSendTime(id: 2)
        _ = packet.audioLevel(id: 1)
        for codec in RTPCodec.allCases { _ = Depacketizer.startsFrame(codec, packet.payload) }
    }

    static func rtcp(_ bytes: [UInt8]) { _ = try? RTCPPacket.parseCompound(bytes) }

    static func sdp(_ bytes: [UInt8]) {
        guard bytes.count <= 64 * 1024 else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? SessionDescription(parsing: text)
        let options = AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789", fingerprint: String(repeating: "AB:", count: 31) + "AB",
                                    candidates: [("127.0.0.1", 40000)], sessionID: 1)
        _ = try? SDPAnswerer.answer(offer: text, options: options)
    }

    /// One frame's payloads: the first byte says how many (1-8), the rest is cut into that many pieces.
    static func depacketize(_ codec: RTPCodec, _ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let count = Int(first % 8) + 1
        let body = bytes.dropFirst()
        let size = max(1, body.count / count)
        var payloads: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        while start < body.endIndex, payloads.count < count {
            let end = payloads.count == count - 1 ? body.endIndex : min(body.endIndex, start + size)
            payloads.append(body[start..<end])
            _ = Depacketizer.startsFrame(codec, body[start..<end])
            start = end
        }
        _ = try? Depacketizer.assemble(codec, payloads: payloads)
    }

    static func opus(_ bytes: [UInt8]) {
        _ = OpusPacket.duration(bytes)
        depacketize(.opus, bytes)
    }

    /// A packet sequence into a jitter buffer: per packet 8 bytes of header (sequence delta, timestamp delta,
    /// marker/keyframe bits, arrival delta, payload length) then the payload; the codec from the first byte.
    static func jitter(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let codec = RTPCodec.allCases[Int(first) % RTPCodec.allCases.count]
        var buffer = JitterBuffer(codec: codec)
        var i = 1, sequence: UInt16 = 1000, timestamp: UInt32 = 90_000, now: RTPTime = 1_000_000
        var packets = 0
        while i + 8 <= bytes.count, packets < 4096 {
            let header = bytes[i..<(i + 8)]
            let b = Array(header)
            sequence &+= UInt16(b[0]) &- 8 | UInt16(b[1]) << 8 & 0x0F00
            timestamp &+= UInt32(b[2]) * 300
            now += RTPTime(b[3]) * 1_000 + RTPTime(b[4] & 0x0F) * 100_000
            let length = min(Int(b[5]), bytes.count - i - 8)
            let payload = Array(bytes[(i + 8)..<(i + 8 + length)])
            i += 8 + length
            packets += 1
            let packet = RTPPacket.build(payloadType: 96, sequenceNumber: sequence, timestamp: timestamp, ssrc: 1, marker: b[6] & 1 == 1, payload: payload)
            guard let parsed = try? RTPPacket(parsing: packet) else { continue }
            _ = buffer.insert(parsed, now: now)
            if b[7] & 1 == 1 { _ = buffer.poll(now: now) }
            if b[7] & 2 == 2 { _ = buffer.keyframeNeeded(now: now) }
        }
        _ = buffer.poll(now: now + 10_000_000)
    }

    static func layout(_ bytes: [UInt8]) {
        guard let document = try? LayoutParser.parseRequest(bytes: bytes) else { return }
        // A valid layout must solve for any room without trouble.
        let sources = (0..<5).map { SourceDescriptor(id: "p\($0)", start: Microseconds($0) * 1_000_000, sequence: $0) }
        for size in [PixelSize(width: 1280, height: 720), PixelSize(width: 16, height: 16)] {
            _ = LayoutSolver.solve(document, canvas: size, context: LayoutContext(sources: sources, time: 2_500_000, speaker: "p1"))
        }
    }

    static func watermark(_ bytes: [UInt8]) { _ = try? WatermarkDocument.parse(bytes: bytes) }
    static func chat(_ bytes: [UInt8]) { _ = try? ChatOverlayStyle.parse(bytes: bytes) }

    /// JSON bodies of the REST API go through this parser before any field is read.
    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        _ = value.serialized
    }
}
