import CFFmpeg
import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Turns a fragmented recording into a regular MP4 (index first) by copying its packets, atomically.
public enum MP4Finalizer {
    /// Whether a recording's writer still holds its file (a live process is writing it).
    public static func isBeingWritten(_ partial: String) -> Bool {
        let descriptor = open(partial, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) != 0
    }

    /// Rewrites `partial` as `path` durably: the new file is synced, renamed into place, its directory synced, and only
    /// then the fragmented file removed — so a power cut at any moment leaves one complete recording on disk.
    /// `sync` is `fsync` (tests pass one that also notes what it synced).
    public static func finalize(partial: String, into path: String, annotations: RecordingAnnotations = RecordingAnnotations(),
                                sync: (Int32) -> Int32 = { fsync($0) }) throws(MediaError) -> (duration: Microseconds, bytes: Int64) {
        let temporary = path + ".finalizing"
        let result = try remux(from: partial, to: temporary, annotations: annotations)
        do { try PartialFiles.place(temporary, at: path, sync: sync) } catch {
            unlink(temporary)
            throw error
        }
        unlink(partial)
        return result
    }

    static func remux(from source: String, to destination: String, annotations: RecordingAnnotations) throws(MediaError) -> (duration: Microseconds, bytes: Int64) {
        var input: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_open_input(&input, source, nil, nil), .inputUnreadable, "cannot reopen the recording", at: source)
        defer { avformat_close_input(&input) }
        guard let input else { throw MediaError(.inputUnreadable, "cannot reopen the recording", at: source) }
        try check(avformat_find_stream_info(input, nil), .inputUnreadable, "cannot read the recording", at: source)

