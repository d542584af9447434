/*
 * DESCRIPTION
 *	CUnit suite "tls_srv": the generated certificate (CN, DNS
 *	subjectAltName, EC P-256 key, validity, the default host name),
 *	PEM files written from it and loaded back, load errors that name
 *	the file (missing file, not PEM, key of another certificate, one
 *	file without the other), and real handshakes over a socket pair:
 *	a default client negotiates TLS 1.3, a client limited to TLS 1.1 is
 *	refused.  Handshake loops are bounded.
 *
 * DIAGNOSTICS
 *	Aborts the suite (CU_ASSERT_FATAL) when a temporary directory or a
 *	socket pair cannot be made.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "test_suites.h"
#include "tls_srv.h"

#define TLS_T_ROUNDS	2000	/* handshake steps before giving up */

static void	tmpdir(char *, size_t);
static void	write_pem(const char *, const char *, X509 *, EVP_PKEY *);
static int	handshake(struct tls_srv *, int, int *);

/* tmpdir - a fresh private directory */
static void
tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/mxsim-tls-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

/* write_pem - certificate (when @x) or key (when @k) to @path */
static void
write_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CU_ASSERT_FATAL((fp = fopen(path, "w")) != NULL);
	if (x != NULL)
		CU_ASSERT(PEM_write_X509(fp, x) == 1);
	if (k != NULL)
		CU_ASSERT(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL,
		    NULL) == 1);
	fclose(fp);
}

/*
 * handshake - a client with maximum version @maxver (0: any) against
 * the server over a non-blocking socket pair; @return 1 when both ends
 * completed, 0 when the server refused; @version gets the protocol
 */
