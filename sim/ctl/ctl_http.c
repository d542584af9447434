/*
 * DESCRIPTION
 *	libmicrohttpd glue for the control API and /metrics.  The listening
 *	socket is bound here (so a failure names its errno) and handed to a
 *	daemon running its own polling thread; requests are therefore
 *	handled one at a time, on that thread.  Per request: the peer is
 *	checked first (403 unless loopback, when the daemon is loopback
 *	only), then the bearer token when one is configured (401: the
 *	digests of the token sent and of the configured one are compared in
 *	constant time, so neither the token nor its length shows in the
 *	timing), the body is gathered up to
 *	CTL_HTTP_MAX_BODY (413 beyond: announced by Content-Length, at once;
 *	otherwise once it has been read and thrown away), then the handler
 *	answers.  "/" and "/ui/..." go to the web handler when one is set
 *	(the dashboard: static files without data, so they need no token;
 *	the page sends it with its API calls), else "/" goes to the API
 *	handler.
 *
 * DIAGNOSTICS
 *	Start-up errors are returned as messages.  A handler that leaves no
 *	body, or out of memory while replying, answers 500 or drops the
 *	connection (libmicrohttpd's behaviour when no response is queued).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ctl_http.h"

#define HTTP_CONN_LIMIT		32	/* concurrent HTTP connections */
#define HTTP_CONN_TIMEOUT_S	10	/* idle HTTP connection */
#define JSON_TYPE		"application/json"
#define HTTP_URL_MAX		1024	/* path plus re-encoded query */

struct ctl_http {
	struct MHD_Daemon *d;
	struct ctl_http_conf conf;	/* token: NULL; see token_sha */
	bool		 have_token;
	unsigned char	 token_sha[SHA256_DIGEST_LENGTH];
};

/* The path with the query libmicrohttpd took apart, put back together
 * for the handler (percent-encoded again). */
struct url_buf {
	char		 s[HTTP_URL_MAX];
	size_t		 len;
	bool		 too_long;
};

/* One request being received. */
struct http_req {
	char		*body;		/* NUL-terminated */
	size_t		 len;
	bool		 too_large;	/* body beyond the bound: thrown away */
};

static enum MHD_Result on_request(void *, struct MHD_Connection *,
		    const char *, const char *, const char *, const char *,
		    size_t *, void **);
static void	on_completed(void *, struct MHD_Connection *, void **,
		    enum MHD_RequestTerminationCode);
static enum MHD_Result send_reply(struct MHD_Connection *,
		    struct ctl_http_reply *);
static enum MHD_Result send_fixed(struct MHD_Connection *, unsigned,
		    const char *, const char *);
static bool	token_ok(const struct ctl_http *, struct MHD_Connection *);
static bool	is_web(const struct ctl_http *, const char *);
static int	req_append(struct http_req *, const char *, size_t);
static enum MHD_Result add_arg(void *, enum MHD_ValueKind, const char *,
		    const char *);
static void	url_put(struct url_buf *, const char *);
static int	bind_listen(const struct sockaddr_storage *, socklen_t, char *,
		    size_t, const char *);

/* ctl_http_is_loopback - 127/8, ::1 or ::ffff:127/104 */
bool
ctl_http_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const uint8_t *a;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	a = sin6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127;
}

/* ctl_http_parse_addr - "a.b.c.d:port" or "[v6]:port"; loopback unless
 * @p any */
int
ctl_http_parse_addr(const char *addr, bool any, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	char host[64], *end;
	const char *colon, *orig = addr;
	unsigned long port;
	size_t hlen;
	bool bracketed;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr)
		goto syntax;
	hlen = (size_t)(colon - addr);
	if ((bracketed = addr[0] == '[')) {
		if (hlen < 3 || addr[hlen - 1] != ']')
			goto syntax;
		addr++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		goto syntax;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (!bracketed && strchr(host, ':') != NULL)
		goto syntax;		/* IPv6 needs brackets */
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535)
		goto syntax;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
	} else
		goto syntax;
	if (!any && !ctl_http_is_loopback((struct sockaddr *)(void *)ss)) {
		snprintf(err, errlen, "%s: not a loopback address (the "
		    "control API listens on 127.0.0.0/8 or [::1] unless "
		    "--control-token-file is given)", host);
		return -EPERM;
	}
	return 0;
