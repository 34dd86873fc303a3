import Foundation
import MediaCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .timeLimit(.minutes(5))) struct PublisherTests {
    /// WHIP allows redirects (RFC 9725 §4.5): the publisher follows a 307 with its offer, and leaves with a DELETE
    /// on the session's Location as the server that answered gave it.
    @Test func thePublisherFollowsARedirectAndLeavesCleanly() async throws {
        let room = try RoomProcess(room: "redirected")
        let redirector = Process()
        redirector.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        redirector.arguments = [Paths.root.appendingPathComponent("Tests/peers/whip_redirect.py").path, "\(room.base)/rooms/redirected/whip"]
        let out = Pipe()
        redirector.standardOutput = out
        redirector.standardError = FileHandle.nullDevice
        try redirector.run()
        defer { redirector.stopIfRunning() }
        var ready = pollfd(fd: out.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 10_000) > 0, let line = String(data: out.fileHandleForReading.availableData, encoding: .utf8),
              let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            Issue.record("the redirector did not start"); return
        }
        let published = try run(Paths.binary, ["publish", "--whip", "http://127.0.0.1:\(port)/", "--name", "Hop", "--colour", "30c060",
                                                "--size", "320x240", "--duration", "4"], within: 60)
        #expect(published.status == 0, "\(published.stderr)")
        let printed = room.stop()
        #expect(printed.contains("  Hop: in the room"), "the name survives the redirect: \(printed.split(separator: "\n").dropFirst(4).joined(separator: " / "))")
        let path = try #require(printed.split(separator: "\n").first { $0.hasPrefix("recorded redirected:") }.map { String($0.split(separator: " ")[2]) })
        let pictures = try decodePictures(path)
        let green = pictures.filter { p in p.meanYUV(in: PixelRect(x: 130, y: 70, width: 60, height: 40)).map { distance($0, yuv(ofHex: "30c060")) < 30 } ?? false }
        #expect(green.count > 30, "the publisher's picture in \(green.count) of \(pictures.count) frames")
    }

    /// Unreachable and refusing endpoints are one clear line and a non-zero exit, not a hang.
    @Test func aBadEndpointIsAClearError() throws {
        let refused = try run(Paths.binary, ["publish", "--whip", "http://127.0.0.1:9/rooms/x/whip", "--duration", "1"], within: 60)
        #expect(refused.status != 0 && refused.stderr.contains("cannot reach"), "\(refused.stderr)")
        let scheme = try run(Paths.binary, ["publish", "--whip", "ftp://127.0.0.1/x", "--duration", "1"], within: 60)
        #expect(scheme.status != 0 && scheme.stderr.contains("http:// or https://"), "\(scheme.stderr)")
    }
}
