import Session

/// Where a transport's sessions deliver what they produce — frames with their room time, audio levels, reports,
/// their end — on the transport's event loop. An implementation routes each to its room and returns: no waiting,
/// no disk I/O (that belongs to the room's own threads). The room directory is the server's.
public protocol MediaIngest: AnyObject, Sendable {
    func ingest(sessionID: String, _ output: PeerSession.Output)
}
