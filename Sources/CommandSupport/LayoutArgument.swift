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
        throw error.located(in: argument)
    }
}

/// Reads a watermark file; image paths are relative to the file. Any problem names the file and the field.
public func loadWatermarks(_ path: String) throws(MediaError) -> WatermarkDocument {
    let bytes = try readConfiguration(path, what: "watermark file")
    do throws(MediaError) {
        var document = try WatermarkDocument.parse(bytes: bytes)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        for (i, item) in document.items.enumerated() {
            guard case let .image(image, width) = item.content else { continue }
            let resolved = image.hasPrefix("/") ? image : folder + "/" + image
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw MediaError(.inputUnreadable, "no such image (or not readable): \(resolved)", at: "items[\(i)].image")
            }
            document.items[i].content = .image(path: resolved, width: width)
        }
        return document
    } catch {
        throw error.located(in: path)
    }
}

/// Reads a chat overlay file; the font must exist.
public func loadChatOverlay(_ path: String) throws(MediaError) -> ChatOverlayStyle {
    let bytes = try readConfiguration(path, what: "chat overlay file")
    do throws(MediaError) {
        var style = try ChatOverlayStyle.parse(bytes: bytes)
        if let font = style.font {
            let resolved = font.hasPrefix("/") ? font : URL(fileURLWithPath: path).deletingLastPathComponent().path + "/" + font
            guard FileManager.default.isReadableFile(atPath: resolved) else { throw MediaError(.fontUnavailable, "no such font file: \(resolved)", at: "font") }
            style.font = resolved
        }
        return style
    } catch {
        throw error.located(in: path)
    }
}

extension MediaError {
    /// The error with the file it is about in front of its field path: `watermark.json: items[0].anchor`.
    public func located(in path: String) -> MediaError {
        var located = self
        located.location = "\(path): " + (location ?? "(document)")
        return located
    }
}

private func readConfiguration(_ path: String, what: String) throws(MediaError) -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else { throw MediaError(.inputUnreadable, "no such \(what)", at: path) }
    guard let data = FileManager.default.contents(atPath: path) else { throw MediaError(.inputUnreadable, "cannot read the \(what)", at: path) }
    return Array(data)
}
