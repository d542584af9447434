/*
 * Tests of msg_scan: header and body extractions on real-looking
 * messages, each fed whole, a byte at a time and split at every byte
 * boundary (all must agree), plus the organizational-domain rule and the
 * word list.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "msg_scan.h"
#include "test_suites.h"

/* A bulk message: three hops, two DKIM signatures, one-click
 * unsubscribe, multipart with a quoted-printable text part whose URL is
 * cut by a soft line break, and an HTML part. */
static const char bulk_msg[] =
    "Received: from mta1.esp.net (mta1.esp.net [198.18.1.1])\r\n"
    "\tby mx.example.org with ESMTPS id 1; Mon, 23 Nov 2026 10:00:02 +0000\r\n"
    "Received: from app (app [10.0.0.2]) by mta1.esp.net; Mon, 23 Nov 2026\r\n"
    " 10:00:01 +0000\r\n"
    "Received: by app; Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    "\td=Example.CO.UK; s=s1;\r\n"
    "\th=From:To:Subject:List-Unsubscribe:List-Unsubscribe-Post;\r\n"
    "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
    "\tb=dGVzdA==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=esp.net; s = k2 ; bh=x; b=y\r\n"
    "From: \"Shop <News>\" <news@Mail.Example.co.uk>\r\n"
    "To: bob@gmail.com\r\n"
    "Subject: Weekly deals:\r\n"
    "  act now\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <20261123100000.1@mail.example.co.uk>\r\n"
    "List-Unsubscribe: <mailto:unsub@example.co.uk?subject=u>,\r\n"
    " <https://example.co.uk/u?id=42>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Get it FREE today! Visit https://www.exam=\r\n"
    "ple.co.uk/deal?a=3D1 or click   here.\r\n"
    "Freedom is not a spam word.\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><body><p>Act <b>now</b>:</p>\r\n"
    "<a href=\"https://Track.ESP.net/c?x=1\">deal</a>\r\n"
    "<a href=\"http://www.example.co.uk/\">site</a>\r\n"
    "<img src=\"https://track.esp.net/o.gif\"></body></html>\r\n"
    "--b1--\r\n";

/* scan - scan a message in chunks of a given size (0: whole) */
static void
scan(struct msg_scan *sc, const struct msg_wordlist *wl, const char *m,
    size_t len, size_t chunk)
{
	size_t i;

	msg_scan_init(sc, wl);
	if (chunk == 0)
		msg_scan_feed(sc, m, len);
	else
		for (i = 0; i < len; i += chunk)
			msg_scan_feed(sc, m + i, len - i < chunk ? len - i :
			    chunk);
	msg_scan_end(sc);
}

/* same_every_split - every two-part split and byte-at-a-time agree */
static int
same_every_split(const struct msg_wordlist *wl, const char *m,
    const struct msg_info *want)
{
	struct msg_scan *sc = malloc(sizeof(*sc));
	size_t len = strlen(m), k;
	int ok = 1;

	scan(sc, wl, m, len, 1);
	ok &= memcmp(&sc->info, want, sizeof(*want)) == 0;
	scan(sc, wl, m, len, 7);
	ok &= memcmp(&sc->info, want, sizeof(*want)) == 0;
	for (k = 0; k <= len && ok; k++) {
		msg_scan_init(sc, wl);
		msg_scan_feed(sc, m, k);
		msg_scan_feed(sc, m + k, len - k);
		msg_scan_end(sc);
		ok &= memcmp(&sc->info, want, sizeof(*want)) == 0;
	}
	free(sc);
	return ok;
}

/* attachments: part headers "Content-Disposition: attachment" of a
 * multipart message (issue 16), never an inline part or a top-level
 * header of a message that is not multipart */
static void
test_attachments(void)
{
	static const char multi[] =
	    "From: a@b.example\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n"
	    "--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
	    "--z\r\nContent-Disposition: inline\r\n\r\nx\r\n"
	    "--z\r\nContent-Disposition: attachment; filename=a\r\n\r\nx\r\n"
	    "--z\r\ncontent-disposition: ATTACHMENT\r\n\r\nx\r\n--z--\r\n";
	static const char plain[] =
	    "From: a@b.example\r\n\r\n"
	    "Content-Disposition: attachment\r\n";
	struct msg_scan *sc = malloc(sizeof(*sc));
	size_t chunk;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	for (chunk = 0; chunk < 8; chunk++) {
		scan(sc, NULL, multi, strlen(multi), chunk);
		CU_ASSERT_EQUAL(sc->info.attachments, 2);
	}
	scan(sc, NULL, plain, strlen(plain), 0);
	CU_ASSERT_EQUAL(sc->info.attachments, 0);
	free(sc);
}

