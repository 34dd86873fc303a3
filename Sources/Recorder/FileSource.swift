import Codecs
import Compositor
import MediaCore
import Synchronization

/// Collects warnings from worker threads.
final class WarningLog: Sendable {
    private let items = Mutex<[String]>([])
    func add(_ message: String) { items.withLock { $0.append(message) } }
    var all: [String] { items.withLock { $0 } }
}

/// A file decoded on its own thread into a `SourceBuffer`.
final class FileSource {
    let reader: MediaFileReader
    let buffer = SourceBuffer(mode: .paced)
    let label: String

    let start: Microseconds

    init(reader: MediaFileReader, label: String, start: Microseconds) {
        self.reader = reader
        self.label = label
        self.start = start
    }

    func start(warnings: WarningLog) throws(MediaError) {
        let buffer = self.buffer
        let label = self.label
        let start = self.start
        let handoff = Handoff(reader)
        try startThread(name: "decode \(label)") {
            let reader = handoff.take()
            var running = true
            while running {
                running = reader.step(onVideo: { if !buffer.pushVideo($0) { running = false } },
                                      onAudio: { if !buffer.pushAudio($0) { running = false } })
            }
            buffer.endVideo()
            buffer.endAudio()
            for warning in reader.warnings { warnings.add("\(label): \(warning)") }
            // A file that stops well before the length its header declares was cut short.
            if let declared = reader.info.duration {
                let decoded = max(reader.lastVideoTime ?? Int64.min, reader.lastAudioEnd ?? Int64.min) - start
                if decoded < declared - 1_500_000 {
                    warnings.add("\(label): decoding ended at \(decimal(Double(max(0, decoded)) / 1e6, 1)) s of the "
                                 + "\(decimal(Double(declared) / 1e6, 1)) s the file declares (damaged or truncated); kept everything before that")
                }
            }
        }
    }
}
