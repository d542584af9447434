/*
 * DESCRIPTION
 *	libFuzzer harness for the YAML loaders.  Built twice: with
 *	FUZZ_SCENARIO the input is a scenario (prof_load_scenario(), the
 *	bundled profiles as data directory), without it a profile
 *	(prof_load_profile()).  The input is written to a file in a private
 *	temporary directory, since the loaders read files.
 *
 *	Invariants checked (abort on violation):
 *	- a failed load fills a non-empty message, the file name, and a
 *	  line/column either 0 (not about a place) or inside the input
 *	  (line <= lines + 1, column <= longest line + 1);
 *	- a loaded profile renders every reply kind as well-formed reply
 *	  lines (code, separator, no control bytes, CRLF);
 *	- a loaded world has at least one profile and one block, and each
 *	  block names an existing profile that prof_world_lookup() finds.
 *
 * DIAGNOSTICS
 *	Aborts on an invariant violation and when the temporary file cannot
 *	be written.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "prof_load.h"
#include "smtp_reply.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char fz_dir[64];
static char fz_path[128];

/* fz_check_error - the error must say what and where.  Lines are counted
 * as YAML counts them (LF, CR, CRLF, NEL, LS, PS break a line); columns
 * in characters are at most the bytes of the longest line. */
static void
fz_check_error(const struct prof_error *err, const uint8_t *data,
    size_t size)
{
	size_t i, lines = 1, col = 0, maxcol = 0, brk;

	for (i = 0; i < size; i++) {
		brk = 0;
		if (data[i] == '\n')
			brk = 1;
		else if (data[i] == '\r')
			brk = i + 1 < size && data[i + 1] == '\n' ? 2 : 1;
		else if (data[i] == 0xc2 && i + 1 < size && data[i + 1] == 0x85)
			brk = 2;
		else if (data[i] == 0xe2 && i + 2 < size &&
		    data[i + 1] == 0x80 && (data[i + 2] == 0xa8 ||
		    data[i + 2] == 0xa9))
			brk = 3;
		if (brk == 0) {
			if (++col > maxcol)
				maxcol = col;
			continue;
		}
		lines++;
		col = 0;
		i += brk - 1;
	}
	FUZZ_CHECK(err->msg[0] != '\0', "empty message");
	FUZZ_CHECK(err->file[0] != '\0', "no file in \"%s\"", err->msg);
	if (err->line == 0 || strcmp(err->file, fz_path) != 0)
		return;		/* not about a place, or about a profile */
	FUZZ_CHECK(err->line <= lines + 1, "line %u of %zu: %s", err->line,
	    lines, err->msg);
	FUZZ_CHECK(err->column >= 1 && err->column <= maxcol + 1,
	    "column %u, longest line %zu: %s", err->column, maxcol, err->msg);
}

/* fz_check_render - every reply of a loaded profile renders cleanly */
static void
fz_check_render(const struct prof_profile *p)
{
	struct smtp_reply_vars v;
	char out[8192];
	size_t n, i, start;
	int rk;

	memset(&v, 0, sizeof(v));
	v.client_ip = 0x7f000a01u;
	v.mx_ip = 0x7f010005u;
	v.session_id = 0x1234;
	v.helo = "client\r\n250 injected";
	v.domain = "sender.example";
	v.addr = "rcpt@dest.example";
	v.size = 123456;
	v.limit = 100;
	for (rk = 0; rk < SIM_RK__COUNT; rk++) {
		n = smtp_reply_render(p, (enum sim_rk)rk, &v, out,
		    sizeof(out));
		FUZZ_CHECK(n <= sizeof(out), "rendered %zu", n);
		for (start = 0, i = 0; i < n; i++) {
			if (out[i] != '\n')
				continue;
			FUZZ_CHECK(i - start >= 5 && out[i - 1] == '\r' &&
			    (out[start + 3] == ' ' || out[start + 3] == '-'),
			    "kind %d: bad line %.*s", rk, (int)(i - start),
			    out + start);
			start = i + 1;
		}
		FUZZ_CHECK(start == n, "kind %d: unterminated", rk);
		for (i = 0; i < n; i++)		/* RFC 5321 textstring */
			FUZZ_CHECK(((unsigned char)out[i] >= 0x20 &&
			    out[i] != 0x7f) || out[i] == '\t' ||
			    out[i] == '\r' || out[i] == '\n',
			    "kind %d: control byte 0x%02x", rk,
			    (unsigned char)out[i]);
	}
}

#ifdef FUZZ_SCENARIO
/* fz_check_world - blocks point at profiles the lookup finds */
static void
fz_check_world(const struct prof_world *w)
{
	size_t i;
	int prof;

	FUZZ_CHECK(w->nprofiles >= 1 && w->nblocks >= 1, "%zu profiles, "
	    "%zu blocks", w->nprofiles, w->nblocks);
	for (i = 0; i < w->nblocks; i++) {
		FUZZ_CHECK(w->blocks[i].profile < w->nprofiles, "block %zu",
		    i);
		FUZZ_CHECK((w->blocks[i].addr & ~w->blocks[i].mask) == 0,
		    "block %zu has host bits", i);
		prof = prof_world_lookup(w, w->blocks[i].addr);
		FUZZ_CHECK(prof >= 0 && (size_t)prof < w->nprofiles,
		    "block %zu not found", i);
	}
	for (i = 0; i < w->nprofiles; i++)
		fz_check_render(w->profiles[i]);
}
#endif

/* LLVMFuzzerInitialize - a private directory for the input file */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/mxsim-fuzz-XXXXXX");
	if (mkdtemp(fz_dir) == NULL)
		abort();
	snprintf(fz_path, sizeof(fz_path), "%s/input.yaml", fz_dir);
	return 0;
}

/* LLVMFuzzerTestOneInput - load the input as a profile or a scenario */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prof_error err;
	FILE *fp;
#ifdef FUZZ_SCENARIO
	struct prof_world *w;
#else
	struct prof_profile *p;
#endif

	if ((fp = fopen(fz_path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		abort();
	if (fclose(fp) != 0)
		abort();
	memset(&err, 0, sizeof(err));
#ifdef FUZZ_SCENARIO
	w = prof_load_scenario(fz_path, MXSIM_PROFILES_DIR, &err);
	if (w == NULL)
		fz_check_error(&err, data, size);
	else
		fz_check_world(w);
	prof_world_free(w);
#else
	p = prof_load_profile(fz_path, &err);
	if (p == NULL)
		fz_check_error(&err, data, size);
	else
		fz_check_render(p);
	prof_profile_free(p);
#endif
	return 0;
}
