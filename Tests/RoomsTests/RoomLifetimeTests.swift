import Foundation
import Layout
import MediaCore
import NIOPosix
import TestSupport
import Testing
import Transport
@testable import Rooms

@Suite(.timeLimit(.minutes(1))) struct RunLimitsTests {
    @Test func idleCountsFromWhenEveryoneLeft() {
        var limits = RunLimits(started: 1_000, maxDuration: nil, idleTimeout: 60_000_000)
        #expect(limits.check(now: 500_000_000, present: 0, everJoined: false) == nil, "nobody came yet: wait for them")
        #expect(limits.check(now: 510_000_000, present: 2, everJoined: true) == nil)
        #expect(limits.check(now: 520_000_000, present: 0, everJoined: true) == nil, "everyone left: the idle time starts")
        #expect(limits.check(now: 570_000_000, present: 1, everJoined: true) == nil, "someone came back")
        #expect(limits.check(now: 575_000_000, present: 0, everJoined: true) == nil)
        #expect(limits.check(now: 635_000_000, present: 0, everJoined: true) == .idle)
    }

    @Test func maxDurationIsMeasuredFromTheStart() {
        var limits = RunLimits(started: 10_000_000, maxDuration: 3_600_000_000, idleTimeout: 60_000_000)
        #expect(limits.check(now: 3_609_999_999, present: 3, everJoined: true) == nil)
        #expect(limits.check(now: 3_610_000_000, present: 3, everJoined: true) == .maxDuration)
    }
}

@Suite(.timeLimit(.minutes(1))) struct RoomSweepTests {
    func directory(maxRooms: Int) async throws -> (RoomDirectory, UDPTransport) {
        var configuration = ServerConfiguration(layout: LayoutPresets.document(named: "grid")!)
        configuration.maxRooms = maxRooms
        configuration.size = PixelSize(width: 160, height: 90)
        configuration.preset = "ultrafast"
        configuration.recordings = TestScratch.path("sweep")
        configuration.autoRecord = false
        let directory = try RoomDirectory(configuration: configuration)
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, ingest: directory)
        directory.attach(transport)
        return (directory, transport)
    }

    /// Rooms were never removed: after `--max-rooms` names every new room got 503 until a restart. An empty room
    /// that is not recording is freed after the grace period, and its slot serves a new room.
    @Test func anEmptyRoomIsFreedAfterTheGracePeriod() async throws {
        let (directory, transport) = try await directory(maxRooms: 1)
        defer { Task { await transport.close() } }
        try directory.createRoom("first")
        #expect(throws: RoomError.self) { try directory.createRoom("second") }
        let grace = directory.configuration.roomGrace
        directory.sweep(now: 1_000_000)
        directory.sweep(now: 1_000_000 + grace - 1)
        #expect(directory.roomNames == ["first"], "kept during the grace period")
        directory.sweep(now: 1_000_000 + grace)
        #expect(directory.roomNames.isEmpty, "freed after it")
        try directory.createRoom("second")
        #expect(directory.roomNames == ["second"])
    }

    /// A room that records is never freed, empty or not.
    @Test func aRecordingRoomIsKept() async throws {
        let (directory, transport) = try await directory(maxRooms: 2)
        defer { Task { await transport.close() } }
        _ = try await directory.startRecording(room: "busy")
        directory.sweep(now: 0)
        directory.sweep(now: directory.configuration.roomGrace * 10)
        #expect(directory.roomNames == ["busy"])
        let summary = try await directory.stopRecording(room: "busy")
        #expect(FileManager.default.fileExists(atPath: summary.recording.path))
        try? FileManager.default.removeItem(atPath: summary.recording.path)
    }
}
