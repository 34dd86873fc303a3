import Codecs
import Compositor
import MediaCore
import Text
#if canImport(Glibc)
import Glibc
#endif

/// One encoded frame a publisher sends, on the feed's timeline (microseconds from the feed's start).
struct FeedPacket {
    var video: Bool
    var data: [UInt8]
    var time: Microseconds
    var keyframe: Bool
}

/// What a publisher sends: VP8 and Opus frames in time order.
protocol MediaFeed: AnyObject {
    /// The next frame, or nil at the end.
    func next() throws(MediaError) -> FeedPacket?
    /// The far side lost its reference (PLI): make the next video frame a keyframe if the feed can.
    func requestKeyframe()
}

/// A pre-encoded VP8 + Opus file (WebM), looped when `loop` is set: costs almost nothing to send, for load tests.
final class FileFeed: MediaFeed {
    private let path: String
    private let loop: Bool
    private var demuxer: MediaFileDemuxer
    private var offset: Microseconds = 0
    private var last: Microseconds = 0

    init(path: String, loop: Bool) throws(MediaError) {
        self.path = path
        self.loop = loop
        demuxer = try MediaFileDemuxer(path: path)
    }

    func next() throws(MediaError) -> FeedPacket? {
        while true {
            if let packet = demuxer.next() {
                guard packet.codec == "vp8" || packet.codec == "opus" else {
                    throw MediaError(.unsupportedCodec, "the publisher sends VP8 and Opus; this file has \(packet.codec)", at: path)
                }
                last = max(last, packet.time)
                return FeedPacket(video: packet.video, data: packet.data, time: offset + packet.time, keyframe: packet.keyframe)
            }
            guard loop, last > 0 else { return nil }
            offset += last + 33_333
            last = 0
            demuxer = try MediaFileDemuxer(path: path)
        }
    }

    /// A file has the keyframes it has.
    func requestKeyframe() {}
}

/// A live test signal encoded as it goes (VP8 by libvpx, Opus by libopus): a coloured picture with a moving
/// bar and a frame counter, and once a second a white flash with a beep at the same instant, so lip sync can
/// be measured on the far side (the flash frame and the beep's first sample share a timestamp).
final class PatternFeed: MediaFeed {
    static let beepLength: Microseconds = 100_000

    private var size: PixelSize
    private let fps: Int
    private let colour: RGBAColor
    private let tone: Double
    private var canvas: VideoCanvas
    private var video: VP8Encoder
    /// Churn: the picture changes size this often (frames), cycling through `sizes` (a camera switching modes).
    private let resizeFrames: Int64?
    private let sizes: [PixelSize]
    private let audio: OpusEncoder
    private let text: TextRenderer?
    private var frameIndex: Int64 = 0
    private var audioSamples: Int64 = 0
    private var pending: [FeedPacket] = []
    private var keyframeWanted = true
    private var interleaved: [Float]

    init(size: PixelSize, fps: Int, colour: RGBAColor, tone: Double, resizeEvery: Double? = nil) throws(MediaError) {
        self.size = size
        resizeFrames = resizeEvery.map { max(1, Int64(($0 * Double(fps)).rounded())) }
        // The size given, half of it, a 16:9 and a portrait one (even sides).
        sizes = [size, PixelSize(width: size.width / 2 & ~1, height: size.height / 2 & ~1),
                 PixelSize(width: size.width & ~1, height: (size.width * 9 / 16) & ~1), PixelSize(width: size.height * 3 / 4 & ~1, height: size.height & ~1)]
        self.fps = fps
        self.colour = colour
        self.tone = tone
        canvas = try VideoCanvas(size: size)
        video = try VP8Encoder(size: size, fps: fps, bitrate: min(2_500_000, size.width * size.height * 3))
        audio = try OpusEncoder()
        text = try? TextRenderer()
        interleaved = [Float](repeating: 0, count: audio.frameSamples * 2)
    }

    func requestKeyframe() { keyframeWanted = true }

    func next() throws(MediaError) -> FeedPacket? {
        while pending.isEmpty {
            let videoTime = frameIndex * 1_000_000 / Int64(fps)
            let audioTime = audioSamples * 1_000_000 / Int64(AudioSamples.sampleRate)
            if videoTime <= audioTime {
                if let every = resizeFrames, frameIndex > 0, frameIndex % every == 0 {
                    size = sizes[Int(frameIndex / every) % sizes.count]
                    canvas = try VideoCanvas(size: size)
                    video = try VP8Encoder(size: size, fps: fps, bitrate: min(2_500_000, size.width * size.height * 3))
                    keyframeWanted = true
                }
                draw(frame: frameIndex)
                let packets = try video.encode(canvas, index: frameIndex, keyframe: keyframeWanted)
                keyframeWanted = false
                pending += packets.map { FeedPacket(video: true, data: $0.data, time: $0.time, keyframe: $0.keyframe) }
                frameIndex += 1
            } else {
                fillAudio(from: audioSamples)
                let packets = try audio.encode(interleaved: interleaved)
                pending += packets.map { FeedPacket(video: false, data: $0.data, time: $0.time, keyframe: true) }
                audioSamples += Int64(audio.frameSamples)
            }
        }
        return pending.removeFirst()
    }

    private func draw(frame index: Int64) {
        try? canvas.makeWritable()
        if index % Int64(fps) == 0 {
            canvas.fill(color: .white)   // the flash, with the beep
            return
        }
        canvas.fill(color: colour)
        // A bar sweeping across once a second shows motion (and frozen pictures).
        let barWidth = max(2, size.width / 16) & ~1
        let x = Int(index % Int64(fps)) * (size.width - barWidth) / max(1, fps - 1)
        canvas.fill(PixelRect(x: x & ~1, y: size.height - size.height / 8, width: barWidth, height: size.height / 8),
                    color: RGBAColor(r: 32, g: 32, b: 32))
        if let text {
            let mask = text.render("frame \(index)", size: max(12, size.height / 12))
            canvas.blend(mask, x: size.width / 20, y: size.height / 20, color: .white)
        }
    }

    /// Silence, and a beep in the first `beepLength` of every second.
    private func fillAudio(from start: Int64) {
        let rate = Int64(AudioSamples.sampleRate)
        let beepSamples = PatternFeed.beepLength * rate / 1_000_000
        for i in 0..<audio.frameSamples {
            let n = start + Int64(i)
            let inSecond = n % rate
            var value: Float = 0
            if inSecond < beepSamples {
                value = Float(0.5 * sin(2 * Double.pi * tone * Double(inSecond) / Double(rate)))
            }
            interleaved[2 * i] = value
            interleaved[2 * i + 1] = value
        }
    }
}
