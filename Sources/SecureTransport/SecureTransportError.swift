import COpenSSL

public struct SecureTransportError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }

    /// The message with OpenSSL's error queue appended (and the queue emptied).
    static func openSSL(_ message: String) -> SecureTransportError {
        var details: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            details.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return SecureTransportError(details.isEmpty ? message : "\(message): \(details.joined(separator: "; "))")
    }
}
