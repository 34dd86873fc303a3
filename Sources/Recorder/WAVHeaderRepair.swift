#if canImport(Glibc)
import Glibc
#endif

/// A WAV file cut short (its writer killed before it could write the sizes in its header) made whole: the RIFF size
/// and the `data` chunk's size set from the file's length. Sans-IO core (`repairedHeader`), and the file version.
enum WAVHeaderRepair {
    /// The header bytes with the sizes set for a file of `fileSize` bytes; nil when `header` is no RIFF/WAVE file or
    /// has no `data` chunk in it. `blockAlign`: the data is cut to whole sample frames.
    static func repairedHeader(_ header: [UInt8], fileSize: Int64) -> (bytes: [UInt8], dataBytes: Int64, byteRate: Int64)? {
        guard header.count >= 12, fileSize >= 12, header[0..<4] == [0x52, 0x49, 0x46, 0x46], header[8..<12] == [0x57, 0x41, 0x56, 0x45] else { return nil }
        var bytes = header
        func read32(_ at: Int) -> Int64 { Int64(bytes[at]) | Int64(bytes[at + 1]) << 8 | Int64(bytes[at + 2]) << 16 | Int64(bytes[at + 3]) << 24 }
        func write32(_ at: Int, _ value: Int64) {
            let v = UInt32(clamping: value)
            for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
        }
        var offset = 12, blockAlign: Int64 = 1, byteRate: Int64 = 0
        while offset + 8 <= bytes.count {
            let tag = bytes[offset..<(offset + 4)], size = read32(offset + 4)
            if tag == [0x66, 0x6D, 0x74, 0x20], offset + 24 <= bytes.count {           // "fmt "
                byteRate = read32(offset + 16)
                blockAlign = max(1, Int64(bytes[offset + 20]) | Int64(bytes[offset + 21]) << 8)
            }
            if tag == [0x64, 0x61, 0x74, 0x61] {                                       // "data"
                let start = Int64(offset + 8)
                let data = max(0, (fileSize - start) / blockAlign * blockAlign)
                write32(offset + 4, data)
                write32(4, start + data - 8)
                return (bytes, data, byteRate)
            }
            offset += 8 + Int(size) + Int(size & 1)
        }
        return nil
    }

    /// Repairs the file in place; returns its duration in microseconds, nil when it is not a WAV file we can repair.
    static func repair(_ path: String) -> Int64? {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        var header = [UInt8](repeating: 0, count: 4096)
        let got = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard got > 0, let repaired = repairedHeader(Array(header[0..<got]), fileSize: Int64(info.st_size)) else { return nil }
        let written = repaired.bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        guard written == repaired.bytes.count, fsync(descriptor) == 0 else { return nil }
        return repaired.byteRate > 0 ? repaired.dataBytes * 1_000_000 / repaired.byteRate : 0
    }
}