/* MIME structure: a top-level multipart/ needs a boundary and its close
 * delimiter (issue 16, content.malformed); a plain message never fails */
static void
test_mime_bad(void)
{
	static const struct {
		const char	*m;
		bool		 bad;
	} cases[] = {
		{ "Content-Type: multipart/mixed; boundary=\"Zz\"\r\n\r\n"
		  "--zZ\r\n\r\nhi\r\n--ZZ--\r\n", false },
		{ "Content-Type: multipart/mixed;\r\n boundary=b1; x=y\r\n"
		  "\r\n--b1\r\n\r\nhi\r\n--b1--  \r\nepilogue\r\n", false },
		{ "Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nhi\r\n"
		  "--b--\r\n", true },
		{ "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n"
		  "----\r\n", true },
		{ "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		  "--b\r\n\r\nhi\r\n--b\r\n", true },
		{ "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		  "--bb--\r\n", true },
		{ "Content-Type: multipart/mixed; boundary=b\r\n", true },
		{ "Content-Type: text/plain\r\n\r\n--x\r\n", false },
	};
	struct msg_scan *sc = malloc(sizeof(*sc));
	size_t i, chunk;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (chunk = 0; chunk < 6; chunk++) {
			scan(sc, NULL, cases[i].m, strlen(cases[i].m), chunk);
			CU_ASSERT_EQUAL((sc->info.flags & MSG_F_MIME_BAD) != 0,
			    cases[i].bad);
		}
	free(sc);
}

/* attachment names: the extension of name= / filename= on part header
 * lines, folded or not, distinct, lower-cased; never from a part body */
static void
test_file_ext(void)
{
	static const char m[] =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\n"
	    "<input name=\"x.bat\">\r\n"
	    "--b\r\nContent-Type: application/x-msdownload; name=a.EXE\r\n"
	    "Content-Disposition: attachment;\r\n\tfilename=\"My.Invoice.exe\""
	    "\r\n\r\nTVqQ\r\n"
	    "--b\r\nContent-Disposition: attachment; filename=\"noext\"\r\n"
	    "\r\nx\r\n"
	    "--b\r\nContent-Disposition: attachment; filename=r.pdf\r\n"
	    "\r\nx\r\n--b--\r\n";
	struct msg_scan *sc = malloc(sizeof(*sc));
	size_t chunk;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	for (chunk = 0; chunk < 6; chunk++) {
		scan(sc, NULL, m, strlen(m), chunk);
		CU_ASSERT_EQUAL_FATAL(sc->info.nfile_ext, 2);
		CU_ASSERT_STRING_EQUAL(sc->info.file_ext[0], "exe");
		CU_ASSERT_STRING_EQUAL(sc->info.file_ext[1], "pdf");
		CU_ASSERT_EQUAL(sc->info.flags & MSG_F_MIME_BAD, 0);
	}
	free(sc);
}

/* the bulk message: every extraction, and chunking does not matter */
static void
test_bulk(void)
{
	struct msg_wordlist wl;
	struct msg_scan *sc = malloc(sizeof(*sc));
	const struct msg_info *in = &sc->info;
	size_t hdrlen;

	msg_wordlist_init(&wl);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "free", 3), 0);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "click here", 2), 0);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "ACT  now", 5), 0);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "deal", 1), 0);
	scan(sc, &wl, bulk_msg, strlen(bulk_msg), 0);

	CU_ASSERT_STRING_EQUAL(in->from_addr, "news@Mail.Example.co.uk");
	CU_ASSERT_STRING_EQUAL(in->from_domain, "mail.example.co.uk");
	CU_ASSERT_STRING_EQUAL(in->from_org, "example.co.uk");
	CU_ASSERT_STRING_EQUAL(in->message_id,
	    "<20261123100000.1@mail.example.co.uk>");
	CU_ASSERT_STRING_EQUAL(in->subject, "Weekly deals:  act now");
	CU_ASSERT_EQUAL(in->ndkim, 2);
	CU_ASSERT_EQUAL(in->ndkim_seen, 2);
	CU_ASSERT_STRING_EQUAL(in->dkim[0].d, "example.co.uk");
	CU_ASSERT_STRING_EQUAL(in->dkim[0].s, "s1");
	CU_ASSERT_STRING_EQUAL(in->dkim[1].d, "esp.net");
	CU_ASSERT_STRING_EQUAL(in->dkim[1].s, "k2");
	CU_ASSERT_EQUAL(in->received, 3);
	CU_ASSERT_EQUAL(in->nheaders, 14);
	hdrlen = (size_t)(strstr(bulk_msg, "\r\n\r\n") - bulk_msg) + 4;
	CU_ASSERT_EQUAL(in->header_bytes, hdrlen);
	CU_ASSERT_EQUAL(in->body_bytes, strlen(bulk_msg) - hdrlen);
	CU_ASSERT(in->flags & MSG_F_FROM);
	CU_ASSERT(in->flags & MSG_F_DATE);
	CU_ASSERT(in->flags & MSG_F_MSGID);
	CU_ASSERT(in->flags & MSG_F_EOH);
	CU_ASSERT(in->flags & MSG_F_LISTUNSUB_HTTPS);
	CU_ASSERT(in->flags & MSG_F_LISTUNSUB_MAILTO);
	CU_ASSERT(in->flags & MSG_F_LISTUNSUB_POST);
	CU_ASSERT(in->flags & MSG_F_ONECLICK);
	CU_ASSERT_FALSE(in->flags & (MSG_F_TRUNCATED | MSG_F_BADHEADER |
	    MSG_F_URL_OVERFLOW | MSG_F_FROM_NOADDR));
	CU_ASSERT_EQUAL(in->dup, 0);
	/* www.example.co.uk twice, track.esp.net twice (case folded) */
	CU_ASSERT_EQUAL(in->links, 4);
	CU_ASSERT_EQUAL(in->nurl_domains, 2);
	CU_ASSERT_STRING_EQUAL(in->url_domains[0], "www.example.co.uk");
	CU_ASSERT_STRING_EQUAL(in->url_domains[1], "track.esp.net");
	/* FREE(3) + "click here"(2) + "Act now" in HTML(5) + deal x2 (the
	 * QP "deal?" and the anchor text; not in tags) */
	CU_ASSERT_EQUAL(in->spam_hits, 5);
	CU_ASSERT_EQUAL(in->spam_score, 3 + 2 + 5 + 1 + 1);
	CU_ASSERT(in->text_bytes > 100 && in->text_bytes < in->body_bytes);
	CU_ASSERT(same_every_split(&wl, bulk_msg, in));
	free(sc);
}

