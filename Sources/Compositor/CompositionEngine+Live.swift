import Codecs
import MediaCore

/// Live runs: the output clock against the room clock, overload, pauses.
extension CompositionEngine {
    /// Live run: tick `n` (room time origin + n/fps) is made once the clock passes it by `latency`, so packets
    /// that arrive a little late still make their frame. Never waits for a source: a stalled one holds its last
    /// picture, one with nothing yet shows its slate. `sleep` waits (tests pass a fake clock and sleep).
    public func runLive(origin: Microseconds, latency: Microseconds, now: () -> Microseconds, sleep: (Microseconds) -> Void,
                        shouldStop: () -> Bool) throws(MediaError) {
        self.origin = origin
        audioPosition = origin * Int64(AudioSamples.sampleRate) / 1_000_000
        while !shouldStop() {
            let t = origin + fps.tickTime(frameIndex)
            let due = t + latency - now()
            if due > 0 { sleep(due); continue }
            lastLag = -due
            maxLag = max(maxLag, lastLag)
            applyChanges()
            while let next = pauseSwitches.first, next.time <= t {
                pauseSwitches.removeFirst()
                paused = next.paused
            }
            if paused { try pausedTick(time: t); continue }
            // A second after a source left the timeline nothing reads its buffer again.
            for source in sources where !source.released && (source.descriptor.end.map { $0 + 1_000_000 < t } ?? false) {
                release(source)
            }
            let clock = now()
            for sink in sinks { try sink.observe(lag: lastLag, frame: outputIndex, now: clock) }
            // Under load a sink may take fewer frames: a tick none takes costs only its audio.
            guard sinks.contains(where: { $0.takes(frame: outputIndex) }) else { try skipTick(time: t); continue }
            var pictures: [String: VideoPicture] = [:]
            for source in sources where source.descriptor.isPresent(at: t) {
                if let p = source.buffer.picture(atOrBefore: t + halfFrame) { pictures[source.descriptor.id] = p }
            }
            try tick(time: t, pictures: pictures)
        }
    }

    /// A source gone for good gives back what the engine kept for it: its buffer's memory, its scaler, its audio
    /// levels. Its descriptor stays: layouts place by the room's history (Twilio's cells, `reuse`).
    func release(_ source: Source) {
        let id = source.descriptor.id
        source.buffer.releaseMemory()
        source.released = true
        compositor.forget(id)
        mixer.forget(id)
        lastReported[id] = nil
        inbox.withLock { $0.reportedLevels[id] = nil }
    }

    /// Per-source state the engine holds now: scalers, mixer levels, reported levels (tests).
    var perSourceState: (scalers: Int, levels: Int, reported: Int) {
        (compositor.scalerCount, mixer.levels.count, lastReported.count + inbox.withLock { $0.reportedLevels.count })
    }

    /// A tick under overload: no picture, only its audio (and the presence it counts).
    func skipTick(time: Microseconds) throws(MediaError) {
        for source in sources where source.descriptor.isPresent(at: time) { source.presentTicks += 1 }
        frameIndex += 1
        try mixAudio(until: (origin + fps.tickTime(frameIndex)) * Int64(AudioSamples.sampleRate) / 1_000_000)
    }

    /// A tick while paused: sources read and audio mixed as usual (so nothing piles up and the speaker is followed),
    /// nothing to the sinks. A change waiting for its frame is told the output frame it will show in.
    func pausedTick(time: Microseconds) throws(MediaError) {
        pausedTicks += 1
        frameIndex += 1
        for done in frameDone { done(outputIndex, currentTime) }
        frameDone.removeAll()
        try mixAudio(until: (origin + fps.tickTime(frameIndex)) * Int64(AudioSamples.sampleRate) / 1_000_000)
    }

    /// Pauses (or resumes) the output from the first tick at or after room time `time`. On the engine's thread
    /// (through `perform`).
    public func schedulePause(_ paused: Bool, at time: Microseconds) {
        let index = pauseSwitches.firstIndex { $0.time > time } ?? pauseSwitches.count
        pauseSwitches.insert((time, paused), at: index)
    }
}
