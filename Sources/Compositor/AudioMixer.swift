import MediaCore

/// Sums the sources' 48 kHz stereo audio in 20 ms blocks: per-source gain, silence for gaps, a limiter that
/// keeps the sum inside full scale (no wrap-around, no hard clipping in normal use), and a level per source
/// per block for the active-speaker detector. Runs on the compositor's thread only.
public final class AudioMixer {
    public static let blockSamples = 960

    public private(set) var left = [Float](repeating: 0, count: AudioMixer.blockSamples)
    public private(set) var right = [Float](repeating: 0, count: AudioMixer.blockSamples)
    private var limiterGain: Float = 1
    /// Dual-channel mixes: the right channel's sources summed here first.
    private var otherLeft = [Float](repeating: 0, count: AudioMixer.blockSamples)
    private var otherRight = [Float](repeating: 0, count: AudioMixer.blockSamples)
    /// Linear RMS of each source in the last block.
    public private(set) var levels: [String: Float] = [:]

    public init() {}

    public struct Input {
        public var id: String
        public var buffer: SourceBuffer
        public var gain: Float
        public init(id: String, buffer: SourceBuffer, gain: Float) { self.id = id; self.buffer = buffer; self.gain = gain }
    }

    /// Mixes `count` (≤ blockSamples) samples starting at absolute sample `position`. With `leftChannel`, a
    /// dual-channel mix: those sources in mono on the left, all the others in mono on the right.
    public func mix(_ inputs: [Input], position: Int64, count: Int = AudioMixer.blockSamples,
                    leftChannel: Set<String>? = nil) -> (left: ArraySlice<Float>, right: ArraySlice<Float>) {
        precondition(count <= AudioMixer.blockSamples)
        Self.withPair(&left, &right) { l, r in for i in 0..<count { l[i] = 0; r[i] = 0 } }
        if let leftChannel {
            Self.withPair(&otherLeft, &otherRight) { l, r in for i in 0..<count { l[i] = 0; r[i] = 0 } }
            for input in inputs {
                levels[input.id] = leftChannel.contains(input.id)
                    ? input.buffer.mix(into: &left, &right, position: position, count: count, gain: input.gain)
                    : input.buffer.mix(into: &otherLeft, &otherRight, position: position, count: count, gain: input.gain)
            }
            Self.withPair(&otherLeft, &otherRight) { otherL, otherR in
                Self.withPair(&left, &right) { l, r in
                    for i in 0..<count {
                        l[i] = (l[i] + r[i]) * 0.5
                        r[i] = (otherL[i] + otherR[i]) * 0.5
                    }
                }
            }
        } else {
            for input in inputs {
                levels[input.id] = input.buffer.mix(into: &left, &right, position: position, count: count, gain: input.gain)
            }
        }
        limit(count)
        return (left[0..<count], right[0..<count])
    }

    /// Gain reduction that follows the block peak down at once (ramped over the block, so no click) and
    /// recovers over about half a second.
    private func limit(_ count: Int) {
        limiterGain = Self.withPair(&left, &right) { l, r in Self.limit(l, r, count: count, from: limiterGain) }
    }

    private static func limit(_ left: UnsafeMutableBufferPointer<Float>, _ right: UnsafeMutableBufferPointer<Float>,
                              count: Int, from limiterGain: Float) -> Float {
        var peak: Float = 0
        for i in 0..<count { peak = max(peak, abs(left[i]), abs(right[i])) }
        let ceiling: Float = 0.97
        let target = peak * limiterGain > ceiling ? ceiling / peak : min(1, limiterGain + (1 - limiterGain) * 0.04)
        let start = limiterGain
        let end = min(target, peak > 0 ? max(target, 0) : target)
        if start == 1 && end == 1 { return end }
        let step = (end - start) / Float(max(1, count))
        var g = start
        for i in 0..<count {
            g += step
            let gain = min(g, peak > 0 ? ceiling / peak : 1)
            left[i] = max(-1, min(1, left[i] * gain))
            right[i] = max(-1, min(1, right[i] * gain))
        }
        return end
    }

    /// Both channels' storage for a loop over every sample: one exclusivity check per block rather than two per
    /// sample (the arrays are stored properties of a class).
    private static func withPair<R>(_ left: inout [Float], _ right: inout [Float],
                                    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> R) -> R {
        left.withUnsafeMutableBufferPointer { l in right.withUnsafeMutableBufferPointer { r in body(l, r) } }
    }

    /// A source that left for good: its level goes.
    public func forget(_ id: String) { levels[id] = nil }
}
