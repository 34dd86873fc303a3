import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The small file work of delivery — reading a part of a recording, writing a journal entry so that a crash leaves
/// either the old or the new one — on NIO's blocking-I/O thread pool, never on the cooperative pool.
enum DeliveryFiles {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `count` bytes (fewer at the end) from `offset`.
    static func read(_ path: String, offset: Int, count: Int) async throws -> [UInt8] {
        try await NIOThreadPool.singleton.runIfActive {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
                if n < 0 { if errno == EINTR { continue }; throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                done += n
            }
            bytes.removeLast(count - done)
            return bytes
        }
    }

    /// The file's size; nil when it does not exist.
    static func size(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Writes `bytes` to `path` through a temporary file, flushed to disk and renamed over it.
    static func writeAtomically(_ bytes: [UInt8], to path: String) async throws {
        try await NIOThreadPool.singleton.runIfActive { try writeAtomicallyNow(bytes, to: path) }
    }

    static func writeAtomicallyNow(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 { if errno == EINTR { continue }; close(fd); throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
            done += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    static func remove(_ path: String) async {
        _ = try? await NIOThreadPool.singleton.runIfActive { unlink(path) }
    }

    /// The `.json` files of a folder (made if missing), sorted by name, with their contents.
    static func loadAll(in folder: String) throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            FileManager.default.contents(atPath: "\(folder)/\(name)").map { (name, Array($0)) }
        }
    }
}

/// Reading parts of files for the HTTP layer (downloads), the way uploads read them.
public enum DeliveryFileReader {
    public static func read(_ path: String, offset: Int, count: Int) async throws -> [UInt8] {
        try await DeliveryFiles.read(path, offset: offset, count: count)
    }
}
