import Codecs
import Foundation
import MediaCore
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(1))) struct WriterDurabilityTests {
    func folder(_ name: String) throws -> String {
        let path = TestScratch.path(name)
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A fragmented recording left by a writer that never finished (what a crash leaves).
    func abandonedRecording(in folder: String, frames: Int = 20, audio: Bool = false) throws -> String {
        let size = PixelSize(width: 64, height: 64)
        var writer: CompositeWriter? = try CompositeWriter(path: folder + "/talk.mp4", settings: EncoderSettings(size: size, fps: Rational(10), preset: "ultrafast"))
        let canvas = try VideoCanvas(size: size)
        let silence = [Float](repeating: 0, count: 4800)
        for index in 0..<frames {
            canvas.fill(color: RGBAColor(r: UInt8(index * 4 % 256), g: 80, b: 160, a: 255))
            try writer?.writeVideo(canvas, index: Int64(index))
            // With audio beside it the muxer interleaves, and cuts a fragment every half second.
            if audio { try writer?.writeAudio(left: silence[...], right: silence[...]) }
        }
        writer = nil
        return CompositeWriter.partialPath(for: folder + "/talk.mp4")
    }

    /// Finalizing: the new file is synced, renamed, its folder synced — and only then the fragmented file removed.
    @Test func finalizingSyncsTheFileAndItsFolderBeforeRemovingThePartial() throws {
        let dir = try folder("durable")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let partial = try abandonedRecording(in: dir)
        var synced: [(path: String, partialStillThere: Bool)] = []
        _ = try MP4Finalizer.finalize(partial: partial, into: dir + "/talk.mp4", sync: { descriptor in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")) ?? "?"
            synced.append((target, FileManager.default.fileExists(atPath: partial)))
            return fsync(descriptor)
        })
        #expect(synced.map(\.path) == [dir + "/talk.mp4.finalizing", dir], "\(synced)")
        #expect(synced.allSatisfy { $0.partialStillThere }, "the fragmented file is kept until everything is on disk")
        #expect(!FileManager.default.fileExists(atPath: partial) && FileManager.default.fileExists(atPath: dir + "/talk.mp4"))
    }

    /// A writer whose MP4 header could not be written fails with a clear error — and its clean-up writes no trailer
    /// after the failed header (FFmpeg's muxer state is undefined then).
    @Test func aFailedHeaderIsAnErrorNotACrash() throws {
        let dir = try folder("header")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An out-of-range muxer option makes avformat_write_header fail after the file was opened.
        let settings = EncoderSettings(size: PixelSize(width: 64, height: 64), preset: "ultrafast", fragmentDuration: -5)
        for _ in 0..<3 {
            #expect(throws: MediaError.self) { _ = try CompositeWriter(path: dir + "/bad.mp4", settings: settings) }
        }
    }

    /// A fragmented file cut inside its last fragment (a full disk, a kill mid-write) does not open at all ("corrupted
    /// TRUN atom"); cut back to its last whole fragment, it plays up to there.
    @Test func aFileCutInsideAFragmentPlaysAgainOnceTrimmed() throws {
        let dir = try folder("cut")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let partial = try abandonedRecording(in: dir, frames: 60, audio: true)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: partial)))
        var offset = 0, fragments: [Int] = []
        while offset + 8 <= bytes.count {
            let size = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            if String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self) == "moof" { fragments.append(offset) }
            guard size >= 8 else { break }
            offset += size
        }
        let last = try #require(fragments.last, "no fragments")
        #expect(fragments.count >= 3, "\(fragments.count) fragments")
        #expect(truncate(partial, off_t(last + 40)) == 0)
        #expect((try? decodePictures(partial)) == nil, "the cut file opened before it was trimmed")
        #expect(FragmentedMP4.trimToWholeFragments(partial) == 40)
        let pictures = try decodePictures(partial)
        #expect(pictures.count >= 20 && pictures.count < 60, "\(pictures.count) pictures after trimming")
    }
}
