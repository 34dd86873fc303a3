import MediaCore
import Synchronization

/// How a recording's live outputs are doing, readable from any thread (the API) while the engine's thread writes
/// them: HLS (and why it stopped, if it did), the renditions, each RTMP push's state.
public final class LiveOutputStatus: Sendable {
    public struct Report: Sendable, Equatable {
        public var hls: Bool
        public var hlsError: String?
        public var renditions: [PixelSize]
        /// Push URLs without their last path segment (the stream key), and their state.
        public var pushes: [Push]
        public struct Push: Sendable, Equatable {
            public var url: String; public var state: String
            public init(url: String, state: String) { self.url = url; self.state = state }
        }
        public init(hls: Bool, hlsError: String? = nil, renditions: [PixelSize] = [], pushes: [Push] = []) {
            self.hls = hls; self.hlsError = hlsError; self.renditions = renditions; self.pushes = pushes
        }
    }

    private struct Snapshot {
        var hls = false, hlsError: String?, renditions: [PixelSize] = [], pushes: [StreamPush] = []
    }
    private let snapshot = Mutex(Snapshot())

    init() {}

    public var report: Report {
        let s = snapshot.withLock { $0 }
        return Report(hls: s.hls, hlsError: s.hlsError, renditions: s.renditions,
                      pushes: s.pushes.map { Report.Push(url: LiveOutputStatus.redacted($0.url), state: $0.state) })
    }

    func opened(hls: Bool, renditions: [PixelSize], pushes: [StreamPush]) {
        snapshot.withLock { $0.hls = hls; $0.renditions = renditions; $0.pushes = pushes }
    }

    func failed(_ error: String) { snapshot.withLock { $0.hlsError = error } }

    /// `rtmp://live.example.com/app/SECRET` → `rtmp://live.example.com/app/…`: stream keys are credentials.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let slash = url.lastIndex(of: "/"), slash > scheme.upperBound,
              url[url.index(after: slash)...].isEmpty == false else { return url }
        return String(url[...slash]) + "…"
    }
}
