import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// An RTMP(S) push of the recording's encoded stream (YouTube, Twitch, nginx-rtmp…) on a thread of its own, so a
/// slow or dead server never holds up the engine. Packets wait in a queue bounded by bytes (about 8 s of a typical
/// stream); when it is full, or after a reconnect, video resumes at the next keyframe. A lost connection is opened
/// again with backoff (1 s doubling to 15 s) for as long as the recording runs.
/// `@unchecked Sendable`: the queue and state are only touched under `lock`; the muxer only by the push thread.
final class StreamPush: @unchecked Sendable {
    struct Packet { var data: [UInt8]; var video: Bool; var pts: Int64; var dts: Int64; var keyframe: Bool }
    let url: String
    private let lock = ConditionLock()
    private var queue: [Packet] = []
    private var queuedBytes = 0
    private var stopped = false
    private var waitingForKeyframe = true
    private var status = "connecting"
    static let maxQueuedBytes = 8 << 20
    /// The streams' parameters, copied (the writer's may go away first).
    private let videoParameters: UnsafeMutablePointer<AVCodecParameters>
    private let audioParameters: UnsafeMutablePointer<AVCodecParameters>
    private let videoTimeBase: AVRational, audioTimeBase: AVRational

    init(url: String, video: UnsafePointer<AVCodecParameters>, videoTimeBase: AVRational, audio: UnsafePointer<AVCodecParameters>,
         audioTimeBase: AVRational) throws(MediaError) {
        self.url = url
        guard let v = avcodec_parameters_alloc(), let a = avcodec_parameters_alloc() else { throw MediaError(.codecFailure, "out of memory") }
        avcodec_parameters_copy(v, video)
        avcodec_parameters_copy(a, audio)
        videoParameters = v; audioParameters = a
        self.videoTimeBase = videoTimeBase; self.audioTimeBase = audioTimeBase
        try startThread(name: "rtmp push") { [self] in run() }
    }

    deinit {
        var v: UnsafeMutablePointer<AVCodecParameters>? = videoParameters, a: UnsafeMutablePointer<AVCodecParameters>? = audioParameters
        avcodec_parameters_free(&v)
        avcodec_parameters_free(&a)
    }

    var state: String { lock.withLock { status } }

    /// Queues a copy of the packet (engine's thread; never waits).
    func send(_ packet: UnsafeMutablePointer<AVPacket>, video: Bool, pts: Int64, dts: Int64) {
        let keyframe = packet.pointee.flags & AV_PKT_FLAG_KEY != 0
        let size = Int(packet.pointee.size)
        lock.withLock {
            guard !stopped else { return }
            if video && waitingForKeyframe {
                guard keyframe else { return }
                waitingForKeyframe = false
            }
            if queuedBytes + size > StreamPush.maxQueuedBytes {
                // Too far behind: drop what waits and start again at a keyframe.
                queue.removeAll(); queuedBytes = 0; waitingForKeyframe = true
                return
            }
            let data = packet.pointee.data.map { [UInt8](UnsafeBufferPointer(start: $0, count: size)) } ?? []
            queue.append(Packet(data: data, video: video, pts: pts, dts: dts, keyframe: keyframe))
            queuedBytes += size
            lock.broadcast()
        }
    }

    func stop() { lock.withLock { stopped = true; lock.broadcast() } }

    private func next() -> Packet? {
        lock.withLock {
            while queue.isEmpty && !stopped { lock.wait() }
            guard !stopped, !queue.isEmpty else { return nil }
            let packet = queue.removeFirst()
            queuedBytes -= packet.data.count
            return packet
        }
    }

    private func run() {
        var backoff: UInt32 = 1
        while !lock.withLock({ stopped }) {
            do {
                try stream()
                return
            } catch {
                lock.withLock { status = "reconnecting: \(error.message)\(error.underlying.map { " (\($0))" } ?? "")"; queue.removeAll(); queuedBytes = 0; waitingForKeyframe = true }
                for _ in 0..<(backoff * 10) where !lock.withLock({ stopped }) { usleep(100_000) }
                backoff = min(15, backoff * 2)
            }
        }
    }

    /// One connection: open, write until stopped (returns) or failed (throws).
    private func stream() throws(MediaError) {
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, "flv", url), .outputUnwritable, "cannot create the FLV muxer")
        guard let ctx else { throw MediaError(.outputUnwritable, "cannot create the FLV muxer") }
        defer {
            if ctx.pointee.pb != nil { avio_closep(&ctx.pointee.pb) }
            avformat_free_context(ctx)
        }
        for parameters in [videoParameters, audioParameters] {
            guard let stream = avformat_new_stream(ctx, nil) else { throw MediaError(.codecFailure, "out of memory") }
            avcodec_parameters_copy(stream.pointee.codecpar, parameters)
            stream.pointee.codecpar.pointee.codec_tag = 0
        }
        var options: OpaquePointer?
        av_dict_set(&options, "rw_timeout", "5000000", 0)     // a server that stops answering is a lost connection
        let opened = avio_open2(&ctx.pointee.pb, url, AVIO_FLAG_WRITE, nil, &options)
        av_dict_free(&options)
        try check(opened, .outputUnwritable, "cannot connect", at: url)
        try check(avformat_write_header(ctx, nil), .outputUnwritable, "the server refused the stream", at: url)
        lock.withLock { status = "connected" }
        guard let packet = av_packet_alloc() else { throw MediaError(.codecFailure, "out of memory") }
        var owned: UnsafeMutablePointer<AVPacket>? = packet
        defer { av_packet_free(&owned) }
        while let item = next() {
            guard av_new_packet(packet, Int32(item.data.count)) >= 0 else { throw MediaError(.codecFailure, "out of memory") }
            item.data.withUnsafeBufferPointer { source in packet.pointee.data?.update(from: source.baseAddress!, count: item.data.count) }
            packet.pointee.pts = item.pts
            packet.pointee.dts = item.dts
            packet.pointee.flags = item.keyframe ? AV_PKT_FLAG_KEY : 0
            packet.pointee.stream_index = item.video ? 0 : 1
            if let stream = ctx.pointee.streams[item.video ? 0 : 1] {
                av_packet_rescale_ts(packet, item.video ? videoTimeBase : audioTimeBase, stream.pointee.time_base)
            }
            let written = av_interleaved_write_frame(ctx, packet)
            av_packet_unref(packet)
            try check(written, .outputUnwritable, "the connection was lost", at: url)
        }
        av_write_trailer(ctx)
    }
}
