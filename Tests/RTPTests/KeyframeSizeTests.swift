import Testing
@testable import RTP

@Suite struct KeyframeSizeTests {
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)...].prefix(2), radix: 16)! }
    }

    /// Sequence parameter sets from libx264 (baseline, high with cropping, main): the cropped size, alone and in a STAP-A.
    @Test func h264SizesComeFromTheSPS() {
        let cases: [(String, Int, Int)] = [("6742c01fd9005005bb011000000300100000030320f1832480", 1280, 720),
                                           ("6764001eacd940a02ff97011000003000100000300320f162d96", 640, 360),
                                           ("674d4028eca03c0113f2e022000003000200000300641e30632c", 1920, 1080)]
        for (hex, width, height) in cases {
            let sps = Self.bytes(hex)
            #expect(KeyframeSize.of(.h264, payload: sps[...]) == PictureSize(width: width, height: height), "\(hex)")
            let stap: [UInt8] = [24, 0, 2, 0x09, 0xF0, UInt8(sps.count >> 8), UInt8(sps.count & 0xFF)] + sps
            #expect(KeyframeSize.of(.h264, payload: stap[...]) == PictureSize(width: width, height: height))
        }
        #expect(KeyframeSize.of(.h264, payload: [0x65, 0x88, 0x84][...]) == nil, "a slice says nothing")
    }

    /// VP8: the key frame header after the payload descriptor (with a 15-bit picture id); VP9: the scalability
    /// structure's largest layer.
    @Test func vp8AndVP9SizesComeFromTheirHeaders() {
        let vp8: [UInt8] = [0x90, 0x80, 0x81, 0x23, 0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01, 0x00]
        #expect(KeyframeSize.of(.vp8, payload: vp8[...]) == PictureSize(width: 640, height: 360))
        var interframe = vp8; interframe[4] = 0x51
        #expect(KeyframeSize.of(.vp8, payload: interframe[...]) == nil)
        // I=1 (15-bit picture id), V=1; SS: N_S=1 (two layers), Y=1, then 320x180 and 640x360.
        let vp9: [UInt8] = [0x8A, 0x80, 0x01, 0x30, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68]
        #expect(KeyframeSize.of(.vp9, payload: vp9[...]) == PictureSize(width: 640, height: 360))
    }

    /// Any bytes at all: a size or nil, never a trap.
    @Test func garbageNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<40, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !bytes.isEmpty && Bool.random(using: &generator) { bytes[0] = [0x67, 24, 0x90, 0x8A][Int.random(in: 0..<4, using: &generator)] }
            for codec in [RTPCodec.vp8, .vp9, .h264] { _ = KeyframeSize.of(codec, payload: bytes[...]) }
        }
    }
}
