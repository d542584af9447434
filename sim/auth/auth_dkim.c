/*
 * DESCRIPTION
 *	DKIM with libopendkim.  The library handle gets a key-lookup
 *	callback that answers "selector._domainkey.domain" from the
 *	auth_zone found through the message handle's user context, so
 *	libopendkim never resolves anything.  Signing runs the same library
 *	in signing mode; keys are made with OpenSSL's EVP interface.
 *
 * DIAGNOSTICS
 *	None: libopendkim and OpenSSL failures are returned.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth_dkim.h"

struct auth_dkim {
	DKIM_LIB		*lib;
	const struct auth_zone	*zone;		/* NULL: signing only */
};

struct auth_dkim_verify {
	struct auth_dkim	*adk;
	DKIM			*dkim;
	bool			 broken;	/* libopendkim refused input */
	bool			 nosig;		/* headers had no signature */
};

static DKIM_CBSTAT key_lookup(DKIM *, DKIM_SIGINFO *, unsigned char *,
    size_t);
static enum auth_dkim_result sig_result(DKIM_SIGINFO *);
static void	copy_str(char *, size_t, const unsigned char *);
static int	pub_b64(EVP_PKEY *, char *, size_t);

/* key_lookup - libopendkim asks for the key record of a signature */
static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, unsigned char *buf, size_t buflen)
{
	struct auth_dkim *adk = dkim_get_user_context(dkim);
	const struct auth_rr *rr[1];
	const unsigned char *d, *s;
	char name[AUTH_NAME_MAX];
	size_t n;

	if (adk == NULL || adk->zone == NULL)
		return DKIM_CBSTAT_NOTFOUND;
	d = dkim_sig_getdomain(sig);
	s = dkim_sig_getselector(sig);
	if (d == NULL || s == NULL ||
	    (size_t)snprintf(name, sizeof(name), "%s._domainkey.%s",
	    (const char *)s, (const char *)d) >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	if (auth_zone_lookup(adk->zone, name, AUTH_RR_TXT, rr, 1) == 0)
		return DKIM_CBSTAT_NOTFOUND;
	n = strlen(rr[0]->data);
	if (n >= buflen)
		return DKIM_CBSTAT_ERROR;
	memcpy(buf, rr[0]->data, n + 1);
	return DKIM_CBSTAT_CONTINUE;
}

/* auth_dkim_create - library handle with our key lookup */
struct auth_dkim *
auth_dkim_create(const struct auth_zone *z)
{
	struct auth_dkim *adk;

	adk = calloc(1, sizeof(*adk));
	if (adk == NULL)
		return NULL;
	adk->lib = dkim_init(NULL, NULL);
	if (adk->lib == NULL) {
		free(adk);
		return NULL;
	}
	adk->zone = z;
	(void)dkim_set_key_lookup(adk->lib, key_lookup);
	return adk;
}

/* auth_dkim_free - close the library handle */
void
auth_dkim_free(struct auth_dkim *adk)
{
	if (adk == NULL)
		return;
	dkim_close(adk->lib);
	free(adk);
}

/* auth_dkim_verify_begin - a verifying handle for one message */
struct auth_dkim_verify *
auth_dkim_verify_begin(struct auth_dkim *adk, const char *id)
{
	struct auth_dkim_verify *v;
	DKIM_STAT st;

	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->adk = adk;
	v->dkim = dkim_verify(adk->lib, (const unsigned char *)id, NULL, &st);
	if (v->dkim == NULL) {
		free(v);
		return NULL;
	}
	(void)dkim_set_user_context(v->dkim, adk);
	return v;
}

/* auth_dkim_verify_feed - raw message bytes */
int
auth_dkim_verify_feed(struct auth_dkim_verify *v, const void *p, size_t n)
{
	DKIM_STAT st;

	if (v->broken || v->nosig || n == 0)
		return v->broken ? -EINVAL : 0;
	st = dkim_chunk(v->dkim, (unsigned char *)(uintptr_t)p, n);
	if (st == DKIM_STAT_NOSIG) {
		v->nosig = true;	/* nothing more to do */
		return 0;
	}
	if (st != DKIM_STAT_OK) {
		v->broken = true;
		return -EINVAL;
	}
	return 0;
}

/* copy_str - bounded copy of a library string */
static void
copy_str(char *dst, size_t max, const unsigned char *src)
{
	size_t n;

	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strlen((const char *)src);
	if (n >= max)
		n = max - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* sig_result - classify one processed signature */
static enum auth_dkim_result
sig_result(DKIM_SIGINFO *sig)
{
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);

	if ((flags & DKIM_SIGFLAG_PASSED) != 0 &&
	    dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
		return AUTH_DKIM_PASS;
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL:
		return AUTH_DKIM_TEMPERROR;
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		return AUTH_DKIM_FAIL;	/* OK but bh mismatch, or bad sig */
	default:
		return AUTH_DKIM_PERMERROR;
	}
}

/* auth_dkim_verify_end - finish and report every signature */
enum auth_dkim_result
auth_dkim_verify_end(struct auth_dkim_verify *v, struct auth_dkim_sig *sigs,
    size_t max, size_t *nsigs)
{
	DKIM_SIGINFO **list = NULL;
	enum auth_dkim_result r, msg = AUTH_DKIM_NONE;
	DKIM_STAT st;
	int n = 0, i;

	*nsigs = 0;
	if (v->nosig)
		return AUTH_DKIM_NONE;
	if (!v->broken) {
		st = dkim_chunk(v->dkim, NULL, 0);
		if (st == DKIM_STAT_OK)
			st = dkim_eom(v->dkim, NULL);
		if (st == DKIM_STAT_NOSIG)
			return AUTH_DKIM_NONE;
	}
	if (dkim_getsiglist(v->dkim, &list, &n) != DKIM_STAT_OK || n == 0)
		return v->broken ? AUTH_DKIM_PERMERROR : AUTH_DKIM_NONE;
	for (i = 0; i < n; i++) {
		r = v->broken ? AUTH_DKIM_PERMERROR : sig_result(list[i]);
		if (i == 0 || r == AUTH_DKIM_PASS)
			msg = msg == AUTH_DKIM_PASS ? msg : r;
		if (*nsigs < max) {
			struct auth_dkim_sig *s = &sigs[(*nsigs)++];

			s->result = r;
			copy_str(s->domain, sizeof(s->domain),
			    dkim_sig_getdomain(list[i]));
			copy_str(s->selector, sizeof(s->selector),
			    dkim_sig_getselector(list[i]));
			s->why = dkim_sig_geterrorstr(
			    dkim_sig_geterror(list[i]));
		}
	}
	return msg;
}

/* auth_dkim_verify_free - free the libopendkim handle */
void
auth_dkim_verify_free(struct auth_dkim_verify *v)
{
	if (v == NULL)
		return;
	dkim_free(v->dkim);
	free(v);
}

/* auth_dkim_sign - sign and render the header with CRLF folding */
int
auth_dkim_sign(struct auth_dkim *adk, const char *key_pem, const char *domain,
    const char *selector, const void *msg, size_t len, char *out,
    size_t outmax)
{
	static const char hname[] = "DKIM-Signature: ";
	unsigned char hdr[8192];
	DKIM *dkim;
	DKIM_STAT st;
	size_t o, i;
	int rc = 0;

	dkim = dkim_sign(adk->lib, (const unsigned char *)"mxsim", NULL,
	    (dkim_sigkey_t)(uintptr_t)key_pem,
	    (const unsigned char *)selector, (const unsigned char *)domain,
	    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1,
	    &st);
	if (dkim == NULL)
		return st == DKIM_STAT_NORESOURCE ? -ENOMEM : -EINVAL;
	st = dkim_chunk(dkim, (unsigned char *)(uintptr_t)msg, len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dkim, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(dkim, NULL);
	if (st == DKIM_STAT_OK)
		st = dkim_getsighdr(dkim, hdr, sizeof(hdr), sizeof(hname) - 1);
	if (st != DKIM_STAT_OK) {
		dkim_free(dkim);
		return st == DKIM_STAT_NORESOURCE ? -ENOMEM : -EINVAL;
	}
	dkim_free(dkim);
	/* Name, value with every LF made CRLF, final CRLF. */
	o = sizeof(hname) - 1;
	if (o >= outmax)
		return -ENOSPC;
	memcpy(out, hname, o);
	for (i = 0; hdr[i] != '\0' && rc == 0; i++) {
		if (hdr[i] == '\r')
			continue;
		if (hdr[i] == '\n') {
			if (o + 1 >= outmax) {
				rc = -ENOSPC;
				break;
			}
			out[o++] = '\r';
		}
		if (o + 1 >= outmax)
			rc = -ENOSPC;
		else
			out[o++] = (char)hdr[i];
	}
	if (rc == 0 && o + 3 > outmax)
		rc = -ENOSPC;
	if (rc != 0)
		return rc;
	out[o++] = '\r';
	out[o++] = '\n';
	out[o] = '\0';
	return 0;
}

/* pub_b64 - base64 DER SubjectPublicKeyInfo of a key */
static int
pub_b64(EVP_PKEY *pk, char *out, size_t max)
{
	unsigned char *der = NULL;
	int derlen;

	derlen = i2d_PUBKEY(pk, &der);
	if (derlen <= 0)
		return -ENOMEM;
	if ((size_t)(derlen + 2) / 3 * 4 + 1 > max) {
		OPENSSL_free(der);
		return -ENOSPC;
	}
	EVP_EncodeBlock((unsigned char *)out, der, derlen);
	OPENSSL_free(der);
	return 0;
}

/* auth_dkim_keygen - RSA key pair: PEM private, base64 DER public */
int
auth_dkim_keygen(unsigned bits, char *priv, size_t privmax, char *pub,
    size_t pubmax)
{
	EVP_PKEY *pk;
	BIO *bio = NULL;
	char *pem;
	long pemlen;
	int rc = -ENOMEM;

	if (bits < 1024 || bits > 4096)
		return -EINVAL;
	pk = EVP_RSA_gen(bits);
	if (pk == NULL)
		return -ENOMEM;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0,
	    NULL, NULL) != 1)
		goto out;
	pemlen = BIO_get_mem_data(bio, &pem);
	if (pemlen <= 0 || (size_t)pemlen >= privmax) {
		rc = -ENOSPC;
		goto out;
	}
	memcpy(priv, pem, (size_t)pemlen);
	priv[pemlen] = '\0';
	rc = pub_b64(pk, pub, pubmax);
out:
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return rc;
}

/* auth_dkim_pubkey - the p= value of a PEM private key */
int
auth_dkim_pubkey(const char *priv, char *pub, size_t pubmax)
{
	EVP_PKEY *pk;
	BIO *bio;
	int rc;

	bio = BIO_new_mem_buf(priv, -1);
	if (bio == NULL)
		return -ENOMEM;
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pk == NULL)
		return -EINVAL;
	rc = pub_b64(pk, pub, pubmax);
	EVP_PKEY_free(pk);
	return rc;
}

/* auth_dkim_result_str - RFC 8601 name */
const char *
auth_dkim_result_str(enum auth_dkim_result r)
{
	switch (r) {
	case AUTH_DKIM_NONE:
		return "none";
	case AUTH_DKIM_PASS:
		return "pass";
	case AUTH_DKIM_FAIL:
		return "fail";
	case AUTH_DKIM_PERMERROR:
		return "permerror";
	case AUTH_DKIM_TEMPERROR:
		return "temperror";
	default:
		return "permerror";
	}
}
