#ifndef MCU_COPENSSL_SHIM_H
#define MCU_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/rand.h>

// Macros and variadic calls do not reach Swift; these expose the ones we use.
static inline EVP_PKEY *mcu_generate_p256(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }
static inline long mcu_ssl_set_mtu(SSL *ssl, long mtu) {
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    return SSL_set_mtu(ssl, mtu);
}
static inline long mcu_dtls_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
static inline long mcu_dtls_get_timeout_us(SSL *ssl) {
    struct timeval tv;
    if (DTLSv1_get_timeout(ssl, &tv) <= 0) return -1;
    return (long)tv.tv_sec * 1000000L + tv.tv_usec;
}
static inline size_t mcu_bio_pending(BIO *bio) { return BIO_ctrl_pending(bio); }
static inline void mcu_bio_set_eof_retry(BIO *bio) { BIO_set_mem_eof_return(bio, -1); }
static inline int mcu_accept_any_certificate(int ok, X509_STORE_CTX *ctx) { (void)ok; (void)ctx; return 1; }
static inline void mcu_ssl_ctx_verify_peer(SSL_CTX *ctx) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, mcu_accept_any_certificate);
}
static inline int mcu_ssl_ctx_dtls12_minimum(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION); }
#endif
