import Codecs
import Foundation
import Layout
import MediaCore
import NIOCore
import NIOPosix
import RTP
import Recorder
import Rooms
import SDP
import STUN
import SecureTransport
import Session
import TestSupport
import Testing
@testable import Transport

@Suite(.timeLimit(.minutes(2))) struct LivePipelineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// File → RTP → SRTP → UDP → transport → session → decoder workers → live engine → MP4.
    @Test func aPublisherOverUDPIsRecorded() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let output = TestScratch.path("live.mp4")
        let box = RoomBox()
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: group, ingest: IngestClosure { id, out in
            guard let room = box.room else { return }
            switch out {
            case .connected:
                try? room.join(id: id, name: "Red", tracks: [("0", "audio", "opus"), ("1", "video", "vp8")], needKeyframe: { _ in })
            case let .frame(mid, _, _, frame, time):
                room.frame(id: id, mid: mid, data: frame.data, keyframe: frame.keyframe, time: time)
            default:
                break
            }
        })
        let liveRoom = LiveRoom(name: "test", layout: try #require(LayoutPresets.document(named: "grid")), clock: { transport.now() }, latency: 300_000)
        box.room = liveRoom
        let size = PixelSize(width: 320, height: 180)
        try liveRoom.start(output: output, settings: EncoderSettings(size: size, fps: Rational(30), preset: "ultrafast"))

        let (socket, srtp) = try await connectPublisher(to: transport, sessionID: "p1")
        let port = transport.localPort

        // Stream the red clip (VP8 + Opus with a 300 Hz tone) in real time.
        let demuxer = try MediaFileDemuxer(path: Self.root.appendingPathComponent("Fixtures/generated/colour-ff0000.webm").path)
        let started = Date()
        var videoSeq: UInt16 = 0, audioSeq: UInt16 = 0
        while let packet = demuxer.next() {
            let due = Double(packet.time) / 1e6 - Date().timeIntervalSince(started)
            if due > 0 { try await Task.sleep(nanoseconds: UInt64(due * 1e9)) }
            let codec: RTPCodec = packet.video ? .vp8 : .opus
            let payloads = Packetizer.payloads(codec, frame: packet.data)
            for (i, payload) in payloads.enumerated() {
                var bytes = RTPPacket.build(payloadType: packet.video ? 96 : 111, sequenceNumber: packet.video ? videoSeq : audioSeq,
                                            timestamp: UInt32(truncatingIfNeeded: packet.time * (packet.video ? 90 : 48) / 1000),
                                            ssrc: packet.video ? 2 : 1, marker: packet.video && i == payloads.count - 1, payload: payload)
                if packet.video { videoSeq &+= 1 } else { audioSeq &+= 1 }
                _ = srtp.protect(&bytes)
                socket.send(bytes, port: port)
            }
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        let recorded = try liveRoom.stop()
        let summary = recorded.recording
        let tile = try #require(recorded.participants.first)
        #expect(tile.present > 3_000_000 && tile.frozen < tile.present, "tile statistics \(tile)")
        await transport.close()
        try await group.shutdownGracefully()

        #expect(summary.duration > 3_000_000, "recorded \(summary.duration) µs")
        let reader = try MediaFileReader(path: output, wantAudio: false)
        var pictures: [VideoPicture] = []
        while reader.step(onVideo: { pictures.append($0) }, onAudio: { _ in }) {}
        // The clip was streamed during the last 3.5 s of the recording (when exactly depends on the machine's load):
        // 1.5 s before the end the participant's picture fills the 4:3 area of the 16:9 canvas.
        let end = try #require(pictures.last?.time)
        let frame = try #require(pictures.first { $0.time >= end - 1_500_000 })
        let mean = try #require(frame.meanYUV(in: PixelRect(x: 100, y: 60, width: 120, height: 60)))
        let red = RGBAColor(hex: "ff0000")!.yuv
        #expect(abs(mean.y - Double(red.y)) < 15 && abs(mean.v - Double(red.v)) < 15, "red tile: \(mean)")
        let audioReader = try MediaFileReader(path: output, wantVideo: false)
        var left: [Float] = []
        while audioReader.step(onVideo: { _ in }, onAudio: { left.append(contentsOf: $0.left) }) {}
        // Under load the tail may come late; the participant's 300 Hz tone must be in the recording somewhere.
        func goertzel(_ window: ArraySlice<Float>, _ f: Double) -> Double {
            let k = 2 * cos(2 * Double.pi * f / 48_000); var s1 = 0.0, s2 = 0.0
            for x in window { let s0 = Double(x) + k * s1 - s2; s2 = s1; s1 = s0 }
            return (s1 * s1 + s2 * s2 - k * s1 * s2) / Double(window.count * window.count)
        }
        let windows = stride(from: 0, to: max(0, left.count - 48_000), by: 24_000).map { left[$0..<($0 + 48_000)] }
        let best = windows.max { goertzel($0, 300) < goertzel($1, 300) }
        let tone = best.map { goertzel($0, 300) } ?? 0, noise = best.map { goertzel($0, 1234) } ?? 0
        #expect(tone > 1e-5 && tone > 100 * noise, "the participant's 300 Hz tone is in the mix (\(tone) vs \(noise))")
    }
}

final class RoomBox: @unchecked Sendable {   // written once before any packet arrives, then only read
    var room: LiveRoom?
}
