/*
 * DESCRIPTION
 *	The dashboard's static files (see ctl_web.h).  The web directory is
 *	found once, at creation; a request names a file by one plain name,
 *	checked character by character before it is joined to the
 *	directory, so no path can leave it.  Files are read whole for each
 *	request (a control-plane path: a page load is a handful of files).
 *	Content types come from a fixed table of extensions.  index.html is
 *	revalidated on every load (no-cache); the other files may be kept
 *	for a minute (the chart library changes with mxsim's version only).
 *
 * DIAGNOSTICS
 *	A missing or unreadable file answers 404, a file larger than
 *	CTL_WEB_MAX_FILE 404 as well (said in the body), a method other
 *	than GET or HEAD 405 on /ui/NAME (on / it goes on to the API, which
 *	answers 405 with the route's Allow), out of memory 503.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_web.h"

#define WEB_NAME_MAX	64		/* bytes of a file name under /ui/ */
#define WEB_INDEX	"index.html"
#define WEB_PREFIX	"/ui/"
#define JSON_TYPE	"application/json"

struct ctl_web {
	struct ctl_web_conf conf;
	char		 dir[PATH_MAX];	/* "" when none was found */
};

/* A served extension and its content type. */
struct web_type {
	const char	*ext;		/* with the dot */
	const char	*type;
};

static const struct web_type web_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".json", JSON_TYPE },
};

static bool	has_index(const char *);
static void	find_dir(struct ctl_web *);
static const char *name_type(const char *);
static void	serve_file(const struct ctl_web *, const char *,
		    const char *, struct ctl_http_reply *);
static void	reply_text(struct ctl_http_reply *, unsigned, const char *);

/* has_index - does @p dir hold index.html */
static bool
has_index(const char *dir)
{
	char p[PATH_MAX];
	struct stat sb;
	int n;

	n = snprintf(p, sizeof(p), "%s/%s", dir, WEB_INDEX);
	return n > 0 && (size_t)n < sizeof(p) && stat(p, &sb) == 0 &&
	    S_ISREG(sb.st_mode);
}

/* find_dir - the configured web directory when it holds index.html */
static void
find_dir(struct ctl_web *web)
{
	web->dir[0] = '\0';
	if (web->conf.dir != NULL && has_index(web->conf.dir) &&
	    realpath(web->conf.dir, web->dir) == NULL)
		web->dir[0] = '\0';
}

/* ctl_web_new - find the web directory */
struct ctl_web *
ctl_web_new(const struct ctl_web_conf *conf)
{
	struct ctl_web *web;

	if ((web = calloc(1, sizeof(*web))) == NULL)
		return NULL;
	web->conf = *conf;
	find_dir(web);
	return web;
}

/* ctl_web_free - free it */
void
ctl_web_free(struct ctl_web *web)
{
	free(web);
}

/* ctl_web_dir - the directory served, or NULL */
const char *
ctl_web_dir(const struct ctl_web *web)
{
	return web->dir[0] != '\0' ? web->dir : NULL;
}

/* name_type - the content type of a plain file name, or NULL when the
 * name is not one (empty, too long, a leading '.', a character other
 * than letters, digits, '.', '-', '_') or its extension is not served */
static const char *
name_type(const char *name)
{
	const char *dot = NULL, *c;
	size_t i, n = strlen(name);

	if (n == 0 || n >= WEB_NAME_MAX || name[0] == '.')
		return NULL;
	for (c = name; *c != '\0'; c++) {
		if (*c == '.')
			dot = c;
		else if (!((*c >= 'a' && *c <= 'z') ||
		    (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '_'))
			return NULL;
	}
	if (dot == NULL)
		return NULL;
	for (i = 0; i < sizeof(web_types) / sizeof(web_types[0]); i++)
		if (strcmp(dot, web_types[i].ext) == 0)
			return web_types[i].type;
	return NULL;
}

/* reply_text - a short JSON error (the API's shape) */
static void
reply_text(struct ctl_http_reply *out, unsigned status, const char *msg)
{
	char buf[160];
	int n;

	n = snprintf(buf, sizeof(buf), "{\"error\":\"%s\"}\n", msg);
	out->status = status;
	out->content_type = JSON_TYPE;
	out->cache = NULL;
	if ((out->body = malloc((size_t)n + 1)) == NULL) {
		out->status = 503;
		return;
	}
	memcpy(out->body, buf, (size_t)n + 1);
	out->len = (size_t)n;
}

/* serve_file - one file of the web directory (name already checked) */
static void
serve_file(const struct ctl_web *web, const char *name, const char *cache,
    struct ctl_http_reply *out)
{
	const char *type = name_type(name);
	char p[PATH_MAX + WEB_NAME_MAX + 2];
	struct stat sb;
	FILE *fp;
	char *buf;
	int n;

	n = snprintf(p, sizeof(p), "%s/%s", web->dir, name);
	if (type == NULL || n <= 0 || (size_t)n >= sizeof(p) ||
	    (fp = fopen(p, "rb")) == NULL) {
		reply_text(out, 404, "not found");
		return;
	}
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > CTL_WEB_MAX_FILE) {
		fclose(fp);
		reply_text(out, 404, "not found (not a file, or larger than "
		    "4 MiB)");
		return;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		fclose(fp);
		reply_text(out, 503, "out of memory");
		return;
	}
	out->len = fread(buf, 1, (size_t)sb.st_size, fp);
	fclose(fp);
	buf[out->len] = '\0';
	out->body = buf;
	out->status = 200;
	out->content_type = type;
	out->cache = cache;
}

/* ctl_web_handle - / and /ui/NAME here, the rest to the next handler */
void
ctl_web_handle(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out)
{
	struct ctl_web *web = ctx;
	char name[WEB_NAME_MAX + 1];
	bool root, ui;
	size_t n;

	n = strcspn(path, "?");
	root = n == 1 && path[0] == '/' && web->dir[0] != '\0';
	ui = n > strlen(WEB_PREFIX) &&
	    strncmp(path, WEB_PREFIX, strlen(WEB_PREFIX)) == 0;
	/* the page answers GET and HEAD; other methods on / get the API's
	 * answer (405 with the route's Allow, as every other path) */
	if (root && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		root = false;
	if (!root && !ui) {
		if (web->conf.next != NULL)
			web->conf.next(web->conf.next_ctx, method, path, body,
			    len, out);
		else
			reply_text(out, 404, "not found");
		return;
	}
	out->allow = NULL;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		reply_text(out, 405, "method not allowed (allowed: GET, HEAD)");
		if (out->status == 405)
			out->allow = "GET, HEAD";
		return;
	}
	if (root) {
		serve_file(web, WEB_INDEX, "no-cache", out);
		return;
	}
	n -= strlen(WEB_PREFIX);
	if (web->dir[0] == '\0' || n >= sizeof(name)) {
		reply_text(out, 404, "not found");
		return;
	}
	memcpy(name, path + strlen(WEB_PREFIX), n);
	name[n] = '\0';
	serve_file(web, name, "max-age=60", out);
}