/* duplicates, bare LF, header-only message without the empty line */
static void
test_dups_lf(void)
{
	static const char m[] =
	    "From: a@one.example\n"
	    "Subject: first\n"
	    "From: b@two.example\n"
	    "Message-ID: <x@y>\n"
	    "subject: second\n"
	    "message-id: <x@y>\n"
	    "this line has no colon\n"
	    "Date: today";
	struct msg_scan *sc = malloc(sizeof(*sc));
	const struct msg_info *in = &sc->info;

	scan(sc, NULL, m, strlen(m), 0);
	CU_ASSERT_STRING_EQUAL(in->from_domain, "one.example");
	CU_ASSERT_STRING_EQUAL(in->subject, "first");
	CU_ASSERT_EQUAL(in->dup, MSG_DUP_FROM | MSG_DUP_SUBJECT |
	    MSG_DUP_MSGID);
	CU_ASSERT(in->flags & MSG_F_BADHEADER);
	CU_ASSERT(in->flags & MSG_F_DATE);	/* flushed by msg_scan_end */
	CU_ASSERT_FALSE(in->flags & MSG_F_EOH);
	CU_ASSERT_EQUAL(in->nheaders, 7);
	CU_ASSERT_EQUAL(in->body_bytes, 0);
	CU_ASSERT(same_every_split(NULL, m, in));
	free(sc);
}

