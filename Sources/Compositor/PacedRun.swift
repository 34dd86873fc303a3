import Codecs
import Layout
import MediaCore

/// Composing files: as fast as the machine goes, with changes replayed at their times (an events file).
extension CompositionEngine {
    /// Paced runs: changes at set times on the output timeline (a replayed events file), applied before the first
    /// frame at or after their time. Call before `runToEnd`.
    public func schedule(at time: Microseconds, _ change: @escaping (CompositionEngine) -> Void) {
        let index = scheduled.firstIndex { $0.time > time } ?? scheduled.count
        scheduled.insert((time, change), at: index)
    }

    /// Paced run over sources that all end (files): returns when the last one has ended.
    public func runToEnd(progress: (Microseconds) -> Void, shouldStop: () -> Bool) throws(MediaError) {
        compositor.sharpScaling = true
        while !shouldStop() {
            let t = fps.tickTime(frameIndex)
            var pictures: [String: VideoPicture] = [:]
            let nextTick = fps.tickTime(frameIndex + 1)
            for source in sources where source.descriptor.hasVideo {
                // A first picture stamped before the next tick is due stands in from the source's first tick.
                let firstBy = source.descriptor.start <= t + halfFrame ? nextTick + halfFrame : nil
                if let p = source.buffer.picture(atOrBefore: t + halfFrame, firstBy: firstBy) { pictures[source.descriptor.id] = p }
            }
            var allEnded = true
            var end: Microseconds = 0
            for source in sources {
                if let ended = source.buffer.endTime {
                    if source.descriptor.end.map({ ended < $0 }) ?? true { source.descriptor.end = ended }
                    end = max(end, ended)
                } else {
                    allEnded = false
                }
            }
            // 1 ms of slack: containers round timestamps to milliseconds.
            if allEnded && t >= end - 1_000 { break }
            while let next = scheduled.first, next.time <= t {
                scheduled.removeFirst()
                next.change(self)
            }
            try tick(time: t, pictures: pictures)
            progress(t)
        }
        // Audio up to the exact end of the last frame.
        try mixAudio(until: (origin + fps.tickTime(frameIndex)) * Int64(AudioSamples.sampleRate) / 1_000_000)
    }
}
