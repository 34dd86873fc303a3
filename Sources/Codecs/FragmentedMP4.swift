#if canImport(Glibc)
import Glibc
#endif

/// A fragmented MP4 cut short (a full disk, a killed writer) can end inside a fragment, and FFmpeg's reader then
/// refuses the whole file ("corrupted TRUN atom"). Cutting it back to its last whole fragment makes it play up to
/// there again. Sans-IO core (`wholeLength`) and the file version (`trimToWholeFragments`).
public enum FragmentedMP4 {
    /// The length of the file that holds only whole top-level boxes and whole fragments (a `moof` with its `mdat`),
    /// given the top-level boxes (`type`, `size`) that lie wholly in the file, in order.
    static func wholeLength(_ boxes: [(type: String, size: Int64)]) -> Int64 {
        var offset: Int64 = 0, whole: Int64 = 0, inFragment = false
        for box in boxes {
            offset += box.size
            switch box.type {
            case "moof": inFragment = true
            case "mdat": inFragment = false; whole = offset
            default: if !inFragment { whole = offset }
            }
        }
        return whole
    }

    /// Cuts the file back to its last whole fragment; returns how many bytes went (0: nothing to cut, or not an MP4).
    @discardableResult
    public static func trimToWholeFragments(_ path: String) -> Int64 {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return 0 }
        let size = Int64(info.st_size)
        var boxes: [(type: String, size: Int64)] = []
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: 16)
        while offset + 8 <= size {
            let got = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 16, off_t(offset)) }
            guard got >= 8 else { break }
            var length = Int64(header[0]) << 24 | Int64(header[1]) << 16 | Int64(header[2]) << 8 | Int64(header[3])
            if length == 1, got == 16 { length = header[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) } }
            let type = String(decoding: header[4..<8], as: UTF8.self)
            guard length >= 8, offset + length <= size else { break }          // 0 (to the end), nonsense, or cut short
            boxes.append((type, length))
            offset += length
        }
        guard boxes.first?.type == "ftyp" else { return 0 }
        let whole = wholeLength(boxes)
        guard whole < size, whole > 0, ftruncate(descriptor, off_t(whole)) == 0 else { return 0 }
        fsync(descriptor)
        return size - whole
    }
}
