import Codecs
import Compositor
import MediaCore

/// One participant's media on its way to the compositor. Its tracks are grouped into feeds, each its own source in
/// the engine: the camera with the first microphone; each further video track (a screen share, a second camera)
/// with a tile of its own; each further microphone, mixed but without a tile. Every track has a decoder thread
/// writing into its feed's buffer; the optional track file gets every track as received.
struct ParticipantPipeline: Sendable {
    /// One engine source's worth of a participant's tracks.
    struct Feed: Sendable, Equatable {
        /// "" for the participant's main feed; otherwise the mid of the track that makes it.
        let key: String
        let videoMid: String?
        let audioMid: String?
        let role: SourceDescriptor.Role
        /// False for a further microphone: mixed, never given a tile.
        let tiled: Bool

        /// Its source's id in the engine, from the participant's main one.
        func sourceID(main: String) -> String { key.isEmpty ? main : "\(main)#\(key)" }

        /// The name its tile shows, from the participant's.
        func name(_ participant: String) -> String {
            if key.isEmpty { return participant }
            return role == .screen ? "\(participant) (screen)" : tiled ? "\(participant) (\(key))" : participant
        }
    }

    let feeds: [Feed]
    /// One buffer per feed, in the same order.
    let buffers: [SourceBuffer]
    let decoders: [String: TrackDecoder]
    let writer: TrackFileWriter?

    /// How `tracks` group into feeds; `screens`: the mids of video tracks that are screen shares.
    static func feeds(for tracks: [(mid: String, kind: String, codec: String)], screens: Set<String>) -> [Feed] {
        let videos = tracks.filter { $0.kind == "video" }.map(\.mid), audios = tracks.filter { $0.kind == "audio" }.map(\.mid)
        let camera = videos.first { !screens.contains($0) }
        var feeds: [Feed] = []
        if camera != nil || !audios.isEmpty {
            feeds.append(Feed(key: "", videoMid: camera, audioMid: audios.first, role: .camera, tiled: true))
        }
        for mid in videos where mid != camera {
            feeds.append(Feed(key: feeds.isEmpty ? "" : mid, videoMid: mid, audioMid: nil, role: screens.contains(mid) ? .screen : .camera, tiled: true))
        }
        for mid in audios.dropFirst() { feeds.append(Feed(key: mid, videoMid: nil, audioMid: mid, role: .camera, tiled: false)) }
        return feeds
    }

    /// Starts a decoder per track (and the track file). A failure stops whatever it had started. Without
    /// `decodeVideo` (audio-only rooms) video tracks are neither decoded nor written: they cost nothing.
    init(tracks: [(mid: String, kind: String, codec: String)], screens: Set<String>, trackFile: String?, now: Microseconds,
         decodeVideo: Bool = true, needKeyframe: @escaping @Sendable (_ mid: String) -> Void) throws(MediaError) {
        let feeds = ParticipantPipeline.feeds(for: tracks, screens: screens)
        let buffers = feeds.map { _ in SourceBuffer(mode: .live) }
        let kept = decodeVideo ? tracks : tracks.filter { $0.kind == "audio" }
        var writer: TrackFileWriter?
        if let trackFile, !kept.isEmpty {
            writer = try TrackFileWriter(path: trackFile + "." + TrackRecorder.fileExtension(for: kept.map(\.codec)), tracks: kept)
        }
        var decoders: [String: TrackDecoder] = [:]
        do {
            for track in kept {
                let mid = track.mid
                guard let feed = feeds.firstIndex(where: { $0.videoMid == mid || $0.audioMid == mid }) else { continue }
                decoders[mid] = try TrackDecoder(codec: track.codec, buffer: buffers[feed], needKeyframe: { needKeyframe(mid) },
                                                 firstPicture: { [writer] in writer?.noteVideoSize($0, mid: mid) }, now: now)
            }
        } catch {
            // A join that fails leaves nothing running: the decoders and the track file started so far end.
            for decoder in decoders.values { decoder.stop() }
            writer?.close()
            throw error
        }
        self.feeds = feeds; self.buffers = buffers; self.decoders = decoders; self.writer = writer
    }

    var hasVideo: Bool { feeds.contains { $0.videoMid != nil } }
    var videoMids: [String] { feeds.compactMap(\.videoMid) }

    /// Decoders stop; the buffers stop taking and giving.
    func stopDecoding() { for decoder in decoders.values { decoder.stop() } }
    func cancel() { stopDecoding(); for buffer in buffers { buffer.cancel() } }
}
