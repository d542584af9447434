/*
 * DESCRIPTION
 *	Server TLS context for STARTTLS: TLS 1.2 minimum, no renegotiation,
 *	no session cache and no tickets (each STARTTLS is a full handshake,
 *	which is what a sink under load should measure), partial and moving
 *	writes allowed because the session's output buffer moves its pending
 *	bytes forward, and buffers released while a connection is idle.
 *	The certificate comes from PEM files or is generated in memory: an
 *	EC P-256 key and a self-signed X.509 v3 certificate with CN and a
 *	DNS subjectAltName, signed with SHA-256.
 *
 * DIAGNOSTICS
 *	Every failure of tls_srv_new() is returned as a message naming the
 *	file (or "generated certificate") and OpenSSL's reason for the first
 *	error on its queue; the queue is cleared afterwards.  No panics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_srv.h"

#define TLS_SRV_DEFAULT_HOST	"mxsim"
#define TLS_SRV_VALID_S		(365L * 86400)	/* generated cert */
#define TLS_SRV_BACKDATE_S	3600L		/* for clock skew */

struct tls_srv {
	SSL_CTX		*ctx;
	bool		 generated;	/* self-signed, made at start */
};

static void	tls_err(char *, size_t, const char *, const char *);
static int	tls_load(SSL_CTX *, const char *, const char *, char *,
		    size_t);
static int	tls_generate(SSL_CTX *, const char *, char *, size_t);
static X509	*tls_self_signed(EVP_PKEY *, const char *);

/* tls_err - "<what>: <action>: <OpenSSL's reason>", then clear the queue */
static void
tls_err(char *err, size_t errlen, const char *what, const char *action)
{
	const char *reason = NULL;
	unsigned long e;

	e = ERR_peek_error();	/* the first: the root cause */
	if (e != 0)
		reason = ERR_reason_error_string(e);
	if (reason == NULL)
		reason = e != 0 ? "unknown OpenSSL error" : strerror(errno);
	snprintf(err, errlen, "%s: %s: %s", what, action, reason);
	ERR_clear_error();
}

/* tls_load - certificate chain and key from PEM files, checked together */
static int
tls_load(SSL_CTX *ctx, const char *cert, const char *key, char *err,
    size_t errlen)
{
	FILE *fp;

	/* fopen first: a missing file gets the system's own words */
	if ((fp = fopen(cert, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open certificate: %s", cert,
		    strerror(errno));
		return -ENOENT;
	}
	fclose(fp);
	if ((fp = fopen(key, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open private key: %s", key,
		    strerror(errno));
		return -ENOENT;
	}
	fclose(fp);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_err(err, errlen, cert, "cannot read certificate");
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, key, "cannot read private key");
		return -EINVAL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, key, "does not match the certificate");
		return -EINVAL;
	}
	return 0;
}

/* tls_self_signed - a v3 certificate for @host signed by @pkey, or NULL */
static X509 *
tls_self_signed(EVP_PKEY *pkey, const char *host)
{
	X509 *x;
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	unsigned char serial[16];
	char san[300];
	BIGNUM *bn = NULL;
	int ok = 0;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;		/* a positive serial number */
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -TLS_SRV_BACKDATE_S) ==
	    NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), TLS_SRV_VALID_S) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"mxsim test sink", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", host);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    san)) == NULL)
		goto out;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ok != 1 || X509_sign(x, pkey, EVP_sha256()) == 0) {
		ok = 0;
		goto out;
	}
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* tls_generate - a P-256 key and a self-signed certificate into @ctx */
static int
tls_generate(SSL_CTX *ctx, const char *host, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	X509 *x;
	int rc = 0;

	if (strlen(host) > 255 || strpbrk(host, ", \t\r\n") != NULL) {
		snprintf(err, errlen, "generated certificate: host name \"%s\" "
		    "is not usable as a DNS name", host);
		return -EINVAL;
	}
	if ((pkey = EVP_EC_gen("P-256")) == NULL) {
		tls_err(err, errlen, "generated certificate", "EC P-256 key");
		return -ENOMEM;
	}
	if ((x = tls_self_signed(pkey, host)) == NULL) {
		tls_err(err, errlen, "generated certificate", "signing");
		rc = -ENOMEM;
	} else if (SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		tls_err(err, errlen, "generated certificate", "cannot use it");
		rc = -EINVAL;
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

/* tls_srv_new - the server context, from files or generated */
struct tls_srv *
tls_srv_new(const char *cert_file, const char *key_file, const char *host,
    char *err, size_t errlen)
{
	struct tls_srv *t;
	int rc;

	if ((cert_file == NULL) != (key_file == NULL)) {
		snprintf(err, errlen, "a certificate file needs a key file "
		    "and the other way round");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "TLS context", "cannot create");
		free(t);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(t->ctx, 0);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (cert_file != NULL)
		rc = tls_load(t->ctx, cert_file, key_file, err, errlen);
	else {
		rc = tls_generate(t->ctx, host != NULL && *host != '\0' ?
		    host : TLS_SRV_DEFAULT_HOST, err, errlen);
		t->generated = true;
	}
	if (rc != 0) {
		tls_srv_free(t);
		return NULL;
	}
	return t;
}

/* tls_srv_free - free the context */
void
tls_srv_free(struct tls_srv *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* tls_srv_generated - was the certificate made at start */
bool
tls_srv_generated(const struct tls_srv *t)
{
	return t->generated;
}

/* tls_srv_ctx - the OpenSSL context */
SSL_CTX *
tls_srv_ctx(const struct tls_srv *t)
{
	return t->ctx;
}

/* tls_srv_conn_new - an accepting SSL object on @fd */
SSL *
tls_srv_conn_new(struct tls_srv *t, int fd)
{
	SSL *ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}