/* From forms: bare addr-spec with comment, group-less garbage */
static void
test_from_forms(void)
{
	static const char m1[] =
	    "From: User.Name@Sub.Example.COM. (The User)\r\n\r\nhi\r\n";
	static const char m2[] = "From: undisclosed\r\n\r\n";
	static const char m3[] =
	    "From: =?utf-8?q?Caf=C3=A9?= <cafe@shop.com.au>\r\n\r\n";
	struct msg_scan *sc = malloc(sizeof(*sc));

	scan(sc, NULL, m1, strlen(m1), 0);
	CU_ASSERT_STRING_EQUAL(sc->info.from_addr, "User.Name@Sub.Example.COM.");
	CU_ASSERT_STRING_EQUAL(sc->info.from_domain, "sub.example.com");
	CU_ASSERT_STRING_EQUAL(sc->info.from_org, "example.com");
	scan(sc, NULL, m2, strlen(m2), 0);
	CU_ASSERT(sc->info.flags & MSG_F_FROM_NOADDR);
	CU_ASSERT_STRING_EQUAL(sc->info.from_domain, "");
	scan(sc, NULL, m3, strlen(m3), 0);
	CU_ASSERT_STRING_EQUAL(sc->info.from_org, "shop.com.au");
	free(sc);
}

/* whole words and phrases; words in tags and inside words do not count */
static void
test_words(void)
{
	static const char m[] =
	    "Subject: x\r\n\r\n"
	    "Freedom, freebie, FREE! free-for-all <free> 'free'\r\n"
	    "CLICK\r\n  HERE, click-here, clickhere\r\n"
	    "ünfree free\xc3\xa9 caf\xc3\xa9\r\n";
	struct msg_wordlist wl;
	struct msg_scan *sc = malloc(sizeof(*sc));

	msg_wordlist_init(&wl);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "free", 1), 0);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "click here", 10), 0);
	CU_ASSERT_EQUAL(msg_wordlist_add(&wl, "caf\xc3\xa9", 100), 0);
	scan(sc, &wl, m, strlen(m), 0);
	/* FREE!, free-, 'free' = 3; CLICK HERE and click-here = 20; café */
	CU_ASSERT_EQUAL(sc->info.spam_hits, 6);
	CU_ASSERT_EQUAL(sc->info.spam_score, 3 + 20 + 100);
	CU_ASSERT(same_every_split(&wl, m, &sc->info));
	free(sc);
}

/* more distinct URL domains than kept */
static void
test_url_overflow(void)
{
	char m[2048];
	struct msg_scan *sc = malloc(sizeof(*sc));
	size_t o;
	int i;

	o = (size_t)snprintf(m, sizeof(m), "Subject: links\r\n\r\n");
	for (i = 0; i < 10; i++)
		o += (size_t)snprintf(m + o, sizeof(m) - o,
		    "see http://d%d.example/p and https://D%d.Example:443/q\r\n",
		    i, i);
	o += (size_t)snprintf(m + o, sizeof(m) - o,
	    "nohttp://x.example xhttps://y.example http:// https://u:p@"
	    "real.example/\r\n");
	scan(sc, NULL, m, o, 0);
	CU_ASSERT_EQUAL(sc->info.links, 21);
	CU_ASSERT_EQUAL(sc->info.nurl_domains, MSG_URL_MAX);
	CU_ASSERT(sc->info.flags & MSG_F_URL_OVERFLOW);
	CU_ASSERT_STRING_EQUAL(sc->info.url_domains[0], "d0.example");
	CU_ASSERT_STRING_EQUAL(sc->info.url_domains[7], "d7.example");
	CU_ASSERT(same_every_split(NULL, m, &sc->info));
	free(sc);
}

/* one-click needs the exact POST value and an https URI */
static void
test_oneclick(void)
{
	static const char m1[] =
	    "List-Unsubscribe: <mailto:u@x.example>\r\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n";
	static const char m2[] =
	    "List-Unsubscribe: <https://x.example/u>\r\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=Yes\r\n\r\n";
	static const char m3[] =
	    "List-Unsubscribe: <HTTPS://x.example/u>\r\n"
	    "List-Unsubscribe-Post:  List-Unsubscribe=One-Click \r\n\r\n";
	struct msg_scan *sc = malloc(sizeof(*sc));

	scan(sc, NULL, m1, strlen(m1), 0);
	CU_ASSERT_FALSE(sc->info.flags & MSG_F_ONECLICK);
	CU_ASSERT(sc->info.flags & MSG_F_LISTUNSUB_POST);
	scan(sc, NULL, m2, strlen(m2), 0);
	CU_ASSERT_FALSE(sc->info.flags & MSG_F_ONECLICK);
	CU_ASSERT(sc->info.flags & MSG_F_LISTUNSUB_HTTPS);
	scan(sc, NULL, m3, strlen(m3), 0);
	CU_ASSERT(sc->info.flags & MSG_F_ONECLICK);
	free(sc);
}

