import FoundationEssentials
import Layout
import MediaCore

/// A `--layout` argument: a preset name or a layout JSON file; errors name the file and the field.
public func loadLayout(_ argument: String) throws(MediaError) -> LayoutDocument {
    if let preset = LayoutPresets.documents[argument] { return try LayoutParser.parse(preset) }
    guard FileManager.default.fileExists(atPath: argument) else {
        throw MediaError(.invalidLayout, "no such layout file or preset (presets: \(LayoutPresets.names.joined(separator: ", ")))", at: argument)
    }
    guard let data = FileManager.default.contents(atPath: argument) else {
        throw MediaError(.invalidLayout, "cannot read the layout file", at: argument)
    }
    do { return try LayoutParser.parse(bytes: Array(data)) } catch {
        var located = error
        located.location = "\(argument): " + (error.location ?? "(document)")
        throw located
    }
}
