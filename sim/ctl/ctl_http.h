/*
 * @file ctl_http.h
 * The HTTP side of the control API and of /metrics: a libmicrohttpd daemon
 * with its own thread, bound to one loopback address.  It enforces what
 * every request shares -- the peer must be a loopback address (else 403),
 * the body is bounded (else 413) -- and hands complete requests to a
 * handler.  It knows nothing of JSON or of mxsim's state.
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

/* What a handler answers. */
struct ctl_http_reply {
	unsigned	 status;	/* HTTP status */
	const char	*content_type;	/* static string */
	char		*body;		/* malloc()ed; ctl_http frees it */
	size_t		 len;
	const char	*allow;		/* 405: the Allow header, else NULL */
	const char	*cache;		/* Cache-Control (static string);
					 * NULL = "no-store" */
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
	ctl_http_handler_fn *api;	/* all but /metrics; NULL = 404 */
	void		*api_ctx;
	ctl_http_handler_fn *metrics;	/* GET /metrics; NULL = 404 */
	void		*metrics_ctx;
};

struct ctl_http;

/**
 * Parse "IPv4:port" or "[IPv6]:port" and check that the address is a
 * loopback address (127.0.0.0/8 or ::1).
 * @param ss,sslen  the socket address, on success.
 * @param err       a message on failure, naming the address.
 * @return 0, -EINVAL (syntax) or -EPERM (not loopback).
 */
int ctl_http_parse_addr(const char *addr, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen);

/** @return true when @p sa is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool ctl_http_is_loopback(const struct sockaddr *sa);

/** @return true when two parsed addresses are the same address and port. */
bool ctl_http_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);

/**
 * Bind and start the daemon and its thread.
 * @param err  a message on failure.
 * @return the daemon, or NULL (bad or non-loopback address, bind failed).
 */
struct ctl_http *ctl_http_start(const struct ctl_http_conf *conf, char *err,
    size_t errlen);

/** Stop the daemon (waits for its thread) and free it; NULL accepted. */
void ctl_http_stop(struct ctl_http *h);

#endif /* CTL_HTTP_H */
