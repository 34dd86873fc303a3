import MediaCore

extension LayoutParser {
    /// A layout as the API takes it: a whole document (native or Twilio), or `{"preset": "speaker", …}` where the
    /// other top-level fields replace the preset's (`{"preset": "grid", "canvas": {"background": "#203040"}}`).
    public static func parseRequest(bytes: [UInt8]) throws(MediaError) -> LayoutDocument {
        guard bytes.count <= maxDocumentBytes else { throw MediaError(.invalidLayout, "document is larger than \(maxDocumentBytes) bytes") }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw MediaError(.invalidLayout, "not valid JSON: \(error.description)") }
        guard case let .object(fields) = json, let preset = json["preset"] else { return try parse(json: json) }
        guard case let .string(name) = preset else { throw MediaError(.invalidLayout, "must be a string", at: "preset") }
        guard let text = LayoutPresets.documents[name], case let .object(base)? = try? JSONParser.parse(text) else {
            throw MediaError(.invalidLayout, "no preset \"\(name)\" (presets: \(LayoutPresets.names.joined(separator: ", ")))", at: "preset")
        }
        var merged = base
        for (key, value) in fields where key != "preset" {
            if let index = merged.firstIndex(where: { $0.0 == key }) { merged[index].1 = value } else { merged.append((key, value)) }
        }
        return try parse(json: .object(merged))
    }
}
