import COpenSSL

/// Why a DTLS or SRTP context could not be made.
public enum SecureTransportError: Error, Sendable, CustomStringConvertible, Equatable {
    /// OpenSSL refused: the message with OpenSSL's own error queue appended.
    case openSSLFailure(String)
    /// libsrtp refused.
    case srtpFailure(String)
    /// What the peer asked for is not something we do (a fingerprint hash).
    case unsupported(String)

    public var message: String {
        switch self {
        case let .openSSLFailure(text), let .srtpFailure(text), let .unsupported(text): text
        }
    }
    public var description: String { message }

    /// An OpenSSL failure, with OpenSSL's error queue appended (and the queue emptied).
    static func openSSL(_ message: String) -> SecureTransportError {
        var details: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            details.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return .openSSLFailure(details.isEmpty ? message : "\(message): \(details.joined(separator: "; "))")
    }
}