syntax:
	snprintf(err, errlen, "\"%s\": expected IPv4:PORT or [IPv6]:PORT "
	    "(e.g. 127.0.0.1:8025)", orig);
	return -EINVAL;
}

/* ctl_http_same_addr - same family, address and port */
bool
ctl_http_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)(const void *)a;
	b6 = (const struct sockaddr_in6 *)(const void *)b;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* send_reply - queue a handler's reply (takes its body) */
static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct ctl_http_reply *out)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (out->body == NULL)
		return send_fixed(conn, 500, JSON_TYPE,
		    "{\"error\":\"internal error\"}\n");
	r = MHD_create_response_from_buffer_with_free_callback(out->len,
	    out->body, free);
	if (r == NULL) {
		free(out->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    out->content_type != NULL ? out->content_type : JSON_TYPE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    out->cache != NULL ? out->cache : "no-store");
	if (out->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, out->allow);
	if (out->deprecation != NULL)
		MHD_add_response_header(r, "Deprecation", out->deprecation);
	if (out->link[0] != '\0')
		MHD_add_response_header(r, "Link", out->link);
	if (out->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"mxsim\"");
	rc = MHD_queue_response(conn, out->status, r);
	MHD_destroy_response(r);
	return rc;
}

/* send_fixed - queue a constant reply */
static enum MHD_Result
send_fixed(struct MHD_Connection *conn, unsigned status, const char *type,
    const char *text)
{
	struct ctl_http_reply out;

	memset(&out, 0, sizeof(out));
	out.status = status;
	out.content_type = type;
	out.len = strlen(text);
	if ((out.body = strdup(text)) == NULL)
		return MHD_NO;
	return send_reply(conn, &out);
}

/* is_web - is @p url one of the web handler's ("/", "/ui/...") */
static bool
is_web(const struct ctl_http *h, const char *url)
{
	return h->conf.web != NULL && (strcmp(url, "/") == 0 ||
	    strncmp(url, "/ui/", 4) == 0);
}

/* token_ok - does the request carry "Authorization: Bearer <token>"
 * (the scheme's name in any case, RFC 9110 11.1)?  True when no token is
 * configured. */
static bool
token_ok(const struct ctl_http *h, struct MHD_Connection *conn)
{
	unsigned char sha[SHA256_DIGEST_LENGTH];
	const char *v;

	if (!h->have_token)
		return true;
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return false;
	for (v += 7; *v == ' '; v++)
		;
	SHA256((const unsigned char *)v, strlen(v), sha);
	return CRYPTO_memcmp(sha, h->token_sha, sizeof(sha)) == 0;
}

/* req_append - add body bytes; -EMSGSIZE past the bound */
static int
req_append(struct http_req *rq, const char *data, size_t n)
{
	char *nb;

	if (rq->too_large || n > CTL_HTTP_MAX_BODY - rq->len) {
		rq->too_large = true;
		free(rq->body);
		rq->body = NULL;
		rq->len = 0;
		return -EMSGSIZE;
	}
	if ((nb = realloc(rq->body, rq->len + n + 1)) == NULL)
		return -ENOMEM;
	memcpy(nb + rq->len, data, n);
	rq->len += n;
	nb[rq->len] = '\0';
	rq->body = nb;
	return 0;
}

/* url_put - append @p v to the URL, percent-encoding all but unreserved
 * characters */
static void
url_put(struct url_buf *u, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; v != NULL && *v != '\0'; v++) {
		if (u->len + 4 > sizeof(u->s)) {
			u->too_long = true;
			return;
		}
		c = (unsigned char)*v;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			u->s[u->len++] = (char)c;
		else {
			u->s[u->len++] = '%';
			u->s[u->len++] = hex[c >> 4];
			u->s[u->len++] = hex[c & 15];
		}
	}
	u->s[u->len] = '\0';
}

/* add_arg - one query argument ("name=value", '&' between) */
static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct url_buf *u = cls;

	(void)kind;
	if (u->len + 2 > sizeof(u->s)) {
		u->too_long = true;
		return MHD_NO;
	}
	u->s[u->len++] = strchr(u->s, '?') == NULL ? '?' : '&';
	u->s[u->len] = '\0';
	url_put(u, key);
	if (u->len + 2 > sizeof(u->s)) {
		u->too_long = true;
		return MHD_NO;
	}
	u->s[u->len++] = '=';
	u->s[u->len] = '\0';
	url_put(u, value);
	return u->too_long ? MHD_NO : MHD_YES;
}

