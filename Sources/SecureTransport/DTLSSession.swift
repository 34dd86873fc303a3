import COpenSSL

/// SRTP keys exported from a finished DTLS handshake (RFC 5764 §4.2).
public struct SRTPKeyMaterial: Sendable, Equatable {
    public enum Profile: Sendable, Equatable {
        case aes128CmSha1_80, aeadAes128Gcm
        var keyLength: Int { 16 }
        var saltLength: Int { self == .aeadAes128Gcm ? 12 : 14 }
    }
    public var profile: Profile
    /// key ‖ salt of the DTLS client's direction and of the server's.
    public var clientKey: [UInt8]
    public var serverKey: [UInt8]
}

/// One DTLS 1.2 association, without a socket: datagrams in, datagrams out (RFC 5764 DTLS-SRTP).
/// We are the passive (server) side for participants; the built-in publisher uses the client side.
/// One owner (the transport's event loop); not Sendable.
public final class DTLSSession {
    public enum Role: Sendable { case server, client }
    public enum State: Sendable, Equatable {
        case handshaking
        case connected(SRTPKeyMaterial)
        case failed(String)
        case closed
    }

    public let role: Role
    public private(set) var state: State = .handshaking
    /// Keeps the shared context (and so its certificate) alive while this session uses it.
    private let certificate: DTLSCertificate
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private let expectedFingerprint: (algorithm: String, value: String)?
    public static let mtu = 1200

    /// `expectedFingerprint`: the peer's fingerprint from its SDP (`algorithm` one of
    /// `DTLSCertificate.fingerprintAlgorithms`); the session fails if the peer's certificate does not match it.
    public init(role: Role, certificate: DTLSCertificate, expectedFingerprint: String?,
                fingerprintAlgorithm: String = "sha-256") throws(SecureTransportError) {
        guard DTLSCertificate.fingerprintAlgorithms.contains(fingerprintAlgorithm.lowercased()) else {
            throw SecureTransportError.unsupported("the peer's fingerprint uses \(fingerprintAlgorithm); one of "
                                       + "\(DTLSCertificate.fingerprintAlgorithms.sorted().joined(separator: ", ")) is required")
        }
        guard let ssl = SSL_new(certificate.context) else { throw .openSSL("cannot create a DTLS session") }
        guard let rbio = BIO_new(BIO_s_mem()), let wbio = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .openSSL("cannot create a DTLS session")
        }
        mcu_bio_set_eof_retry(rbio)
        mcu_bio_set_eof_retry(wbio)
        SSL_set_bio(ssl, rbio, wbio)
        mcu_ssl_set_mtu(ssl, DTLSSession.mtu)
        if role == .server { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
        self.role = role
        self.certificate = certificate
        self.ssl = ssl
        self.readBIO = rbio
        self.writeBIO = wbio
        self.expectedFingerprint = expectedFingerprint.map { (fingerprintAlgorithm.lowercased(), $0.uppercased()) }
    }

    deinit {
        SSL_free(ssl)          // frees both BIOs and its reference to the shared context
    }

    /// The OpenSSL context this session was made from (tests: one per certificate, not per session).
    var contextIdentity: UInt { UInt(bitPattern: SSL_get_SSL_CTX(ssl)) }

    /// The client's first flight (the server waits for it).
    public func start() -> [[UInt8]] {
        guard role == .client else { return [] }
        advanceHandshake()
        return takeOutgoing()
    }

    /// Feeds one datagram from the peer; returns what to send back.
    public func receive(_ datagram: [UInt8]) -> [[UInt8]] {
        guard !datagram.isEmpty, datagram.count <= 65_535 else { return [] }
        switch state {
        case .failed, .closed: return []
        default: break
        }
        datagram.withUnsafeBytes { _ = BIO_write(readBIO, $0.baseAddress, Int32($0.count)) }
        if state == .handshaking {
            advanceHandshake()
        } else {
            // Application data is not used by WebRTC media; read to process alerts (close_notify).
            var sink = [UInt8](repeating: 0, count: 2048)
            let read = SSL_read(ssl, &sink, Int32(sink.count))
            if read <= 0, SSL_get_error(ssl, read) == SSL_ERROR_ZERO_RETURN { state = .closed }
        }
        return takeOutgoing()
    }

    /// Microseconds until the handshake's retransmission timer fires (nil: no timer).
    public var timeoutMicroseconds: Int64? {
        guard state == .handshaking else { return nil }
        let t = mcu_dtls_get_timeout_us(ssl)
        return t < 0 ? nil : Int64(t)
    }

    /// Retransmits the last flight when its timer has expired.
    public func handleTimeout() -> [[UInt8]] {
        guard state == .handshaking else { return [] }
        if mcu_dtls_handle_timeout(ssl) < 0 { state = .failed(SecureTransportError.openSSL("DTLS handshake timed out").message) }
        return takeOutgoing()
    }

    private func advanceHandshake() {
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            finishHandshake()
            return
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return }
        state = .failed(SecureTransportError.openSSL("DTLS handshake failed").message)
    }

    private func finishHandshake() {
        guard let peer = SSL_get1_peer_certificate(ssl) else { state = .failed("the peer sent no certificate"); return }
        let fingerprint = expectedFingerprint.flatMap { DTLSCertificate.fingerprint(peer, algorithm: $0.algorithm) }
        X509_free(peer)
        if let expected = expectedFingerprint, fingerprint != expected.value {
            state = .failed("the peer's certificate does not match the fingerprint in its SDP")
            return
        }
        guard let selected = SSL_get_selected_srtp_profile(ssl) else { state = .failed("no SRTP profile was negotiated"); return }
        let profile: SRTPKeyMaterial.Profile
        switch selected.pointee.id {
        case UInt(SRTP_AES128_CM_SHA1_80): profile = .aes128CmSha1_80
        case UInt(SRTP_AEAD_AES_128_GCM): profile = .aeadAes128Gcm
        default: state = .failed("unsupported SRTP profile \(selected.pointee.id)"); return
        }
        let k = profile.keyLength, s = profile.saltLength
        var material = [UInt8](repeating: 0, count: 2 * (k + s))
        let label = "EXTRACTOR-dtls_srtp"
        guard SSL_export_keying_material(ssl, &material, material.count, label, label.utf8.count, nil, 0, 0) == 1 else {
            state = .failed(SecureTransportError.openSSL("cannot export SRTP keys").message)
            return
        }
        // client key, server key, client salt, server salt
        let clientKey = Array(material[0..<k]) + Array(material[(2 * k)..<(2 * k + s)])
        let serverKey = Array(material[k..<(2 * k)]) + Array(material[(2 * k + s)..<(2 * k + 2 * s)])
        state = .connected(SRTPKeyMaterial(profile: profile, clientKey: clientKey, serverKey: serverKey))
    }

    /// One datagram per flight: DTLS records are self-delimiting, so a flight may share a datagram.
    private func takeOutgoing() -> [[UInt8]] {
        let pending = mcu_bio_pending(writeBIO)
        guard pending > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: pending)
        let read = BIO_read(writeBIO, &out, Int32(pending))
        return read > 0 ? [Array(out.prefix(Int(read)))] : []
    }

    /// RFC 7983: DTLS records start with a byte in 20…63.
    public static func looksLikeDTLS(_ bytes: [UInt8]) -> Bool { bytes.first.map { (20...63).contains($0) } ?? false }
}
