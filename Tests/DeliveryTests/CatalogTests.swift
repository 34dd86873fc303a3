import Delivery
import Foundation
import TestSupport
import Testing

/// The recordings catalog read from files as a recording leaves them (parts, audio, events, metadata, a folder),
/// and retention removing exactly what is past it.
@Suite(.timeLimit(.minutes(1)))
struct CatalogTests {
    @Test func catalogGroupsFilesAndRetentionRemovesOldRecordings() async throws {
        let root = TestScratch.path("catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/calls", withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        func write(_ name: String, _ text: String = "x", age days: Double = 0) throws {
            try text.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: now - days * 86_400)], ofItemAtPath: root + "/" + name)
        }
        try write("old-1.mp4", age: 40)
        try write("old-1.events.jsonl", age: 40)
        try write("old-1.meta.json", #"{"id":"old-1","room":"old","started":\#(now - 40 * 86_400 - 60),"ended":\#(now - 40 * 86_400),"duration":60,"participants":["Ann"]}"#, age: 1)
        try write("new-2-part001.mp4")
        try write("new-2-part002.mp4")
        try write("new-2-part001.events.jsonl")
        try write("new-2.meta.json", #"{"id":"new-2","room":"new","started":\#(now - 120),"ended":\#(now),"duration":120,"participants":["Bo","Cy"]}"#)
        try write("calls/aged-3.m4a", age: 45)
        try write("stray.txt", age: 90)
        let catalog = RecordingCatalog(root: root)
        let all = catalog.all()
        #expect(all.map(\.id) == ["new-2", "old-1", "aged-3"], "\(all.map(\.id))")
        let new = try #require(all.first { $0.id == "new-2" })
        #expect(new.files.map(\.kind) == ["part-events", "part", "part", "metadata"] || Set(new.files.map(\.kind)) == ["part", "part-events", "metadata"])
        #expect(new.room == "new" && new.participants == ["Bo", "Cy"] && new.duration == 120)
        #expect(all.first { $0.id == "aged-3" }?.folder == "calls")
        #expect(catalog.path(of: "old-1", file: "old-1.mp4") == root + "/old-1.mp4")
        #expect(catalog.path(of: "old-1", file: "../new-2.meta.json") == nil)

        let delivery = try DeliveryService(configuration: DeliveryConfiguration(stateFolder: root + "/.delivery", recordings: root))
        await delivery.applyRetention(days: 30)
        #expect(catalog.all().map(\.id) == ["new-2"])
        #expect(FileManager.default.fileExists(atPath: root + "/stray.txt"), "files of no recording are left alone")
    }
}