        var out: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&out, nil, "mp4", destination), .outputUnwritable, "cannot create an MP4 muxer")
        guard let out else { throw MediaError(.outputUnwritable, "cannot create an MP4 muxer") }
        defer {
            if out.pointee.pb != nil { avio_closep(&out.pointee.pb) }
            avformat_free_context(out)
        }
        let count = Int(input.pointee.nb_streams)
        for i in 0..<count {
            guard let inStream = input.pointee.streams[i], let stream = avformat_new_stream(out, nil) else {
                throw MediaError(.codecFailure, "out of memory")
            }
            try check(avcodec_parameters_copy(stream.pointee.codecpar, inStream.pointee.codecpar), .codecFailure, "bad stream parameters")
            stream.pointee.codecpar.pointee.codec_tag = 0
            stream.pointee.time_base = inStream.pointee.time_base
            stream.pointee.avg_frame_rate = inStream.pointee.avg_frame_rate
        }
        // Timed text (3GPP TS 26.245 `tx3g`): one sample per cue, a 16-bit length then UTF-8.
        var textStream: UnsafeMutablePointer<AVStream>?
        if !annotations.cues.isEmpty {
            guard let stream = avformat_new_stream(out, nil), let par = stream.pointee.codecpar else { throw MediaError(.codecFailure, "out of memory") }
            par.pointee.codec_type = AVMEDIA_TYPE_SUBTITLE
            par.pointee.codec_id = AV_CODEC_ID_MOV_TEXT
            let entry = MP4Finalizer.textSampleEntry
            guard let extradata = av_mallocz(entry.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { throw MediaError(.codecFailure, "out of memory") }
            extradata.copyMemory(from: entry, byteCount: entry.count)
            par.pointee.extradata = extradata.assumingMemoryBound(to: UInt8.self)
            par.pointee.extradata_size = Int32(entry.count)
            stream.pointee.time_base = AVRational(num: 1, den: 1000)
            av_dict_set(&stream.pointee.metadata, "language", "und", 0)
            av_dict_set(&stream.pointee.metadata, "handler_name", "Chat", 0)
            textStream = stream
        }
        // Chapters (at layout changes): the mp4 muxer writes them as a chapter track and a Nero `chpl` list.
        let duration = input.pointee.duration == AV_NOPTS ? 0 : input.pointee.duration
        for (i, chapter) in annotations.chapters.enumerated() {
            let end = i + 1 < annotations.chapters.count ? annotations.chapters[i + 1].start : max(chapter.start + 1000, duration)
            guard let added = mcu_add_chapter(out, Int64(i + 1), chapter.start / 1000, end / 1000, chapter.title) else { continue }
            _ = added
        }
        try check(avio_open(&out.pointee.pb, destination, AVIO_FLAG_WRITE), .outputUnwritable, "cannot write", at: destination)
        var options: OpaquePointer?
        av_dict_set(&options, "movflags", "faststart", 0)
        let header = avformat_write_header(out, &options)
        av_dict_free(&options)
        try check(header, .outputUnwritable, "cannot write the MP4 header", at: destination)
        guard let packet = av_packet_alloc() else { throw MediaError(.codecFailure, "out of memory") }
        var p: UnsafeMutablePointer<AVPacket>? = packet
        defer { av_packet_free(&p) }
        var nextCue = 0
        func writeCues(until time: Microseconds) throws(MediaError) {
            guard let textStream else { return }
            while nextCue < annotations.cues.count, annotations.cues[nextCue].start <= time {
                let cue = annotations.cues[nextCue]
                let index = nextCue
                nextCue += 1
                // Samples of a text track cannot overlap: each one shows every message still on screen, until the
                // next message (or the end of the recording: the file lasts as long as its media).
                var end = duration > 0 ? min(cue.end, duration) : cue.end
                if nextCue < annotations.cues.count { end = min(end, annotations.cues[nextCue].start) }
                guard end > cue.start else { continue }
                let shown = annotations.cues[...index].filter { $0.end > cue.start }.map(\.text).joined(separator: "\n")
                var text = Array(shown.utf8.suffix(65_000))
                while let first = text.first, first & 0xC0 == 0x80 { text.removeFirst() }   // never start mid-character
                guard let cuePacket = av_packet_alloc() else { throw MediaError(.codecFailure, "out of memory") }
                var owned: UnsafeMutablePointer<AVPacket>? = cuePacket
                defer { av_packet_free(&owned) }
                guard av_new_packet(cuePacket, Int32(text.count + 2)) >= 0 else { throw MediaError(.codecFailure, "out of memory") }
                cuePacket.pointee.data[0] = UInt8(text.count >> 8)
                cuePacket.pointee.data[1] = UInt8(text.count & 0xff)
                for (i, byte) in text.enumerated() { cuePacket.pointee.data[2 + i] = byte }
                cuePacket.pointee.stream_index = textStream.pointee.index
                cuePacket.pointee.pts = cue.start / 1000
                cuePacket.pointee.dts = cue.start / 1000
                cuePacket.pointee.duration = max(1, (end - cue.start) / 1000)
                cuePacket.pointee.flags |= AV_PKT_FLAG_KEY
                av_packet_rescale_ts(cuePacket, AVRational(num: 1, den: 1000), textStream.pointee.time_base)
                try check(av_interleaved_write_frame(out, cuePacket), .outputUnwritable, "writing the chat track failed", at: destination)
            }
        }
        while av_read_frame(input, packet) >= 0 {
            let index = Int(packet.pointee.stream_index)
            guard index < count, let inStream = input.pointee.streams[index], let outStream = out.pointee.streams[index] else {
                av_packet_unref(packet); continue
            }
            if packet.pointee.dts != AV_NOPTS {
                try writeCues(until: av_rescale_q(packet.pointee.dts, inStream.pointee.time_base, AVRational(num: 1, den: 1_000_000)))
            }
            av_packet_rescale_ts(packet, inStream.pointee.time_base, outStream.pointee.time_base)
            packet.pointee.pos = -1
            let written = av_interleaved_write_frame(out, packet)
            av_packet_unref(packet)
            try check(written, .outputUnwritable, "writing the final MP4 failed", at: destination)
        }
        try writeCues(until: .max)
        try check(av_write_trailer(out), .outputUnwritable, "cannot complete the final MP4", at: destination)
        let bytes = avio_size(out.pointee.pb)
        avio_closep(&out.pointee.pb)
        return (duration, bytes)
    }

    /// The `tx3g` sample description (3GPP TS 26.245 §5.16): no flags, centred at the bottom, transparent
    /// background, default style (font 1, 18 px, opaque white) and a one-font table ("Sans").
    static let textSampleEntry: [UInt8] = [
        0, 0, 0, 0,  1, 0xFF,  0, 0, 0, 0,                   // displayFlags, justification, background RGBA
        0, 0, 0, 0, 0, 0, 0, 0,                              // BoxRecord
        0, 0, 0, 0, 0, 1, 0, 18, 0xFF, 0xFF, 0xFF, 0xFF,     // StyleRecord
        0, 0, 0, 17, 0x66, 0x74, 0x61, 0x62, 0, 1,           // FontTableBox 'ftab', one entry
        0, 1, 4, 0x53, 0x61, 0x6E, 0x73,                     // font 1: "Sans"
    ]
}

/// What the final MP4 carries besides the media: chat as a timed-text track and chapters.
public struct RecordingAnnotations: Sendable {
    public struct Cue: Sendable { public var start: Microseconds; public var end: Microseconds; public var text: String
        public init(start: Microseconds, end: Microseconds, text: String) { self.start = start; self.end = end; self.text = text } }
    public struct Chapter: Sendable { public var start: Microseconds; public var title: String
        public init(start: Microseconds, title: String) { self.start = start; self.title = title } }
    public var cues: [Cue] = []
    public var chapters: [Chapter] = []
    public init(cues: [Cue] = [], chapters: [Chapter] = []) { self.cues = cues; self.chapters = chapters }

    /// A chapter from `start` on; one that starts no later than the last replaces it (two changes in one frame).
    public mutating func addChapter(at start: Microseconds, title: String) {
        if let last = chapters.last, last.start >= start { chapters.removeLast() }
        chapters.append(Chapter(start: start, title: title))
    }
}
