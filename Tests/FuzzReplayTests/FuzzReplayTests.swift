import Foundation
import FuzzTargets
import Testing

/// Replays every seed and every input libFuzzer ever found troublesome (Fixtures/fuzz/TARGET/ and
/// Fixtures/fuzz/crashes/TARGET/) through its target: a crash here is a regression.
@Suite(.timeLimit(.minutes(2))) struct FuzzReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    static func inputs(_ target: String) -> [URL] {
        ["\(target)", "crashes/\(target)"].flatMap { folder in
            (try? FileManager.default.contentsOfDirectory(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)) ?? []
        }.sorted { $0.path < $1.path }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func corpusReplaysWithoutCrashing(target: String) throws {
        let run = try #require(FuzzTargets.target(named: target))
        let files = Self.inputs(target)
        #expect(!files.isEmpty, "no seeds for \(target) in Fixtures/fuzz/\(target)")
        for file in files { run(Array(try Data(contentsOf: file))) }
    }

    @Test func everyTargetSurvivesEdgeInputs() {
        let edges: [[UInt8]] = [[], [0], [0xFF], Array(repeating: 0, count: 4096), Array(repeating: 0xFF, count: 4096),
                                Array(0...255), Array("{\"a\":".utf8) + Array(repeating: UInt8(ascii: "["), count: 10_000)]
        for (_, run) in FuzzTargets.all { for input in edges { run(input) } }
    }
}
