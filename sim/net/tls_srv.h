/*
 * @file tls_srv.h
 * The server side of STARTTLS (RFC 3207) with OpenSSL 3: one TLS context
 * per mxsim process, shared read-only by every worker thread, and one
 * SSL object per connection that asked for STARTTLS (none on the plain
 * path).
 *
 * The context accepts TLS 1.2 and TLS 1.3 only.  Its certificate and key
 * come from PEM files, or, when none is given, from a self-signed
 * certificate made in memory at start: an EC P-256 key, the subject
 * CN and a DNS subjectAltName set to the host name given (or "mxsim"),
 * valid from one hour before start for one year.  mxsim is a test sink:
 * it asks for no client certificate.
 *
 * Errors name the file and carry OpenSSL's reason, e.g.
 * "/etc/x.pem: cannot read certificate: no start line".
 */
#ifndef TLS_SRV_H
#define TLS_SRV_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct tls_srv;

/**
 * Make the server TLS context.
 * @param cert_file  PEM certificate (chain) file, or NULL to generate.
 * @param key_file   PEM private key file; NULL exactly when @p cert_file is.
 * @param host       CN and subjectAltName of a generated certificate;
 *                   NULL or "" means "mxsim".  Ignored with files.
 * @param err        on failure, a message naming the file and the reason.
 * @return the context, or NULL (unreadable or mismatched files, one file
 *         without the other, out of memory).
 */
struct tls_srv *tls_srv_new(const char *cert_file, const char *key_file,
    const char *host, char *err, size_t errlen);

/** Free the context (after every SSL made from it was freed); NULL ok. */
void tls_srv_free(struct tls_srv *t);

/** @return true when the certificate was generated at start. */
bool tls_srv_generated(const struct tls_srv *t);

/** @return the OpenSSL context (tests read its certificate and key). */
SSL_CTX *tls_srv_ctx(const struct tls_srv *t);

/**
 * A server SSL object for one connection, bound to socket @p fd and set
 * to accept (the backend then calls SSL_accept until it completes).  The
 * caller owns it and frees it with SSL_free().
 * @return the SSL object, or NULL (out of memory).
 */
SSL *tls_srv_conn_new(struct tls_srv *t, int fd);

#endif /* TLS_SRV_H */
