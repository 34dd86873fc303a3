import Codecs
import MediaCore

/// Cutting a recording into parts: each a complete faststart MP4 that starts with a keyframe (a new encoder), cut at
/// a frame that is also an AAC frame boundary (`PartBoundary`), so that parts played one after another are the
/// recording, to the frame and to the sample.
extension RecordingSink {
    static func partPath(_ base: String, _ number: Int) -> String {
        let stem = base.hasSuffix(".mp4") ? String(base.dropLast(4)) : base
        let digits = String(number)
        return "\(stem)-part\(String(repeating: "0", count: max(0, 3 - digits.count)))\(digits).mp4"
    }

    /// The parts finished so far (all of them after `finish`).
    public var finishedParts: [PartSummary] { finalizer?.drain() ?? [] }

    func cutIfDue(before index: Int64) throws(MediaError) {
        guard let parts else { return }
        if plannedCut == nil {
            let long = parts.maxDuration.map { settings.fps.tickTime(index - partStartFrame) >= $0 } ?? false
            // Bytes: cut a little early, as the cut waits for an aligned frame.
            let large = parts.maxBytes.map { writer.bytesWritten >= $0 - $0 / 50 } ?? false
            if long || large { plannedCut = PartBoundary.next(from: index, fps: settings.fps) }
        }
        guard let due = plannedCut, index >= due else { return }
        plannedCut = nil
        try cut(at: index)
    }

    private func cut(at index: Int64) throws(MediaError) {
        if closing != nil { try endClosingPart() }          // a part shorter than one tick: never in practice
        let boundary = PartBoundary.sample(of: index, fps: settings.fps)
        let old = writer, number = partNumber
        try old.flushVideo()
        let start = settings.fps.tickTime(partStartFrame), end = settings.fps.tickTime(index)
        let next = try CompositeWriter(path: RecordingSink.partPath(basePath, number + 1), settings: settings)
        if old.speedStep > 0 { _ = try next.setSpeedStep(old.speedStep) }
        next.liveOutputs = liveOutputs
        next.liveOffset = (index, boundary)
        // Audio: the old part gets exactly up to the boundary; what it holds beyond goes to the next one.
        let given = samplesIn - partStartSample, needed = boundary - partStartSample
        if given >= needed {
            let pending = old.takePendingAudio()
            let keep = max(0, min(pending.left.count, pending.left.count - Int(given - needed)))
            try old.writeAudio(left: pending.left[..<keep], right: pending.right[..<keep])
            try next.writeAudio(left: pending.left[keep...], right: pending.right[keep...])
            closing = (old, 0, number, start, end)
            try endClosingPart()
        } else {
            closing = (old, needed - given, number, start, end)
        }
        writer = next
        partNumber = number + 1
        partStartFrame = index
        partStartSample = boundary
    }

    /// Closes the part that ended (on this thread) and hands it to the finishing thread.
    func endClosingPart() throws(MediaError) {
        guard let ending = closing else { return }
        closing = nil
        try ending.writer.closeFragments()
        let annotations = onPartCut?(ending.number, ending.start, ending.end) ?? RecordingAnnotations()
        finalizer?.add(.init(writer: Handoff(ending.writer), annotations: annotations, number: ending.number, start: ending.start))
    }

    func finishParts() throws(MediaError) -> RecordingSummary {
        if closing != nil {
            // The recording ends before the part that ended got its last audio: it gets silence up to its boundary.
            let owed = Int(closing!.owed)
            let silence = [Float](repeating: 0, count: owed)
            try closing!.writer.writeAudio(left: silence[...], right: silence[...])
            try endClosingPart()
        }
        let start = settings.fps.tickTime(partStartFrame)
        let last = writer
        try last.closeFragments()
        let end = start + settings.fps.tickTime(last.videoFrames)
        let annotations = onPartCut?(partNumber, start, end) ?? RecordingAnnotations()
        finalizer?.add(.init(writer: Handoff(last), annotations: annotations, number: partNumber, start: start))
        let all = finalizer?.drain() ?? []
        finalizer?.stop()
        let finished = all.filter { $0.error == nil }
        guard let final = finished.max(by: { $0.number < $1.number }) else {
            throw MediaError(.outputUnwritable, "no part of the recording could be finished", underlying: all.first?.error, at: basePath)
        }
        return RecordingSummary(path: final.path, duration: finished.reduce(0) { $0 + $1.duration }, bytes: finished.reduce(0) { $0 + $1.bytes },
                                videoFrames: finished.reduce(0) { $0 + $1.frames })
    }
}
