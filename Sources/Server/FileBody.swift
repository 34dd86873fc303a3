import Delivery
import Hummingbird
import NIOCore

/// A file (or a range of it) as a response body, read in 256 KiB chunks on NIO's blocking-I/O pool as the client
/// takes them: a recording of any size is sent without being held in memory, and no read runs on the cooperative pool.
enum FileBody {
    static let chunk = 256 << 10

    static func body(path: String, range: ClosedRange<Int>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let count = min(chunk, range.upperBound - offset + 1)
                let bytes = try await DeliveryFileReader.read(path, offset: offset, count: count)
                guard !bytes.isEmpty else { break }          // the file was cut short meanwhile
                try await writer.write(ByteBuffer(bytes: bytes))
                offset += bytes.count
            }
            try await writer.finish(nil)
        }
    }
}
