import CSRTP

private let srtpLibrary: Bool = srtp_init() == srtp_err_status_ok

/// One direction of SRTP/SRTCP (libsrtp2). Inbound contexts keep a replay window of 1024 packets.
/// One owner (the transport's event loop); not Sendable.
public final class SRTPContext {
    private var session: srtp_t?
    public static let maxTrailer = Int(SRTP_MAX_TRAILER_LEN)

    public init(profile: SRTPKeyMaterial.Profile, key: [UInt8], inbound: Bool) throws(SecureTransportError) {
        guard srtpLibrary else { throw SecureTransportError.srtpFailure("libsrtp could not start") }
        var policy = srtp_policy_t()
        switch profile {
        case .aes128CmSha1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        }
        policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound
        policy.window_size = 1024
        policy.allow_repeat_tx = 0
        policy.next = nil
        var keyBytes = key
        let status = keyBytes.withUnsafeMutableBufferPointer { buffer -> srtp_err_status_t in
            policy.key = buffer.baseAddress
            return srtp_create(&session, &policy)
        }
        guard status == srtp_err_status_ok else { throw SecureTransportError.srtpFailure("cannot create an SRTP session (libsrtp status \(status.rawValue))") }
    }

    deinit { if let session { srtp_dealloc(session) } }

    /// Decrypts and authenticates in place; false for forged, damaged or replayed packets.
    public func unprotect(_ packet: inout [UInt8], rtcp: Bool = false) -> Bool {
        guard let session, packet.count >= (rtcp ? 8 : 12) else { return false }
        var length = Int32(packet.count)
        let status = packet.withUnsafeMutableBytes { raw in
            rtcp ? srtp_unprotect_rtcp(session, raw.baseAddress, &length) : srtp_unprotect(session, raw.baseAddress, &length)
        }
        guard status == srtp_err_status_ok, length >= 0, Int(length) <= packet.count else { return false }
        packet.removeLast(packet.count - Int(length))
        return true
    }

    /// Encrypts and authenticates in place (the packet grows by the auth tag / SRTCP index).
    public func protect(_ packet: inout [UInt8], rtcp: Bool = false) -> Bool {
        guard let session else { return false }
        var length = Int32(packet.count)
        packet += [UInt8](repeating: 0, count: SRTPContext.maxTrailer + 4)
        let status = packet.withUnsafeMutableBytes { raw in
            rtcp ? srtp_protect_rtcp(session, raw.baseAddress, &length) : srtp_protect(session, raw.baseAddress, &length)
        }
        guard status == srtp_err_status_ok else { return false }
        packet.removeLast(packet.count - Int(length))
        return true
    }
}
