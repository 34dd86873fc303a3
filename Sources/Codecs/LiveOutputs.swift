import CFFmpeg
import MediaCore

/// Live outputs fed with the recording's own encoded packets — no second composite: an HLS stream (`HLSStream`) and
/// RTMP pushes (`StreamPush`, on threads of their own) reuse the recording's encoder; smaller HLS renditions
/// (`HLSRendition`) scale the canvas once each and pay only for their own encoder. With renditions, `index.m3u8` is
/// the master playlist and each size has its own media playlist (`720p.m3u8`, `480p.m3u8`). Packets carry an offset
/// (where the part began), so the outputs run on one timeline across a recording's parts; audio a new part's encoder
/// repeats (its priming) is left out. Engine's thread only; not Sendable.
public final class LiveOutputs {
    public let hlsFolder: String?
    public let pushURLs: [String]
    /// Seconds per HLS segment (segments end on keyframes: the recording's keyframe interval decides).
    public let segmentDuration: Double
    private var hls: HLSStream?
    private var renditions: [HLSRendition] = []
    private var pushes: [StreamPush] = []
    private var opened = false
    private var failed: String?
    private var videoTimeBase = AVRational(num: 1, den: 30), audioTimeBase = AVRational(num: 1, den: 48_000)
    private var nextAudio = Int64.min
    private var frameRate = 30.0
    /// What the API shows of these outputs.
    public let status = LiveOutputStatus()
    private var reportedError: String?
    private var finished = false

    /// `renditions`: heights of extra HLS renditions (each scaled from the canvas, keeping its aspect), encoded with
    /// the recording's settings (which must then keep keyframes fixed: `EncoderSettings.fixedKeyframes`).
    public init(hlsFolder: String?, pushURLs: [String], segmentDuration: Double = 2, renditions: [Int] = [], recording: EncoderSettings? = nil) {
        self.hlsFolder = hlsFolder
        self.pushURLs = pushURLs
        self.segmentDuration = segmentDuration
        guard hlsFolder != nil, let recording else { return }
        frameRate = recording.fps.doubleValue
        for height in Set(renditions).sorted(by: >) where height < recording.size.height {
            let width = Int((Double(recording.size.width * height) / Double(recording.size.height) / 2).rounded()) * 2
            do { self.renditions.append(try HLSRendition(size: PixelSize(width: width, height: height), recording: recording)) } catch {
                failed = "the \(height)p rendition: \(error)"
                
            }
        }
        
    }

    deinit { finish() }

    /// Why HLS (or one of its renditions) stopped, if it did (the recording goes on regardless).
    public var hlsError: String? { failed ?? hls?.failed ?? renditions.lazy.compactMap { $0.stream?.failed }.first }
    /// Each push's state (connected or why not).
    public var pushStates: [(url: String, state: String)] { pushes.map { ($0.url, $0.state) } }
    /// The sizes of the extra renditions.
    public var renditionSizes: [PixelSize] { renditions.map(\.size) }

    /// Called by the writer with its first packet: the streams' parameters.
    func open(video: UnsafePointer<AVCodecParameters>, videoTimeBase: AVRational, audio: UnsafePointer<AVCodecParameters>, audioTimeBase: AVRational) {
        guard !opened else { return }
        opened = true
        self.videoTimeBase = videoTimeBase
        self.audioTimeBase = audioTimeBase
        if let hlsFolder {
            do throws(MediaError) {
                hls = try HLSStream(folder: hlsFolder, name: renditions.isEmpty ? nil : "\(video.pointee.height)p", segmentDuration: segmentDuration,
                                    video: video, videoTimeBase: videoTimeBase, audio: audio, audioTimeBase: audioTimeBase)
                try openRenditions(folder: hlsFolder, audio: audio)
            } catch {
                failed = "\(error)"
            }
            writeMasterPlaylist()
        }
        for url in pushURLs {
            if let push = try? StreamPush(url: url, video: video, videoTimeBase: videoTimeBase, audio: audio, audioTimeBase: audioTimeBase) { pushes.append(push) }
        }
        status.opened(hls: hls != nil, renditions: renditions.map(\.size), pushes: pushes)
        reportFailure()
    }

    private func reportFailure() {
        guard let error = hlsError, error != reportedError else { return }
        reportedError = error
        status.failed(error)
    }

    private func openRenditions(folder: String, audio: UnsafePointer<AVCodecParameters>) throws(MediaError) {
        guard !renditions.isEmpty else { return }
        guard let parameters = avcodec_parameters_alloc() else { throw MediaError(.codecFailure, "out of memory") }
        defer { var p: UnsafeMutablePointer<AVCodecParameters>? = parameters; avcodec_parameters_free(&p) }
        for rendition in renditions {
            try check(rendition.parameters(into: parameters), .codecFailure, "bad stream parameters")
            rendition.stream = try HLSStream(folder: folder, name: "\(rendition.size.height)p", segmentDuration: segmentDuration,
                                             video: parameters, videoTimeBase: rendition.timeBase, audio: audio, audioTimeBase: audioTimeBase)
        }
    }

    /// One encoded packet (in its encoder's time base), `offset` ticks after the start of the recording.
    func write(_ packet: UnsafeMutablePointer<AVPacket>, video: Bool, offset: Int64) {
        guard opened else { return }
        let pts = packet.pointee.pts + offset, dts = packet.pointee.dts + offset
        if !video {
            // A new part's encoder starts with priming the previous one already covered.
            guard pts >= nextAudio else { return }
            nextAudio = pts + packet.pointee.duration
        }
        for push in pushes { push.send(packet, video: video, pts: pts, dts: dts) }
        hls?.write(packet, video: video, pts: pts, dts: dts)
        if !video { for rendition in renditions { rendition.stream?.write(packet, video: false, pts: pts, dts: dts) } }
        reportFailure()
    }

    /// The composite of output frame `index`, for the renditions; `keyframe`: the recording's encoder makes it one;
    /// `preset`: the recording's preset in force. A failing rendition stops alone.
    public func encodeRenditions(_ canvas: VideoCanvas, index: Int64, keyframe: Bool, preset: String) {
        guard !renditions.isEmpty else { return }
        var failedAt: Int?
        for (i, rendition) in renditions.enumerated() {
            do { try rendition.encode(canvas, index: index, keyframe: keyframe, preset: preset) } catch {
                failed = "the \(rendition.size.height)p rendition: \(error)"
                failedAt = i
            }
        }
        if let failedAt {
            renditions[failedAt].stream?.finish()
            renditions.remove(at: failedAt)
            reportFailure()
        }
    }

    /// Ends the outputs: renditions drain, playlists get `EXT-X-ENDLIST` (the master its measured bit rates), pushes stop.
    public func finish() {
        guard !finished else { return }
        finished = true
        for rendition in renditions { rendition.finish() }
        if hls != nil { writeMasterPlaylist() }
        hls?.finish()
        for rendition in renditions { rendition.stream?.finish() }
        for push in pushes { push.stop() }
        pushes.removeAll()
    }

    private func writeMasterPlaylist() {
        guard let hlsFolder, !renditions.isEmpty, let hls else { return }
        let streams = [hls] + renditions.compactMap(\.stream)
        let text = HLSMasterPlaylist.text(streams.map { stream in
            HLSMasterPlaylist.Variant(uri: stream.playlistName, width: stream.width, height: stream.height, codecs: stream.codecs,
                                      frameRate: frameRate, bandwidth: stream.bandwidth)
        })
        do { try HLSMasterPlaylist.write(text, to: hlsFolder + "/index.m3u8") } catch { failed = "\(error)" }
    }
}
