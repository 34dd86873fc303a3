import Codecs
import Synchronization
import Compositor
import FoundationEssentials
import Layout
import Logging
import Metrics
import Output
import MediaCore
import Recorder
import RTP
import SDP
import SecureTransport
import Session
import Text
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Starting and stopping recordings: the free-space floor, admission by measured CPU load, file names.
extension RoomDirectory {

    /// Cores the process uses, smoothed over a few seconds.
    public var cpuLoad: Double { state.withLock { $0.cpuLoad } }

    /// Measures the process's CPU use since the last call (the server calls it every second).
    public func sampleLoad() {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Microseconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        let wall = SystemClock().now()
        state.withLock { state in
            if let last = state.cpuSample, wall > last.wall {
                let cores = Double(cpu - last.cpu) / Double(wall - last.wall)
                state.cpuLoad = state.cpuLoad == 0 ? cores : state.cpuLoad * 0.6 + cores * 0.4
            }
            state.cpuSample = (wall, cpu)
        }
        Gauge(label: "mcu_cpu_cores_used").record(cpuLoad)
    }

    /// Refuses (503) a new recording the machine has no room for, judged by what the running ones cost.
    func admit(room name: String) throws {
        let active = state.withLock { $0.rooms.values.filter { $0.live.isRecording }.count }
        guard active > 0 else { return }
        let load = cpuLoad, cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let perRoom = load / Double(active)
        if load + perRoom > cores * configuration.maxLoad {
            Counter(label: "mcu_recordings_refused_total", dimensions: [("reason", "load")]).increment()
            throw RoomError(.unavailable, "no capacity for another recording: \(active) use \(decimal(load, 2)) of \(Int(cores)) cores, "
                               + "another would need about \(decimal(perRoom, 2))")
        }
    }

    func recordFailure(room name: String, error: MediaError) {
        let path = state.withLock { state -> String? in
            state.rooms[name]?.error = "recording stopped: \(error)"
            return state.rooms[name]?.recordingPath
        }
        if let path { emitFinished(room: name, path: path, summary: nil, error: "\(error)") }
    }

