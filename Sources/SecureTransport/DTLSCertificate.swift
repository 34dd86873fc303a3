import COpenSSL

/// Our DTLS identity: an ECDSA P-256 key and a self-signed certificate made at start-up, its SHA-256 fingerprint
/// for the SDP, and the one DTLS-SRTP context every session with this identity is made from (configuring an
/// SSL_CTX per session cost a context per participant). `@unchecked Sendable`: never modified after init; OpenSSL
/// reference-counts the key, certificate and context and allows SSL_new from several threads on one context.
public final class DTLSCertificate: @unchecked Sendable {
    let key: OpaquePointer
    let certificate: OpaquePointer
    /// `sha-256` fingerprint as SDP writes it: `AB:CD:…`.
    public let fingerprint: String
    /// DTLS 1.2+, this certificate and key, the SRTP profiles, the peer's certificate required (checked against its
    /// SDP fingerprint after the handshake).
    let context: OpaquePointer
    /// Fingerprint algorithms a peer may use in its SDP (RFC 8122's hash names that are still collision-hard enough
    /// for a self-signed peer certificate; sha-1 is what older stacks write).
    public static let fingerprintAlgorithms: Set<String> = ["sha-1", "sha-224", "sha-256", "sha-384", "sha-512"]

    public init(commonName: String = "mcu-record", validDays: Int = 30) throws(SecureTransportError) {
        guard let key = mcu_generate_p256() else { throw .openSSL("cannot generate an ECDSA P-256 key") }
        guard let x509 = X509_new() else { EVP_PKEY_free(key); throw .openSSL("cannot create a certificate") }
        X509_set_version(x509, 2)
        var serial = [UInt8](repeating: 0, count: 8)
        RAND_bytes(&serial, 8)
        ASN1_INTEGER_set(X509_get_serialNumber(x509), Int(Int64(bitPattern: serial.withUnsafeBytes { $0.load(as: UInt64.self) } & 0x7FFF_FFFF_FFFF_FFFF)))
        X509_gmtime_adj(X509_getm_notBefore(x509), -86400)
        X509_gmtime_adj(X509_getm_notAfter(x509), validDays * 86400)
        X509_set_pubkey(x509, key)
        let name = X509_get_subject_name(x509)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        X509_set_issuer_name(x509, name)
        guard X509_sign(x509, key, EVP_sha256()) > 0 else {
            X509_free(x509); EVP_PKEY_free(key)
            throw .openSSL("cannot sign the certificate")
        }
        guard let ctx = SSL_CTX_new(DTLS_method()) else { X509_free(x509); EVP_PKEY_free(key); throw .openSSL("cannot create a DTLS context") }
        guard SSL_CTX_use_certificate(ctx, x509) == 1, SSL_CTX_use_PrivateKey(ctx, key) == 1,
              mcu_ssl_ctx_dtls12_minimum(ctx) == 1,
              SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") == 0 else {
            SSL_CTX_free(ctx); X509_free(x509); EVP_PKEY_free(key)
            throw .openSSL("cannot configure DTLS-SRTP")
        }
        mcu_ssl_ctx_verify_peer(ctx)
        self.key = key
        self.certificate = x509
        self.context = ctx
        self.fingerprint = DTLSCertificate.fingerprint(x509, algorithm: "sha-256") ?? ""
    }

    deinit {
        SSL_CTX_free(context)
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// The certificate's fingerprint with `algorithm` (an SDP hash name), as SDP writes it; nil for an unknown one.
    static func fingerprint(_ x509: OpaquePointer, algorithm: String) -> String? {
        let digester: OpaquePointer?
        switch algorithm.lowercased() {
        case "sha-1": digester = EVP_sha1()
        case "sha-224": digester = EVP_sha224()
        case "sha-256": digester = EVP_sha256()
        case "sha-384": digester = EVP_sha384()
        case "sha-512": digester = EVP_sha512()
        default: return nil
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let digester, X509_digest(x509, digester, &digest, &length) == 1 else { return nil }
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
