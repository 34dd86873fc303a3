import RTP
import SDP
import SecureTransport
import STUN

/// An RTP sender that is not a WebRTC peer — mediasoup's PlainTransport, Janus `rtp_forward`, ffmpeg, GStreamer —
/// sending plain RTP (or SRTP with SDES keys, RFC 4568) to ports of ours. On each of our ports the sender's
/// address is learnt from its first packet (comedia; ffmpeg sends each stream from a port of its own), within the
/// IP given if one was; packets from anywhere else are dropped and counted. RTCP (receiver reports, NACK, PLI) goes
/// back to where the sender's RTCP comes from, else to its RTP address (where mediasoup and Janus listen with
/// rtcp-mux) or, without rtcp-mux, the port after it.
/// Datagrams and time in, outputs out; confined like `PeerSession`.
public final class PlainRTPSession {
    public typealias Output = PeerSession.Output

    let media: MediaReceiver
    private let inbound: SRTPContext?
    private let outbound: SRTPContext?
    /// The sender's IP when configured: nothing else is accepted.
    private let expectedIP: [UInt8]?
    private let rtcpMux: Bool
    /// Per socket of ours (by index): the sender's RTP and RTCP addresses as learnt.
    private var rtpFrom: [Int: TransportAddress] = [:]
    private var rtcpFrom: [Int: TransportAddress] = [:]
    private var closed = false
    private var refused = 0
    /// Packets from an address other than the sender's, the first of them (logged once by the owner).
    public private(set) var strangers = 0
    public private(set) var firstStranger: TransportAddress?

    public var tracks: [NegotiatedTrack] { media.tracks }
    public var droppedPackets: Int { refused + media.droppedPackets }

    /// `srtp`: the SDES profile and key (master key and salt) the sender protects with, and ours for what we send.
    public init(tracks: [NegotiatedTrack], now: RTPTime, rtcpMux: Bool, sender: [UInt8]? = nil,
                srtp: (profile: SRTPKeyMaterial.Profile, receive: [UInt8], send: [UInt8])? = nil, localSSRC: UInt32 = 1) throws(SecureTransportError) {
        media = MediaReceiver(tracks: tracks, localSSRC: localSSRC, now: now)
        self.rtcpMux = rtcpMux
        expectedIP = sender
        if let srtp {
            inbound = try SRTPContext(profile: srtp.profile, key: srtp.receive, inbound: true)
            outbound = try SRTPContext(profile: srtp.profile, key: srtp.send, inbound: false)
        } else {
            inbound = nil
            outbound = nil
        }
        media.sendRTCPBytes = { [unowned self] bytes in self.sendRTCP(bytes) }
    }

    /// A datagram that reached our socket number `socket`.
    public func receive(_ datagram: [UInt8], from address: TransportAddress, socket: Int, now: RTPTime) -> [Output] {
        guard !closed, RTPPacket.looksLikeRTPOrRTCP(datagram) else { refused += 1; return [] }
        if let expectedIP, address.ip != expectedIP { return stranger(address) }
        var packet = datagram
        if RTPPacket.isRTCP(datagram) {
            // RTCP may come from the RTP address (rtcp-mux) or a port of its own.
            if rtcpFrom[socket] == nil && rtcpFrom.count < 16 { rtcpFrom[socket] = address }
            guard address == rtcpFrom[socket] || address == rtpFrom[socket] else { return stranger(address) }
            if let inbound { guard inbound.unprotect(&packet, rtcp: true) else { refused += 1; return [] } }
            media.receive(rtcp: packet, now: now)
            return []
        }
        if rtpFrom[socket] == nil && rtpFrom.count < 16 { rtpFrom[socket] = address }
        guard address == rtpFrom[socket] else { return stranger(address) }
        if let inbound { guard inbound.unprotect(&packet) else { refused += 1; return [] } }
        guard let rtp = try? RTPPacket(parsing: packet) else { refused += 1; return [] }
        return media.receive(rtp, now: now)
    }

    private func stranger(_ address: TransportAddress) -> [Output] {
        strangers += 1
        if firstStranger == nil { firstStranger = address }
        return strangers % 1000 == 1 ? [.unexpectedSender(address, count: strangers)] : []
    }

    /// Where RTCP goes, to each of the sender's streams (a sender ignores what is about SSRCs not its own): where
    /// its RTCP comes from; else its RTP address (rtcp-mux) or the port after it.
    private var rtcpDestinations: [TransportAddress] {
        var found = Set(rtcpFrom.values)
        for address in rtpFrom.values where !found.contains(address) {
            let rtcp = rtcpMux ? address : TransportAddress(ip: address.ip, port: address.port &+ 1)
            found.insert(rtcp)
        }
        return found.sorted { $0.port < $1.port }
    }

    private func sendRTCP(_ bytes: [UInt8]) -> [Output] {
        var bytes = bytes
        if let outbound { guard outbound.protect(&bytes, rtcp: true) else { return [] } }
        return rtcpDestinations.map { .send(bytes, to: $0) }
    }

    /// Timers: jitter buffers, NACK retries, receiver reports. A plain sender has no handshake or consent: it lasts
    /// until it is removed.
    public func poll(now: RTPTime) -> [Output] { closed ? [] : media.poll(now: now) }

    public func shutdown(reason: String) -> [Output] {
        guard !closed else { return [] }
        closed = true
        media.closed = true
        return [.report(reports), .closed(reason: reason)]
    }

    public var reports: [PeerSession.TrackReport] { media.reports }
    public func statistics(mid: String) -> JitterBuffer.Statistics? { media.statistics(mid: mid) }
    public func requestKeyframe(mid: String, now: RTPTime) -> [Output] { closed ? [] : media.requestKeyframe(mid: mid, now: now) }
    public func setVideoTiles(_ tiles: [String: PictureSize?], now: RTPTime) -> [Output] { closed ? [] : media.setVideoTiles(tiles, now: now) }
    public func setVideoBitrateCap(_ bitsPerSecond: Int?, now: RTPTime) -> [Output] { media.setVideoBitrateCap(bitsPerSecond, now: now) }
}