    /// Free bytes for unprivileged writers on the file system holding `path` (nil when unknown).
    public static func freeBytes(at path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Starts recording the room (making it if needed), in `folder` under the recordings folder when given: the
    /// path of the new file. 409 when already recording, 503 when the disk is below the free-space floor.
    /// Opening the encoder, the files and the fonts is blocking work: it runs off the cooperative pool.
    /// `webhooks`: receivers of this recording's events besides the server's; `parts`: instead of the server's;
    /// `rtmp`: pushes besides the server's.
    public func startRecording(room name: String, folder: String? = nil, webhooks: [String] = [], parts: PartPolicy? = nil,
                               rtmp: [String] = []) async throws -> String {
        try await offPool("start \(name)") { try self.startRecordingNow(room: name, folder: folder, webhooks: webhooks, parts: parts, rtmp: rtmp) }
    }

    func startRecordingNow(room name: String, folder: String?, webhooks: [String] = [], parts: PartPolicy? = nil, rtmp: [String] = []) throws -> String {
        if let folder, !RoomDirectory.isValidRoomName(folder) {
            throw RoomError(.invalid, "folder names are 1-64 letters, digits, '-' or '_' (one level under the recordings folder)", field: "folder")
        }
        let directory = configuration.recordings + (folder.map { "/" + $0 } ?? "")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let free = RoomDirectory.freeBytes(at: directory), free < configuration.minFreeBytes {
            throw RoomError(.unavailable, "only \(free >> 20) MiB free where recordings go (the floor is \(configuration.minFreeBytes >> 20) MiB)")
        }
        try admit(room: name)
        let room = try state.withLock { state throws(RoomError) in try makeRoom(name, &state) }
        var stamp = Int(Date().timeIntervalSince1970)
        let ext = configuration.audioOnly?.fileExtension ?? "mp4"
        var output = "\(directory)/\(name)-\(stamp).\(ext)"
        while FileManager.default.fileExists(atPath: output) || FileManager.default.fileExists(atPath: "\(directory)/\(name)-\(stamp).recording.\(ext)")
                || FileManager.default.fileExists(atPath: "\(directory)/\(name)-\(stamp)-part001.mp4") {
            stamp += 1
            output = "\(directory)/\(name)-\(stamp).\(ext)"
        }
        do throws(MediaError) {
            let recording = RoomDirectory.recordingID(of: output)
            var options = RecordingOptions()
            options.parts = parts ?? configuration.parts
            options.hlsFolder = configuration.hls && configuration.audioOnly == nil ? RecordingSession.stem(output) + ".hls" : nil
            options.hlsRenditions = options.hlsFolder == nil ? [] : configuration.hlsRenditions
            options.pushURLs = configuration.audioOnly == nil ? (configuration.rtmp + rtmp).map { $0.replacingOccurrences(of: "{room}", with: name) } : []
            options.audioOnly = configuration.audioOnly
            options.audioFile = configuration.audioFile
            options.dualChannelLeft = configuration.dualChannelLeft
            let hls = options.hlsFolder
            state.withLock { $0.rooms[name]?.hlsFolder = hls }
            // Audio only: no frames are made, so the engine's clock need only tick for the mix (5 a second).
            let fps = configuration.audioOnly == nil ? configuration.fps : Rational(5)
            var settings = EncoderSettings(size: configuration.size, fps: fps, preset: configuration.preset, crf: configuration.crf)
            settings.fixedKeyframes = !options.hlsRenditions.isEmpty
            try room.live.start(output: output, settings: settings,
                                options: options, onPartReady: { [weak self] part in
                if let error = part.error {
                    self?.logger.error("a part could not be finished", metadata: ["room": "\(name)", "part": "\(part.number)", "error": "\(error)"])
                }
                self?.emit(.partReady(room: name, recording: recording, part: part))
            })
        } catch {
            if error.code == .conflict { throw RoomError(.conflict, error.message) }
            throw RoomError(.failed, "cannot start the recording: \(error)")
        }
        state.withLock { state in
            guard var entry = state.rooms[name], entry.live === room.live else { return }
            entry.recorded = true; entry.stamp = stamp; entry.error = nil; entry.recordingPath = output
            state.rooms[name] = entry
        }
        emit(.recordingStarted(room: name, recording: RoomDirectory.recordingID(of: output), path: output, webhooks: webhooks))
        logger.info("recording", metadata: ["room": "\(name)", "file": "\(output)"])
        return output
    }

    /// The HLS folder of the room's recording in progress, or of its last one.
    public func hlsFolder(room name: String) throws -> String {
        guard let folder = try state.withLock({ state throws(RoomError) -> String? in
            guard let room = state.rooms[name] else { throw RoomError(.notFound, "no room \(name)") }
            return room.hlsFolder
        }) else { throw RoomError(.notFound, "room \(name) has no live stream (the server runs without --hls, or it has not recorded)") }
        return folder
    }

    /// Stops the room's recording and finalizes the file. 409 when it is not recording.
    /// Draining the encoder and rewriting the file (an hour-long recording takes seconds) runs off the cooperative
    /// pool: other requests are answered meanwhile.
    public func stopRecording(room name: String) async throws -> LiveRecordingSummary {
        try await offPool("stop \(name)") { try self.stopRecordingNow(room: name) }
    }

    func stopRecordingNow(room name: String) throws -> LiveRecordingSummary {
        let room = try existing(name)
        let summary: LiveRecordingSummary?
        do { summary = try room.live.stopRecording() } catch {
            state.withLock { if $0.rooms[name]?.live === room.live { $0.rooms[name]?.error = "\(error)" } }
            if let path = state.withLock({ $0.rooms[name]?.recordingPath }) { emitFinished(room: name, path: path, summary: nil, error: "\(error)") }
            throw RoomError(.failed, "the recording failed: \(error)")
        }
        guard let summary else { throw RoomError(.conflict, "room \(name) is not recording") }
        state.withLock { if $0.rooms[name]?.live === room.live { $0.rooms[name]?.lastRecording = summary } }
        emitFinished(room: name, path: summary.recording.path, summary: summary, error: nil)
        logger.info("recorded", metadata: ["room": "\(name)", "file": "\(summary.recording.path)"])
        return summary
    }
}