/* overlong values are cut and flagged, never overflow */
static void
test_truncation(void)
{
	char *m = malloc(8192);
	struct msg_scan *sc = malloc(sizeof(*sc));
	size_t o;

	o = (size_t)snprintf(m, 8192, "Subject: ");
	memset(m + o, 'S', 3000);
	o += 3000;
	o += (size_t)snprintf(m + o, 8192 - o, "\r\nFrom: <a@");
	memset(m + o, 'd', 200);
	o += 200;
	o += (size_t)snprintf(m + o, 8192 - o, ".example>\r\n\r\nbody\r\n");
	scan(sc, NULL, m, o, 0);
	CU_ASSERT(sc->info.flags & MSG_F_TRUNCATED);
	CU_ASSERT_EQUAL(strlen(sc->info.subject), MSG_SUBJECT_MAX - 1);
	CU_ASSERT_EQUAL(strlen(sc->info.from_domain), MSG_DOMAIN_MAX - 1);
	CU_ASSERT_EQUAL(sc->info.body_bytes, 6);
	free(sc);
	free(m);
}

/* the organizational-domain rule */
static void
test_org_domain(void)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "example.com", "example.com" },
		{ "a.b.example.com", "example.com" },
		{ "com", "com" },
		{ "mail.example.co.uk", "example.co.uk" },
		{ "example.co.uk", "example.co.uk" },
		{ "co.uk", "co.uk" },
		{ "x.y.shop.COM.AU", "shop.COM.AU" },
		{ "news.example.de", "example.de" },
		{ "example.com.", "example.com." },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CU_ASSERT_STRING_EQUAL(msg_org_domain(t[i].in), t[i].want);
}

/* word-list validation */
static void
test_wordlist(void)
{
	struct msg_wordlist *wl = malloc(sizeof(*wl));
	char w[16];
	int i, rc = 0;

	msg_wordlist_init(wl);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl, "", 1), -EINVAL);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl, "   ", 1), -EINVAL);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl, "one two three four", 1),
	    -EINVAL);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl, "100%", 1), -EINVAL);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl,
	    "averyveryveryverylongwordthatdoesnotfit", 1), -EINVAL);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl, "Buy Now", 1), 0);
	CU_ASSERT_EQUAL(msg_wordlist_add(wl, " buy   now ", 1), -EEXIST);
	CU_ASSERT_EQUAL(msg_wordlist_add_defaults(wl), 0);
	CU_ASSERT(wl->n > 20);
	for (i = 0; rc == 0; i++) {
		snprintf(w, sizeof(w), "w%d", i);
		rc = msg_wordlist_add(wl, w, 1);
	}
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_EQUAL(wl->n, MSG_WORDLIST_MAX);
	for (i = 1; i < (int)wl->n; i++)
		CU_ASSERT(wl->e[i - 1].hash <= wl->e[i].hash);
	free(wl);
}

int
test_msg_scan_register(void)
{
	CU_pSuite s = CU_add_suite("msg_scan", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "bulk message, every split", test_bulk) == NULL ||
	    CU_add_test(s, "duplicates, bare LF, no body", test_dups_lf) ==
	    NULL ||
	    CU_add_test(s, "From forms", test_from_forms) == NULL ||
	    CU_add_test(s, "spam words and phrases", test_words) == NULL ||
	    CU_add_test(s, "URL domains overflow", test_url_overflow) ==
	    NULL ||
	    CU_add_test(s, "one-click unsubscribe", test_oneclick) == NULL ||
	    CU_add_test(s, "truncation", test_truncation) == NULL ||
	    CU_add_test(s, "organizational domain", test_org_domain) == NULL ||
	    CU_add_test(s, "word list", test_wordlist) == NULL ||
	    CU_add_test(s, "attachments", test_attachments) == NULL ||
	    CU_add_test(s, "MIME structure", test_mime_bad) == NULL ||
	    CU_add_test(s, "attachment file types", test_file_ext) == NULL)
		return -1;
	return 0;
}
