/*
 * DESCRIPTION
 *	The exit summary as JSON (mx_summary.h): the counters' shape from
 *	ctl_stats.c, the run's clock and the event log's figures around it,
 *	dumped into a temporary file in the target's directory, flushed to
 *	disk, then renamed over the target.
 *
 * DIAGNOSTICS
 *	Every failure names the file and the cause; the temporary file is
 *	removed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_stats.h"
#include "mx_summary.h"
#include "sim_clock.h"

/* summary_json - the document, or NULL (no memory) */
static json_t *
summary_json(const struct mx_summary *s)
{
	char start[32], end[32];
	json_t *o, *evl;

	if ((o = ctl_stats_json(s->stats, s->world)) == NULL)
		return NULL;
	evl = !s->evlog ? json_null() : json_pack("{s:s,s:I,s:I}",
	    "path", s->world->event_log, "written", (json_int_t)s->ev_written,
	    "dropped", (json_int_t)s->ev_dropped);
	if (json_object_set_new(o, "version", json_string(s->version)) != 0 ||
	    json_object_set_new(o, "scenario",
	    json_string(s->world->file)) != 0 ||
	    json_object_set_new(o, "stopped_by",
	    json_string(s->stopped_by)) != 0 ||
	    json_object_set_new(o, "time_scale",
	    json_real(s->time_scale)) != 0 ||
	    json_object_set_new(o, "sim_start", json_string(sim_clock_iso(
	    s->sim_start_ms, start, sizeof(start)))) != 0 ||
	    json_object_set_new(o, "sim_start_ms",
	    json_integer((json_int_t)s->sim_start_ms)) != 0 ||
	    json_object_set_new(o, "sim_end", json_string(sim_clock_iso(
	    s->sim_end_ms, end, sizeof(end)))) != 0 ||
	    json_object_set_new(o, "sim_end_ms",
	    json_integer((json_int_t)s->sim_end_ms)) != 0 ||
	    json_object_set_new(o, "event_log", evl) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* mx_summary_write - dump to PATH.XXXXXX, fsync, rename */
int
mx_summary_write(const char *path, const struct mx_summary *s, char *err,
    size_t errlen)
{
	char *tmp = NULL;
	json_t *o;
	FILE *fp = NULL;
	int fd = -1, rc = -1;
	bool made = false;		/* the temporary file exists */

	if ((o = summary_json(s)) == NULL) {
		snprintf(err, errlen, "%s: cannot build the JSON (out of "
		    "memory, or a path that is not UTF-8)", path);
		return -1;
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if ((fd = mkstemp(tmp)) >= 0)
		made = true;
	if (fd < 0 || fchmod(fd, 0644) != 0 ||
	    (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;			/* fp owns it */
	if (json_dumpf(o, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0 ||
	    fputc('\n', fp) == EOF || fflush(fp) != 0 ||
	    fsync(fileno(fp)) != 0) {
		snprintf(err, errlen, "%s: write: %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, errlen, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fp = NULL;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: rename to %s: %s", tmp, path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	if (rc != 0 && made)
		unlink(tmp);
	free(tmp);
	json_decref(o);
	return rc;
}
