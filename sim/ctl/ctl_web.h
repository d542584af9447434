/*
 * @file ctl_web.h
 * The dashboard's static files on the control address: GET / answers the
 * web directory's index.html, GET /ui/NAME a file of that directory (one
 * plain name: letters, digits, '.', '-', '_'; no leading '.', no
 * subfolder), with a content type fixed by the extension (unknown
 * extensions are 404).  Every other request goes to the next handler
 * (the control API), and so does / when there is no web directory.
 *
 * The web directory is, in order: $MXSIM_DATADIR/web, then
 * <directory of the executable>/../share/mxsim/web (an installed mxsim),
 * then <directory of the executable>/../web (a build tree, where
 * web/meson.build copies the pages and the vendored chart library).
 * The first holding index.html wins; none is fine.
 */
#ifndef CTL_WEB_H
#define CTL_WEB_H

#include <stddef.h>

#include "ctl_http.h"

#define CTL_WEB_MAX_FILE	(4 * 1024 * 1024)	/* bytes served at most */

struct ctl_web_conf {
	const char	*dir;		/* the web directory (mx_data: DATAROOT/web) */
	ctl_http_handler_fn *next;	/* everything not served here */
	void		*next_ctx;
};

struct ctl_web;

/** @return the static file server, or NULL when out of memory. */
struct ctl_web *ctl_web_new(const struct ctl_web_conf *conf);

/** Free it; NULL accepted. */
void ctl_web_free(struct ctl_web *web);

/** @return the web directory in use, or NULL when none was found. */
const char *ctl_web_dir(const struct ctl_web *web);

/** The request handler (a ctl_http_handler_fn; ctx is the struct
 *  ctl_web): GET/HEAD / and /ui/NAME here, the rest to the next
 *  handler. */
void ctl_web_handle(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out);

#endif /* CTL_WEB_H */
