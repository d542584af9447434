/*
 * DESCRIPTION
 *	Tests of ctl_web: the dashboard's static files.  A web directory is
 *	made in a temporary folder; requests go straight to
 *	ctl_web_handle() (no HTTP), with a next handler that records what
 *	it was passed.  Checked: / and /ui/NAME with their content types and
 *	cache headers, every unsafe or unserved name answered 404 without
 *	reaching the next handler, other methods 405 with Allow, every
 *	other path (and / without a web directory) handed on unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "ctl_web.h"
#include "test_suites.h"

/* What the next handler saw. */
struct next_seen {
	int		 calls;
	char		 path[256];
};

static char web_dir[64];

/* next_handler - the API behind ctl_web: records, answers 299 */
static void
next_handler(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out)
{
	struct next_seen *n = ctx;

	(void)method;
	(void)body;
	(void)len;
	n->calls++;
	snprintf(n->path, sizeof(n->path), "%s", path);
	out->status = 299;
	out->body = strdup("{}");
	out->len = 2;
}

/* put_file - write @p text into dir/@p name; 0 or -1 */
static int
put_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fp = fopen(p, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

/* ask - one request; the reply (body freed by the caller) */
static struct ctl_http_reply
ask(struct ctl_web *web, const char *method, const char *path)
{
	struct ctl_http_reply out;

	memset(&out, 0, sizeof(out));
	ctl_web_handle(web, method, path, "", 0, &out);
	return out;
}

static int
setup(void)
{
	char sub[128];

	snprintf(web_dir, sizeof(web_dir), "/tmp/mxsim-web-XXXXXX");
	if (mkdtemp(web_dir) == NULL)
		return -1;
	if (put_file(web_dir, "index.html", "<!doctype html>") != 0 ||
	    put_file(web_dir, "dash.js", "let x = 1;") != 0 ||
	    put_file(web_dir, "a.exe", "MZ") != 0 ||
	    put_file(web_dir, ".hidden.js", "secret") != 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s/sub", web_dir);
	return mkdir(sub, 0700);
}

static int
teardown(void)
{
	static const char *const names[] = { "index.html", "dash.js", "a.exe",
	    ".hidden.js" };
	char p[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", web_dir, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/sub", web_dir);
	rmdir(p);
	return rmdir(web_dir);
}

/* / and /ui/NAME: bodies, types, cache */
static void
test_serves(void)
{
	struct next_seen seen = { 0 };
	struct ctl_web *web = ctl_web_new(&(struct ctl_web_conf){
	    .dir = web_dir, .next = next_handler, .next_ctx = &seen });
	struct ctl_http_reply r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(web);
	CU_ASSERT_STRING_EQUAL(ctl_web_dir(web), web_dir);
	r = ask(web, "GET", "/");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.content_type, "text/html; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(r.cache, "no-cache");
	CU_ASSERT(r.len == 15 && memcmp(r.body, "<!doctype html>", 15) == 0);
	free(r.body);
	r = ask(web, "GET", "/?poll=250");		/* a query is no file */
	CU_ASSERT_EQUAL(r.status, 200);
	free(r.body);
	r = ask(web, "HEAD", "/ui/dash.js");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.content_type,
	    "text/javascript; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(r.cache, "max-age=60");
	CU_ASSERT_EQUAL(r.len, 10);
	free(r.body);
	CU_ASSERT_EQUAL(seen.calls, 0);
	ctl_web_free(web);
}

/* names that must never be served, and methods that are not GET/HEAD */
static void
test_refuses(void)
{
	static const char *const bad[] = { "/ui/../index.html",
	    "/ui/..", "/ui/.hidden.js", "/ui/a.exe", "/ui/sub/dash.js",
	    "/ui/sub", "/ui/nothere.js", "/ui/dash.js/", "/ui/%2e%2e",
	    "/ui/dash.js\\x", "/ui/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaa.js" };
	struct next_seen seen = { 0 };
	struct ctl_web *web = ctl_web_new(&(struct ctl_web_conf){
	    .dir = web_dir, .next = next_handler, .next_ctx = &seen });
	struct ctl_http_reply r;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(web);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = ask(web, "GET", bad[i]);
		if (r.status != 404)
			fprintf(stderr, "\n  %s: %u\n", bad[i], r.status);
		CU_ASSERT_EQUAL(r.status, 404);
		CU_ASSERT_PTR_NULL(r.cache);
		free(r.body);
	}
	r = ask(web, "DELETE", "/ui/dash.js");
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD");
	free(r.body);
	CU_ASSERT_EQUAL(seen.calls, 0);
	/* another method on / is the API's to answer (405 with its Allow) */
	r = ask(web, "POST", "/");
	free(r.body);
	CU_ASSERT_EQUAL(seen.calls, 1);
	ctl_web_free(web);
}

/* everything else, and / without a web directory, goes on unchanged */
static void
test_hands_on(void)
{
	struct next_seen seen = { 0 };
	struct ctl_web *web = ctl_web_new(&(struct ctl_web_conf){
	    .dir = web_dir, .next = next_handler, .next_ctx = &seen });
	struct ctl_web *none = ctl_web_new(&(struct ctl_web_conf){
	    .dir = "/nonexistent-mxsim-web", .next = next_handler,
	    .next_ctx = &seen });
	struct ctl_http_reply r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(web);
	CU_ASSERT_PTR_NOT_NULL_FATAL(none);
	r = ask(web, "GET", "/counters");
	CU_ASSERT_EQUAL(r.status, 299);
	CU_ASSERT_STRING_EQUAL(seen.path, "/counters");
	free(r.body);
	r = ask(web, "PATCH", "/providers/gmail/limits");
	CU_ASSERT_STRING_EQUAL(seen.path, "/providers/gmail/limits");
	free(r.body);
	r = ask(web, "GET", "/uix/dash.js");
	CU_ASSERT_STRING_EQUAL(seen.path, "/uix/dash.js");
	free(r.body);
	CU_ASSERT_PTR_NULL(ctl_web_dir(none));
	r = ask(none, "GET", "/");
	CU_ASSERT_EQUAL(r.status, 299);
	CU_ASSERT_STRING_EQUAL(seen.path, "/");
	free(r.body);
	CU_ASSERT_EQUAL(seen.calls, 4);
	ctl_web_free(web);
	ctl_web_free(none);
}

int
test_ctl_web_register(void)
{
	CU_pSuite s = CU_add_suite("ctl_web", setup, teardown);

	if (s == NULL ||
	    CU_add_test(s, "serves / and /ui/NAME", test_serves) == NULL ||
	    CU_add_test(s, "refuses unsafe names and methods",
	    test_refuses) == NULL ||
	    CU_add_test(s, "hands other paths on", test_hands_on) == NULL)
		return -1;
	return 0;
}