/* on_request - libmicrohttpd access handler: check, gather, dispatch */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct ctl_http *h = cls;
	struct http_req *rq = *con_cls;
	const union MHD_ConnectionInfo *ci;
	struct ctl_http_reply out;
	struct url_buf u;
	const char *cl;
	char *end;

	(void)version;
	if (rq == NULL) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci == NULL || (!h->conf.any_peer &&
		    !ctl_http_is_loopback(ci->client_addr)))
			return send_fixed(conn, 403, JSON_TYPE, "{\"error\":"
			    "\"forbidden: loopback peers only\"}\n");
		/* the dashboard's page and files hold no data: a browser
		 * loads them without the header, then sends the token with
		 * every API call it makes */
		if (!is_web(h, url) && !token_ok(h, conn))
			return send_fixed(conn, 401, JSON_TYPE, "{\"error\":"
			    "\"unauthorized: this address needs the header "
			    "Authorization: Bearer <token of "
			    "--control-token-file>\"}\n");
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, &end, 10) > CTL_HTTP_MAX_BODY)
			return send_fixed(conn, 413, JSON_TYPE, "{\"error\":"
			    "\"request body larger than 65536 bytes\"}\n");
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (req_append(rq, upload, *upload_size) == -ENOMEM)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return send_fixed(conn, 413, JSON_TYPE, "{\"error\":"
		    "\"request body larger than 65536 bytes\"}\n");
	memset(&out, 0, sizeof(out));
	out.status = 500;
	if (strcmp(url, "/metrics") == 0 && h->conf.metrics != NULL)
		h->conf.metrics(h->conf.metrics_ctx, method, url,
		    rq->body != NULL ? rq->body : "", rq->len, &out);
	else if (is_web(h, url))
		h->conf.web(h->conf.web_ctx, method, url,
		    rq->body != NULL ? rq->body : "", rq->len, &out);
	else if (h->conf.api != NULL) {
		/* the API sees "path?query" (GET /postmaster filters) */
		u.len = strlen(url);
		u.too_long = u.len >= sizeof(u.s);
		if (!u.too_long) {
			memcpy(u.s, url, u.len + 1);
			MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND,
			    add_arg, &u);
		}
		if (u.too_long)
			return send_fixed(conn, 414, JSON_TYPE, "{\"error\":"
			    "\"URL longer than 1024 bytes\"}\n");
		h->conf.api(h->conf.api_ctx, method, u.s,
		    rq->body != NULL ? rq->body : "", rq->len, &out);
	} else
		return send_fixed(conn, 404, JSON_TYPE,
		    "{\"error\":\"not found\"}\n");
	return send_reply(conn, &out);
}

/* on_completed - free what a request gathered */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq == NULL)
		return;
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* bind_listen - the daemon's listening socket; fd or -1 with a message */
static int
bind_listen(const struct sockaddr_storage *ss, socklen_t sslen, char *err,
    size_t errlen, const char *addr)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sslen) != 0 ||
	    listen(fd, 64) != 0) {
		snprintf(err, errlen, "%s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ctl_http_start - bind and run a daemon */
struct ctl_http *
ctl_http_start(const struct ctl_http_conf *conf, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct ctl_http *h;
	socklen_t sslen;
	unsigned flags;
	int fd;

	if (ctl_http_parse_addr(conf->addr, conf->any_peer, &ss, &sslen, err,
	    errlen) != 0)
		return NULL;
	if (conf->token != NULL && conf->token[0] == '\0') {
		snprintf(err, errlen, "an empty bearer token");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->conf = *conf;
	h->conf.token = NULL;
	if (conf->token != NULL) {
		h->have_token = true;
		SHA256((const unsigned char *)conf->token, strlen(conf->token),
		    h->token_sha);
	}
	if ((fd = bind_listen(&ss, sslen, err, errlen, conf->addr)) < 0) {
		free(h);
		return NULL;
	}
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "%s: the HTTP daemon did not start",
		    conf->addr);
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

/* ctl_http_stop - stop the daemon and free it */
void
ctl_http_stop(struct ctl_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
