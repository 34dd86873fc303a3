import CFFmpeg
import MediaCore

/// Mixed 48 kHz stereo waiting for a whole encoder frame: what the recording's AAC encoder and the audio files share.
struct PendingStereo {
    private(set) var left: [Float] = [], right: [Float] = []
    var count: Int { left.count }

    mutating func append(left: ArraySlice<Float>, right: ArraySlice<Float>) {
        self.left.append(contentsOf: left)
        self.right.append(contentsOf: right)
    }

    /// Hands each whole frame of `size` samples to `encode`, then drops them; the rest waits.
    mutating func takeWholeFrames(of size: Int, _ encode: (ArraySlice<Float>, ArraySlice<Float>) throws(MediaError) -> Void) throws(MediaError) {
        var used = 0
        defer { if used > 0 { left.removeFirst(used); right.removeFirst(used) } }
        while left.count - used >= size {
            try encode(left[used..<(used + size)], right[used..<(used + size)])
            used += size
        }
    }

    /// Everything waiting, taken out.
    mutating func takeAll() -> (left: [Float], right: [Float]) {
        defer { left.removeAll(); right.removeAll() }
        return (left, right)
    }
}

/// Fills an audio frame with `left` and `right` (same length), in the frame's sample format: float or 16-bit,
/// planar or interleaved.
func fillStereo(_ frame: UnsafeMutablePointer<AVFrame>, left: ArraySlice<Float>, right: ArraySlice<Float>) {
    let count = left.count
    frame.pointee.nb_samples = Int32(count)
    left.withUnsafeBufferPointer { l in
        right.withUnsafeBufferPointer { r in
            switch AVSampleFormat(frame.pointee.format) {
            case AV_SAMPLE_FMT_FLTP:
                plane(frame, 0).map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self).update(from: l.baseAddress!, count: count) }
                plane(frame, 1).map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self).update(from: r.baseAddress!, count: count) }
            case AV_SAMPLE_FMT_FLT:
                if let data = plane(frame, 0) {
                    let out = UnsafeMutableRawPointer(data).assumingMemoryBound(to: Float.self)
                    for i in 0..<count { out[2 * i] = l[i]; out[2 * i + 1] = r[i] }
                }
            case AV_SAMPLE_FMT_S16P:
                for index in 0..<2 {
                    guard let data = plane(frame, index) else { continue }
                    let out = UnsafeMutableRawPointer(data).assumingMemoryBound(to: Int16.self), channel = index == 0 ? l : r
                    for i in 0..<count { out[i] = s16(channel[i]) }
                }
            default:   // S16, interleaved
                if let data = plane(frame, 0) {
                    let out = UnsafeMutableRawPointer(data).assumingMemoryBound(to: Int16.self)
                    for i in 0..<count { out[2 * i] = s16(l[i]); out[2 * i + 1] = s16(r[i]) }
                }
            }
        }
    }
}

@inline(__always) private func s16(_ x: Float) -> Int16 { Int16(max(-32768, min(32767, (x * 32767).rounded()))) }
