/// The error every module throws: a stable code for programs, a message for people,
/// and where it happened (a file, a field path, a participant).
public struct MediaError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidArgument = "invalid-argument"
        case invalidLayout = "invalid-layout"
        case inputUnreadable = "input-unreadable"
        case noDecodableStream = "no-decodable-stream"
        case unsupportedCodec = "unsupported-codec"
        case outputUnwritable = "output-unwritable"
        case codecFailure = "codec-failure"
        case fontUnavailable = "font-unavailable"
        case conflict
        case cancelled
        /// No thread, memory or descriptor to be had.
        case resourceExhausted = "resource-exhausted"
    }

    public var code: Code
    public var message: String
    public var underlying: String?
    public var location: String?

    public init(_ code: Code, _ message: String, underlying: String? = nil, at location: String? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.location = location
    }

    public var description: String {
        var text = location.map { "\($0): \(message)" } ?? message
        if let underlying { text += " (\(underlying))" }
        return text
    }
}
