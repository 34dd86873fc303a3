/// AV1 RTP payload (AOM "RTP Payload Format For AV1", v1.0 §4) to the low-overhead bitstream format decoders take
/// (AV1 spec §5.2: every OBU with its size field): the OBU elements of a frame's packets are joined across packet
/// boundaries, each OBU header gets `obu_has_size_field` and a LEB128 size, and temporal delimiters, tile lists and
/// padding (which the payload format says to drop) go; one temporal delimiter starts the temporal unit.
extension Depacketizer {
    /// Aggregation header: Z (the first element continues the previous packet's last), Y (the last element goes on in
    /// the next packet), W (element count, 0 = every element has a length), N (a new coded video sequence starts).
    struct AV1Aggregation {
        let continues: Bool, goesOn: Bool, count: Int, newSequence: Bool
        init(_ byte: UInt8) {
            continues = byte & 0x80 != 0
            goesOn = byte & 0x40 != 0
            count = Int((byte >> 4) & 0x03)
            newSequence = byte & 0x08 != 0
        }
    }

    static let av1TemporalDelimiter: [UInt8] = [0x12, 0x00]
    /// OBU types the payload format drops: temporal delimiter, tile list, padding.
    static let av1Dropped: Set<UInt8> = [2, 8, 15]
    /// A bound on one OBU (a 4K keyframe is well under this): a hostile length cannot make us allocate without end.
    static let av1MaxOBU = 8 << 20

    static func av1(_ payloads: [ArraySlice<UInt8>]) throws(RTPError) -> EncodedFrame {
        guard let first = payloads.first?.first else { throw RTPError.truncated("empty AV1 payload") }
        guard AV1Aggregation(first).continues == false else { throw RTPError.malformed("AV1 frame starts inside an OBU") }
        var data = av1TemporalDelimiter
        var pending: [UInt8] = []          // an OBU whose bytes go on in the next packet
        var pendingOpen = false
        // A keyframe: N set, or (for senders that leave N alone) a sequence header, which comes with a key frame.
        var keyframe = AV1Aggregation(first).newSequence
        for p in payloads {
            guard let header = p.first else { throw RTPError.truncated("empty AV1 payload") }
            let aggregation = AV1Aggregation(header)
            if aggregation.continues != pendingOpen { throw RTPError.malformed("AV1 OBU fragments do not line up") }
            var i = p.startIndex + 1
            var element = 0
            while i < p.endIndex {
                element += 1
                let length: Int
                if aggregation.count == 0 || element < aggregation.count {
                    let (value, used) = try leb128(p[i...])
                    i += used
                    length = value
                } else {
                    length = p.endIndex - i             // the last of W elements has no length
                }
                guard length >= 0, i + length <= p.endIndex else { throw RTPError.truncated("AV1 OBU element runs past the end") }
                pending += p[i..<(i + length)]
                guard pending.count <= av1MaxOBU else { throw RTPError.limitExceeded("AV1 OBU over \(av1MaxOBU) bytes") }
                i += length
                let last = i >= p.endIndex || (aggregation.count != 0 && element == aggregation.count)
                if last && aggregation.goesOn {
                    pendingOpen = true
                } else {
                    if try appendOBU(pending, to: &data) == 1 { keyframe = true }
                    pending.removeAll(keepingCapacity: true)
                    pendingOpen = false
                }
                if aggregation.count != 0 && element == aggregation.count { break }
            }
        }
        guard !pendingOpen else { throw RTPError.truncated("the frame's last AV1 OBU never ends") }
        guard data.count > av1TemporalDelimiter.count else { throw RTPError.truncated("no AV1 OBUs") }
        return EncodedFrame(data: data, keyframe: keyframe)
    }

    /// Writes one OBU (header, optional extension, payload; with or without its own size field) with a size field;
    /// returns its type (nil for an empty element).
    @discardableResult
    static func appendOBU(_ obu: [UInt8], to data: inout [UInt8]) throws(RTPError) -> UInt8? {
        guard let header = obu.first else { return nil }
        guard header & 0x80 == 0 else { throw RTPError.malformed("AV1 OBU forbidden bit set") }
        let type = (header >> 3) & 0x0F
        if av1Dropped.contains(type) { return type }
        let headerBytes = header & 0x04 != 0 ? 2 : 1
        guard obu.count >= headerBytes else { throw RTPError.truncated("truncated AV1 OBU header") }
        var payload = obu[headerBytes...]
        if header & 0x02 != 0 {                              // it carries its own size: trust it only within the element
            let (size, used) = try leb128(payload)
            guard payload.count - used >= size else { throw RTPError.truncated("AV1 OBU shorter than its size field") }
            payload = payload[(payload.startIndex + used)..<(payload.startIndex + used + size)]
        }
        data.append(header | 0x02)
        if headerBytes == 2 { data.append(obu[1]) }
        var size = payload.count
        repeat {
            let byte = UInt8(size & 0x7F)
            size >>= 7
            data.append(size > 0 ? byte | 0x80 : byte)
        } while size > 0
        data += payload
        return type
    }

    /// An unsigned LEB128 value (at most 8 bytes, as AV1 allows) and the bytes it took.
    static func leb128(_ bytes: ArraySlice<UInt8>) throws(RTPError) -> (value: Int, bytes: Int) {
        var value = 0
        for (n, byte) in bytes.prefix(8).enumerated() {
            value |= Int(byte & 0x7F) << (7 * n)
            if byte & 0x80 == 0 {
                guard value <= av1MaxOBU else { throw RTPError.limitExceeded("AV1 length \(value) over \(av1MaxOBU) bytes") }
                return (value, n + 1)
            }
        }
        throw RTPError.truncated("truncated AV1 length")
    }
}
