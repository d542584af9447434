/*
 * @file ctl_http.h
 * The HTTP side of the control API and of /metrics: a libmicrohttpd daemon
 * with its own thread, bound to one address.  It enforces what every
 * request shares -- the peer must be a loopback address unless the daemon
 * accepts any peer (else 403), the bearer token when one is configured
 * (else 401 with WWW-Authenticate: Bearer), the body is bounded (else
 * 413) -- and hands complete requests to a handler.  It knows nothing of
 * JSON or of mxsim's state.
 *
 * One daemon may serve both the control API and /metrics (when both
 * options name the same address).
 */
#ifndef CTL_HTTP_H
#define CTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CTL_HTTP_MAX_BODY	(64 * 1024)	/* request body bound */
#define CTL_HTTP_LINK_MAX	640		/* a Link header's value */
#define CTL_HTTP_TOKEN_MAX	512		/* bearer token bytes */

/* What a handler answers. */
struct ctl_http_reply {
	unsigned	 status;	/* HTTP status */
	const char	*content_type;	/* static string */
	char		*body;		/* malloc()ed; ctl_http frees it */
	size_t		 len;
	const char	*allow;		/* 405: the Allow header, else NULL */
	const char	*cache;		/* Cache-Control (static string);
					 * NULL = "no-store" */
	const char	*deprecation;	/* the Deprecation header, else NULL */
	char		 link[CTL_HTTP_LINK_MAX]; /* the Link header, or "" */
};

/*
 * A request handler.  @p path is the decoded URL path, followed, when the
 * request has a query, by '?' and its arguments percent-encoded again
 * ("/postmaster?domain=a.example&day=2026-01-01"); @p body the
 * request body (NUL-terminated, @p len bytes; "" when none).  It must fill
 * @p out (status and body); a NULL body after return answers 500.
 */
typedef void ctl_http_handler_fn(void *ctx, const char *method,
    const char *path, const char *body, size_t len,
    struct ctl_http_reply *out);

struct ctl_http_conf {
	const char	*addr;		/* "127.0.0.1:8025" or "[::1]:8025" */
	bool		 any_peer;	/* any address and peer; else loopback */
	const char	*token;		/* every request must carry
					 * "Authorization: Bearer <token>";
					 * NULL = none.  Copied as a digest. */
	ctl_http_handler_fn *api;	/* all but /metrics; NULL = 404 */
	void		*api_ctx;
	ctl_http_handler_fn *metrics;	/* GET /metrics; NULL = 404 */
	void		*metrics_ctx;
	ctl_http_handler_fn *web;	/* "/" and "/ui/..." (the dashboard,
					 * ctl_web.c) when set; else "/" goes
					 * to api (the route list) */
	void		*web_ctx;
};

struct ctl_http;

/**
 * Parse "IPv4:port" or "[IPv6]:port"; unless @p any, check that the
 * address is a loopback address (127.0.0.0/8 or ::1).
 * @param ss,sslen  the socket address, on success.
 * @param err       a message on failure, naming the address.
 * @return 0, -EINVAL (syntax) or -EPERM (not loopback).
 */
int ctl_http_parse_addr(const char *addr, bool any,
    struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen);

/** @return true when @p sa is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool ctl_http_is_loopback(const struct sockaddr *sa);

/** @return true when two parsed addresses are the same address and port. */
bool ctl_http_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);

/**
 * Bind and start the daemon and its thread.
 * @param err  a message on failure.
 * @return the daemon, or NULL (bad address, non-loopback without
 *         any_peer, bind failed).
 */
struct ctl_http *ctl_http_start(const struct ctl_http_conf *conf, char *err,
    size_t errlen);

/** Stop the daemon (waits for its thread) and free it; NULL accepted. */
void ctl_http_stop(struct ctl_http *h);

#endif /* CTL_HTTP_H */
