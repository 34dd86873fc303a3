import Foundation
import NIOCore
import NIOPosix
import STUN
import Transport

extension WHEPSource {
    /// Our server-reflexive candidate through the configured STUN server (`host:port`, or a `stun:` URI) or the one
    /// the endpoint's `Link` headers name (asked once by OPTIONS, then from every POST's answer); nil without one or
    /// when it does not answer: the host candidates are offered either way.
    func reflexiveAddress() async -> (ip: String, port: Int)? {
        if self.stunServer == nil, linked.withLock({ s in defer { s.asked = true }; return !s.asked }), let servers = await client.preflight(url) {
            learn(servers)
        }
        guard let stunServer = self.stunServer ?? linked.withLock({ $0.stun }), let transport = directory.mediaTransport else { return nil }
        guard let server = await STUNServerAddress.resolve(stunServer) else {
            logger.warning("cannot resolve the STUN server", metadata: ["server": "\(stunServer)"])
            return nil
        }
        guard let mapped = await transport.reflexiveAddress(stunServer: server) else {
            logger.warning("no answer from the STUN server", metadata: ["server": "\(stunServer)"])
            return nil
        }
        return (mapped.ip.map(String.init).joined(separator: "."), Int(mapped.port))
    }
}

enum STUNServerAddress {
    /// `host:port`, `stun:host[:port]` (port 3478 by default) as an IPv4 address; names resolved off the
    /// cooperative pool (getaddrinfo blocks).
    static func resolve(_ text: String) async -> TransportAddress? {
        var rest = text.hasPrefix("stun:") ? String(text.dropFirst(5)) : text
        rest = String(rest.split(separator: "?").first ?? "")
        let parts = rest.split(separator: ":")
        guard let host = parts.first.map(String.init), parts.count <= 2 else { return nil }
        let port = parts.count == 2 ? UInt16(parts[1]) : 3478
        guard let port else { return nil }
        if let literal = TransportAddress(ipv4: host, port: port) { return literal }
        return try? await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_INET
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
            defer { freeaddrinfo(result) }
            guard let raw = first.pointee.ai_addr else { return nil }
            let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr.bigEndian }
            return TransportAddress(ip: [UInt8(address >> 24), UInt8((address >> 16) & 0xFF), UInt8((address >> 8) & 0xFF), UInt8(address & 0xFF)], port: port)
        }
    }
}
