import Foundation

/// The master playlist of an HLS stream with renditions (RFC 8216 §4.3.4.2): one `EXT-X-STREAM-INF` per size.
enum HLSMasterPlaylist {
    struct Variant {
        var uri: String
        var width: Int, height: Int
        var codecs: String
        var frameRate: Double
        /// Measured (peak over a segment, average), bit/s; nil: not yet measured.
        var bandwidth: (peak: Int, average: Int)?
    }

    static func text(_ variants: [Variant]) -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
        for variant in variants {
            // Until measured: a generous estimate (0.1 bit per pixel and frame, plus the audio), as BANDWIDTH is required.
            let estimate = Int(Double(variant.width * variant.height) * variant.frameRate * 0.1) + 128_000
            var attributes = ["BANDWIDTH=\(variant.bandwidth?.peak ?? estimate)"]
            if let average = variant.bandwidth?.average { attributes.append("AVERAGE-BANDWIDTH=\(average)") }
            attributes += ["CODECS=\"\(variant.codecs)\"", "RESOLUTION=\(variant.width)x\(variant.height)",
                           "FRAME-RATE=\(String(format: "%.3f", variant.frameRate))"]
            lines.append("#EXT-X-STREAM-INF:" + attributes.joined(separator: ","))
            lines.append(variant.uri)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Written aside and renamed: a player never reads half a playlist.
    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
