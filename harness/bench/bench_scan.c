/*
 * bench_scan - the message scanner on plain text (issue 19: under 10
 * instructions per body byte).  Builds a body of N bytes (-n, default
 * 1 MiB) of 72-column lines of words drawn by the seeded PRNG from a
 * fixed vocabulary (one of 28 a spam word of the built-in list), and
 * scans it a line at a time, as smtp_session feeds it, with the built-in
 * word list.  Instructions per byte come from callgrind:
 *
 *   valgrind --tool=callgrind --toggle-collect=msg_scan_feed \
 *       build-perf/harness/bench/bench_scan
 *
 * (the "Collected" total over the bytes it prints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg_scan.h"
#include "sim_rng.h"

static const char *const vocab[] = {
	"the", "message", "of", "a", "sender", "and", "its", "recipients",
	"meeting", "tomorrow", "report", "attached", "please", "review",
	"numbers", "quarter", "Thanks", "regards", "free", "team",
	"project", "update", "schedule", "to", "in", "for", "with", "on",
};

int
main(int argc, char **argv)
{
	static struct msg_wordlist wl;
	static struct msg_scan sc;
	const char *hdr = "From: Bench <bench@example.com>\r\n"
	    "Message-ID: <1@example.com>\r\nSubject: bench\r\n\r\n";
	size_t n = 1u << 20, len = 0, col = 0, w, i;
	struct sim_rng rng;
	const char *v;
	char *body;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n')
			n = strtoul(optarg, NULL, 10);
		else
			return 2;
	if ((body = malloc(n + 80)) == NULL)
		return 1;
	sim_rng_seed(&rng, 19, 1);
	while (len < n) {
		v = vocab[sim_rng_below(&rng, sizeof(vocab) / sizeof(vocab[0]))];
		w = strlen(v);
		if (col + w + 1 > 72) {
			memcpy(body + len, "\r\n", 2);
			len += 2;
			col = 0;
		} else if (col > 0) {
			body[len++] = ' ';
			col++;
		}
		memcpy(body + len, v, w);
		len += w;
		col += w;
	}
	msg_wordlist_init(&wl);
	msg_wordlist_add_defaults(&wl);
	msg_scan_init(&sc, &wl);
	msg_scan_feed(&sc, hdr, strlen(hdr));
	for (i = 0; i < len; ) {
		const char *lf = memchr(body + i, '\n', len - i);
		size_t run = lf != NULL ? (size_t)(lf - (body + i)) + 1 : len - i;

		msg_scan_feed(&sc, body + i, run);
		i += run;
	}
	msg_scan_end(&sc);
	printf("{\"body_bytes\": %llu, \"spam_hits\": %u}\n",
	    (unsigned long long)sc.info.body_bytes, sc.info.spam_hits);
	free(body);
	return 0;
}