static int
handshake(struct tls_srv *t, int maxver, int *version)
{
	SSL_CTX *cctx;
	SSL *c, *s;
	int sv[2], i, rs = 0, rc = 0, e, result = -1;

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	CU_ASSERT_FATAL((cctx = SSL_CTX_new(TLS_client_method())) != NULL);
	if (maxver != 0) {
		/* an old client: let it offer what it wants to offer */
		SSL_CTX_set_security_level(cctx, 0);
		SSL_CTX_set_cipher_list(cctx, "DEFAULT@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(cctx, maxver);
	}
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	CU_ASSERT_FATAL((c = SSL_new(cctx)) != NULL);
	SSL_set_fd(c, sv[0]);
	SSL_set_connect_state(c);
	CU_ASSERT_FATAL((s = tls_srv_conn_new(t, sv[1])) != NULL);
	for (i = 0; i < TLS_T_ROUNDS && result < 0; i++) {
		if (rc != 1) {
			rc = SSL_do_handshake(c);
			e = SSL_get_error(c, rc);
			if (rc != 1 && e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				result = 0;
		}
		if (rs != 1) {
			rs = SSL_accept(s);
			e = SSL_get_error(s, rs);
			if (rs != 1 && e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				result = 0;
		}
		if (rc == 1 && rs == 1)
			result = 1;
	}
	CU_ASSERT(result >= 0);		/* not stuck */
	*version = SSL_version(s);
	ERR_clear_error();
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	close(sv[0]);
	close(sv[1]);
	return result;
}

/* test_generated - CN, SAN, P-256, validity; "mxsim" by default */
static void
test_generated(void)
{
	struct tls_srv *t;
	X509 *x;
	EVP_PKEY *k;
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	char cn[256], err[512];
	int ver;

	t = tls_srv_new(NULL, NULL, "mx.test.example", err, sizeof(err));
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(tls_srv_generated(t));
	x = SSL_CTX_get0_certificate(tls_srv_ctx(t));
	k = SSL_CTX_get0_privatekey(tls_srv_ctx(t));
	CU_ASSERT_FATAL(x != NULL && k != NULL);
	CU_ASSERT(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0);
	CU_ASSERT_STRING_EQUAL(cn, "mx.test.example");
	CU_ASSERT(X509_check_issued(x, x) == X509_V_OK);	/* self-signed */
	CU_ASSERT(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
	CU_ASSERT(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
	CU_ASSERT(X509_check_host(x, "mx.test.example", 0, 0, NULL) == 1);
	CU_ASSERT(X509_check_host(x, "other.example", 0, 0, NULL) == 0);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	CU_ASSERT_FATAL(gens != NULL);
	CU_ASSERT_EQUAL(sk_GENERAL_NAME_num(gens), 1);
	g = sk_GENERAL_NAME_value(gens, 0);
	CU_ASSERT_EQUAL(g->type, GEN_DNS);
	GENERAL_NAMES_free(gens);
	CU_ASSERT(EVP_PKEY_is_a(k, "EC"));
	CU_ASSERT_EQUAL(EVP_PKEY_get_bits(k), 256);
	CU_ASSERT_EQUAL(handshake(t, 0, &ver), 1);
	CU_ASSERT_EQUAL(ver, TLS1_3_VERSION);
	tls_srv_free(t);

	t = tls_srv_new(NULL, NULL, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(t != NULL);
	x = SSL_CTX_get0_certificate(tls_srv_ctx(t));
	CU_ASSERT(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0);
	CU_ASSERT_STRING_EQUAL(cn, "mxsim");
	tls_srv_free(t);

	CU_ASSERT(tls_srv_new(NULL, NULL, "bad name,x", err, sizeof(err)) ==
	    NULL);
	CU_ASSERT(strstr(err, "not usable as a DNS name") != NULL);
}

/* test_old_client - TLS 1.2 is accepted, TLS 1.1 refused */
static void
test_old_client(void)
{
	struct tls_srv *t;
	char err[512];
	int ver;

	t = tls_srv_new(NULL, NULL, "mx.test.example", err, sizeof(err));
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL(handshake(t, TLS1_2_VERSION, &ver), 1);
	CU_ASSERT_EQUAL(ver, TLS1_2_VERSION);
	CU_ASSERT_EQUAL(handshake(t, TLS1_1_VERSION, &ver), 0);
	CU_ASSERT_EQUAL(handshake(t, TLS1_VERSION, &ver), 0);
	tls_srv_free(t);
}

/* test_files - PEM files load; errors name the file and the reason */
static void
test_files(void)
{
	static const struct {
		const char	*cert;
		const char	*key;
		const char	*want[2];	/* substrings of the error */
	} bad[] = {
		{ "nope.pem", "key.pem",
		  { "/nope.pem: cannot open certificate", "No such file" } },
		{ "cert.pem", "nope.pem",
		  { "/nope.pem: cannot open private key", "No such file" } },
		{ "junk.pem", "key.pem",
		  { "/junk.pem: cannot read certificate", "no start line" } },
		{ "cert.pem", "junk.pem",
		  { "/junk.pem: cannot read private key", "" } },
		{ "cert.pem", "key2.pem",
		  { "/key2.pem: ", "mismatch" } },
	};
	struct tls_srv *t, *t2;
	char dir[64], cert[128], key[128], err[1024];
	FILE *fp;
	size_t i;

	tmpdir(dir, sizeof(dir));
	t = tls_srv_new(NULL, NULL, "mx.test.example", err, sizeof(err));
	t2 = tls_srv_new(NULL, NULL, "mx2.test.example", err, sizeof(err));
	CU_ASSERT_FATAL(t != NULL && t2 != NULL);
	write_pem(dir, "cert.pem", SSL_CTX_get0_certificate(tls_srv_ctx(t)),
	    NULL);
	write_pem(dir, "key.pem", NULL,
	    SSL_CTX_get0_privatekey(tls_srv_ctx(t)));
	write_pem(dir, "key2.pem", NULL,
	    SSL_CTX_get0_privatekey(tls_srv_ctx(t2)));
	snprintf(cert, sizeof(cert), "%s/junk.pem", dir);
	CU_ASSERT_FATAL((fp = fopen(cert, "w")) != NULL);
	fputs("this is not PEM\n", fp);
	fclose(fp);
	tls_srv_free(t);
	tls_srv_free(t2);

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	t = tls_srv_new(cert, key, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(!tls_srv_generated(t));
	tls_srv_free(t);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cert, sizeof(cert), "%s/%s", dir, bad[i].cert);
		snprintf(key, sizeof(key), "%s/%s", dir, bad[i].key);
		err[0] = '\0';
		t = tls_srv_new(cert, key, NULL, err, sizeof(err));
		CU_ASSERT(t == NULL);
		tls_srv_free(t);
		if (strstr(err, bad[i].want[0]) == NULL ||
		    strstr(err, bad[i].want[1]) == NULL) {
			fprintf(stderr, "\n[%zu] got \"%s\"\n", i, err);
			CU_FAIL("error message");
		}
	}
	CU_ASSERT(tls_srv_new(cert, NULL, NULL, err, sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "needs a key file") != NULL);

	for (i = 0; i < 4; i++) {
		static const char *const f[] = {
			"cert.pem", "key.pem", "key2.pem", "junk.pem"
		};

		snprintf(cert, sizeof(cert), "%s/%s", dir, f[i]);
		unlink(cert);
	}
	rmdir(dir);
}

/* test_tls_srv_register - the suite */
int
test_tls_srv_register(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("tls_srv", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "generated certificate", test_generated) == NULL ||
	    CU_add_test(s, "old clients", test_old_client) == NULL ||
	    CU_add_test(s, "PEM files and errors", test_files) == NULL)
		return -1;
	return 0;
}
