import Layout

/// Checks JSON values against the schemas of an OpenAPI 3.1 document: the subset of JSON Schema the document
/// uses ($ref, type, enum, properties, required, additionalProperties: false, items, string lengths, patterns,
/// number ranges). Anything else in a schema fails the check, so the document cannot outgrow the checker unseen.
struct SchemaCheck {
    let document: JSONValue

    static let understood: Set<String> = ["$ref", "type", "enum", "properties", "required", "additionalProperties", "items", "minLength",
                                          "maxLength", "pattern", "minimum", "maximum", "description"]

    /// The schema `#/a/b/c` points at.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    /// What is wrong with `value` under `schema` (empty when it conforms). With `complete`, an object must also
    /// carry every property its schema lists (a sample with every optional field set shows each is produced).
    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String = "$", complete: Bool = false) -> [String] {
        guard case let .object(rules) = schema else { return ["\(path): the schema is not an object"] }
        var found: [String] = []
        for (keyword, _) in rules where !SchemaCheck.understood.contains(keyword) { found.append("\(path): schema keyword \(keyword) is not checked") }
        if case let .string(reference)? = schema["$ref"] {
            guard let target = resolve(reference) else { return ["\(path): unresolved \(reference)"] }
            return problems(value, target, at: path, complete: complete)
        }
        if case let .array(options)? = schema["enum"], !options.contains(value) { found.append("\(path): \(value.serialized) is not one of the enum") }
        if let type = schema["type"] {
            let allowed: [String]
            switch type {
            case let .string(one): allowed = [one]
            case let .array(many): allowed = many.compactMap { if case let .string(s) = $0 { s } else { nil } }
            default: allowed = []
            }
            if !allowed.contains(where: { SchemaCheck.matches(value, type: $0) }) {
                found.append("\(path): \(value.serialized.prefix(60)) is not \(allowed.joined(separator: " or "))")
                return found
            }
        }
        switch value {
        case let .object(entries):
            var properties: [(String, JSONValue)] = []
            if case let .object(p)? = schema["properties"] { properties = p }
            for (key, child) in entries {
                if let rule = properties.first(where: { $0.0 == key })?.1 {
                    found += problems(child, rule, at: "\(path).\(key)", complete: complete)
                } else if schema["additionalProperties"] == .bool(false) {
                    found.append("\(path).\(key): not in the schema")
                }
            }
            if case let .array(required)? = schema["required"] {
                for case let .string(key) in required where !entries.contains(where: { $0.0 == key }) { found.append("\(path).\(key): required, missing") }
            }
            if complete {
                for (key, _) in properties where !entries.contains(where: { $0.0 == key }) { found.append("\(path).\(key): documented, never produced") }
            }
        case let .array(items):
            if let rule = schema["items"] {
                for (i, item) in items.enumerated() { found += problems(item, rule, at: "\(path)[\(i)]", complete: complete) }
            }
        case let .string(text):
            if case let .number(min)? = schema["minLength"], Double(text.count) < min { found.append("\(path): shorter than \(min)") }
            if case let .number(max)? = schema["maxLength"], Double(text.count) > max { found.append("\(path): longer than \(max)") }
            if case let .string(pattern)? = schema["pattern"] {
                if let regex = try? Regex(pattern) {
                    if (try? regex.firstMatch(in: text)) == nil { found.append("\(path): \(text) does not match \(pattern)") }
                } else {
                    found.append("\(path): bad pattern \(pattern)")
                }
            }
        case let .number(n):
            if case let .number(min)? = schema["minimum"], n < min { found.append("\(path): below \(min)") }
            if case let .number(max)? = schema["maximum"], n > max { found.append("\(path): above \(max)") }
        default:
            break
        }
        return found
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): true
        case let ("integer", .number(n)): n.rounded() == n
        default: false
        }
    }
}
