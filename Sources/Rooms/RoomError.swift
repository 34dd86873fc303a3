/// Why a room operation was refused or failed. The HTTP layer maps each kind to a status; other callers match it.
public struct RoomError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request is malformed (a bad name, offer or document); `field` names the part when there is one.
        case invalid
        case notFound
        /// The room is not in a state for it (already recording, not recording, full).
        case conflict
        /// No capacity now (too many rooms, load, disk space, transport not ready): try later.
        case unavailable
        /// It was tried and went wrong on our side.
        case failed
        /// A server we call (WHEP, Janus) could not be reached or failed.
        case badGateway
        /// Not allowed, whoever asks (an expired or altered signed link).
        case forbidden
    }
    public var kind: Kind
    public var reason: String
    /// The field of a request document an `invalid` is about (`regions[1].max_rows`).
    public var field: String?
    public var description: String { reason }
    public init(_ kind: Kind, _ reason: String, field: String? = nil) { self.kind = kind; self.reason = reason; self.field = field }
}
