/*
 * DESCRIPTION
 *	mxload's transport: recv/send on a plain socket, SSL_read/SSL_write
 *	after STARTTLS, with TLS results mapped to what the socket calls
 *	would have returned, and the non-blocking client handshake.  The
 *	client context verifies nothing (the peer is a test sink) and keeps
 *	no sessions, so every STARTTLS is a full handshake.  Each handshake
 *	allocates one SSL object; the plain path allocates nothing and only
 *	tests c->ssl.
 *
 * DIAGNOSTICS
 *	A failed handshake is an error "TLS handshake failed" at the ehlo
 *	stage; conf->tls receives the counts.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "hx_load_priv.h"

static ssize_t		tls_result(struct hx_conn *, int);

/* hx_tls_ctx_new - the client context of a run with --starttls */
SSL_CTX *
hx_tls_ctx_new(void)
{
	SSL_CTX *ctx;

	/* a test sink: no verification, no session reuse */
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

/* hx_tls_start - STARTTLS was answered 220: begin the client handshake */
void
hx_tls_start(struct hx_load *ld, struct hx_conn *c)
{
	if ((c->ssl = SSL_new(ld->tls_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		ld->tls.failed++;
		ERR_clear_error();
		hx_conn_fail(ld, c, HX_STAGE_EHLO, "TLS: out of memory");
		return;
	}
	SSL_set_connect_state(c->ssl);
	c->out_off = c->out_len = 0;
	c->cmd_us = hx_mono_us();
	hx_conn_state(ld, c, HX_CS_TLSHS);
}

/* hx_tls_step - continue the handshake; when done, EHLO again under TLS */
void
hx_tls_step(struct hx_load *ld, struct hx_conn *c)
{
	int rc;

	ERR_clear_error();
	if ((rc = SSL_connect(c->ssl)) == 1) {
		ld->tls.done++;
		c->flags |= HX_CF_TLS;
		hx_conn_want_out(ld, c, 0);
		if (hx_out_cmd(ld, c, "EHLO %s\r\n", ld->conf->helo) == 0)
			hx_conn_state(ld, c, HX_CS_EHLO);
		return;
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		hx_conn_want_out(ld, c, 0);
		return;
	case SSL_ERROR_WANT_WRITE:
		hx_conn_want_out(ld, c, 1);
		return;
	default:
		ld->tls.failed++;
		ERR_clear_error();
		hx_conn_fail(ld, c, HX_STAGE_EHLO, "TLS handshake failed");
		return;
	}
}

/* hx_tls_recv - recv() or SSL_read(); <0 with errno as recv() would set
 * it (EAGAIN: nothing now; 0 returned: closed) */
ssize_t
hx_tls_recv(struct hx_conn *c, char *p, size_t room)
{
	int rc;

	if (c->ssl == NULL)
		return recv(c->fd, p, room, 0);
	ERR_clear_error();
	rc = SSL_read(c->ssl, p, room > INT32_MAX ? INT32_MAX : (int)room);
	return rc > 0 ? rc : tls_result(c, rc);
}

/* tls_result - a failed SSL_read/SSL_write as a socket call's result: -1
 * with errno EAGAIN (try later) or ECONNRESET, or 0 (closed) */
static ssize_t
tls_result(struct hx_conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EAGAIN)
			return 0;	/* EOF without close_notify */
		return -1;
	default:
		errno = ECONNRESET;	/* a bad record */
		return -1;
	}
}

/* hx_tls_send - send() or SSL_write(), errno as send() would set it (0:
 * the peer closed the TLS session) */
ssize_t
hx_tls_send(struct hx_conn *c, const char *p, size_t len)
{
	int rc;

	if (c->ssl == NULL)
		return send(c->fd, p, len, MSG_NOSIGNAL);
	ERR_clear_error();
	rc = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
	return rc > 0 ? rc : tls_result(c, rc);
}
