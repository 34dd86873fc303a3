/// Our side of ICE-lite (RFC 8445 §2.5, §7.3): we never send checks, we answer the peer's binding requests.
/// Sans-IO: bytes and the address they came from in, an outcome out. The session decides what a success means
/// (a validated address; USE-CANDIDATE nominates it) and sends the response bytes.
public struct ICELiteResponder: Sendable {
    public let localUfrag: String
    public let localPassword: String
    /// The peer's ufrag from its SDP; when known, USERNAME must name it.
    public var remoteUfrag: String?

    public enum Outcome: Sendable, Equatable {
        /// A valid check: send `response`; the address is validated (and nominated with USE-CANDIDATE).
        case success(response: [UInt8], nominated: Bool, priority: UInt32)
        /// A bad request that deserves an error response (400, 401, 420, 487).
        case reject(response: [UInt8], code: Int, reason: String)
        /// Not worth an answer (not STUN, damaged, not a request, a keep-alive indication).
        case ignore(reason: String)
    }

    /// Attributes below 0x8000 must be understood (RFC 8489 §14); these are the ones we do.
    static let understood: Set<UInt16> = [0x0001, 0x0006, 0x0008, 0x0009, 0x000A, 0x0020, 0x0024, 0x0025, 0x001C, 0x001D, 0x001E]

    public init(localUfrag: String, localPassword: String, remoteUfrag: String? = nil) {
        self.localUfrag = localUfrag; self.localPassword = localPassword; self.remoteUfrag = remoteUfrag
    }

    /// Checks what every ICE agent checks of a binding request (RFC 8445 §7.3, RFC 8489): FINGERPRINT, USERNAME
    /// naming us, MESSAGE-INTEGRITY with our password, PRIORITY, no unknown mandatory attributes.
    public func authenticate(_ bytes: [UInt8]) -> Authentication {
        let message: STUNMessage
        do { message = try STUNMessage(parsing: bytes) } catch { return .refused(.ignore(reason: "malformed STUN: \(error)")) }
        guard message.method == 0x0001 else { return .refused(.ignore(reason: "not a binding message")) }
        switch message.messageClass {
        case .request: break
        case .indication: return .refused(.ignore(reason: "binding indication (keep-alive)"))
        case .success, .error: return .refused(.ignore(reason: "a response, not a request"))
        }
        if message.attribute(.fingerprint) != nil && !message.hasValidFingerprint {
            return .refused(.ignore(reason: "bad FINGERPRINT"))
        }
        func reject(_ code: Int, _ reason: String, extra: [(UInt16, [UInt8])] = []) -> Outcome {
            var builder = STUNMessageBuilder(class: .error, transactionID: message.transactionID)
            builder.addErrorCode(code, reason: reason)
            for (type, value) in extra { builder.add(type, value) }
            builder.addFingerprint()
            return .reject(response: builder.encoded, code: code, reason: reason)
        }
        let unknown = message.attributes.map(\.type).filter { $0 < 0x8000 && !ICELiteResponder.understood.contains($0) }
        if !unknown.isEmpty {
            return .refused(reject(420, "Unknown Attribute", extra: [(STUNMessage.AttributeType.unknownAttributes.rawValue,
                                                             unknown.prefix(16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })]))
        }
        guard message.attribute(.fingerprint) != nil else { return .refused(reject(400, "Bad Request: FINGERPRINT missing")) }
        guard let username = message.username, message.attribute(.messageIntegrity) != nil else {
            return .refused(reject(400, "Bad Request: USERNAME and MESSAGE-INTEGRITY required"))
        }
        let parts = username.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == localUfrag, remoteUfrag.map({ parts[1] == $0 }) ?? !parts[1].isEmpty else {
            return .refused(reject(401, "Unauthorized: unknown USERNAME"))
        }
        guard message.hasValidIntegrity(key: Array(localPassword.utf8)) else {
            return .refused(reject(401, "Unauthorized: MESSAGE-INTEGRITY does not match"))
        }
        guard let priority = message.priority else { return .refused(reject(400, "Bad Request: PRIORITY missing")) }
        return .request(message, priority: priority)
    }

    /// An authenticated binding request, or what to do with bytes that are not one.
    public enum Authentication: Sendable {
        case request(STUNMessage, priority: UInt32)
        case refused(Outcome)
    }

    public func handle(_ bytes: [UInt8], from address: TransportAddress) -> Outcome {
        let message: STUNMessage, priority: UInt32
        switch authenticate(bytes) {
        case let .refused(outcome): return outcome
        case let .request(request, value): (message, priority) = (request, value)
        }
        if message.attribute(.iceControlled) != nil {
            // Both sides think they are controlled; a lite agent always is, so the full agent must switch.
            return ICELiteResponder.error(to: message, 487, "Role Conflict", password: localPassword)
        }
        guard message.attribute(.iceControlling) != nil else { return ICELiteResponder.error(to: message, 400, "Bad Request: ICE-CONTROLLING missing", password: nil) }
        return .success(response: ICELiteResponder.success(to: message, from: address, password: localPassword),
                        nominated: message.attribute(.useCandidate) != nil, priority: priority)
    }

    /// The success response to a valid request: where it came from, signed with our password.
    public static func success(to message: STUNMessage, from address: TransportAddress, password: String) -> [UInt8] {
        var builder = STUNMessageBuilder(class: .success, transactionID: message.transactionID)
        builder.addXorMappedAddress(address)
        builder.addMessageIntegrity(key: Array(password.utf8))
        builder.addFingerprint()
        return builder.encoded
    }

    /// An error response (signed when `password` is given: only to an authenticated request).
    public static func error(to message: STUNMessage, _ code: Int, _ reason: String, password: String?) -> Outcome {
        var builder = STUNMessageBuilder(class: .error, transactionID: message.transactionID)
        builder.addErrorCode(code, reason: reason)
        if let password { builder.addMessageIntegrity(key: Array(password.utf8)) }
        builder.addFingerprint()
        return .reject(response: builder.encoded, code: code, reason: reason)
    }
}
