import COpenSSL

/// Our DTLS identity: an ECDSA P-256 key and a self-signed certificate made at start-up, and its SHA-256
/// fingerprint for the SDP. `@unchecked Sendable`: never modified after init; OpenSSL reference-counts the key
/// and certificate and allows concurrent read-only use by several SSL_CTX.
public final class DTLSCertificate: @unchecked Sendable {
    let key: OpaquePointer
    let certificate: OpaquePointer
    /// `sha-256` fingerprint as SDP writes it: `AB:CD:…`.
    public let fingerprint: String

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
        self.key = key
        self.certificate = x509
        self.fingerprint = DTLSCertificate.sha256Fingerprint(x509) ?? ""
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    static func sha256Fingerprint(_ x509: OpaquePointer) -> String? {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(x509, EVP_sha256(), &digest, &length) == 1 else { return nil }
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
