import Codecs
import Layout
import MediaCore

/// Pausing a recording: nothing from the paused span reaches the composite, the track files or the chat track, and
/// the output timeline goes on after it without a hole. The pause and the resume are both at a room-clock moment,
/// the same for the engine (from its first tick at or after it) and the track files (frames timed at or after it).
extension LiveRoom {
    public var isPaused: Bool { state.withLock { $0.recording }.map { $0.pause.since != nil && !$0.isFinished } ?? false }

    /// Pauses the recording in progress; the time on the recording where it pauses. 409 when not recording or
    /// already paused.
    public func pauseRecording() throws(MediaError) -> Microseconds {
        guard let recording = state.withLock({ $0.recording }), !recording.isFinished else {
            throw MediaError(.conflict, "room \(name) is not recording")
        }
        let now = clock()
        guard recording.beginPause(at: now) else { throw MediaError(.conflict, "the recording of room \(name) is already paused") }
        recording.engine.perform { $0.schedulePause(true, at: now) }
        let time = recording.recordingTime(at: now)
        recording.record.write("pause", time: time, [:])
        for writer in state.withLock({ $0.participants.values.compactMap(\.writer) }) { writer.pause(at: now) }
        return time
    }

    /// Resumes a paused recording; where on the recording it goes on, and how long the pause lasted. 409 when not
    /// recording or not paused. Every sender is asked for a keyframe (the track files resume on one).
    public func resumeRecording() throws(MediaError) -> (time: Microseconds, paused: Microseconds) {
        guard let recording = state.withLock({ $0.recording }), !recording.isFinished else {
            throw MediaError(.conflict, "room \(name) is not recording")
        }
        let now = clock()
        guard let paused = recording.endPause(at: now) else { throw MediaError(.conflict, "the recording of room \(name) is not paused") }
        recording.engine.perform { $0.schedulePause(false, at: now) }
        let time = recording.recordingTime(at: now)
        recording.record.write("resume", time: time, ["paused_for": .number((Double(paused) / 1000).rounded() / 1000)])
        let participants = state.withLock { Array($0.participants.values) }
        for p in participants {
            p.writer?.resume(at: now)
            for mid in p.decoders.keys { p.needKeyframe(mid) }
        }
        return (time, paused)
    }

    /// A participant joining during a recording: its track file takes up the recording's pauses.
    func alignTrackFile(of id: String) {
        let (writer, recording) = state.withLock { ($0.participants[id]?.writer, $0.recording) }
        guard let writer, let recording, !recording.isFinished else { return }
        let pause = recording.pause
        writer.align(shift: pause.total, pausedFrom: pause.since)
    }
}
