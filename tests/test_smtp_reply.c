/*
 * DESCRIPTION
 *	CUnit suite "smtp_reply": placeholder expansion (every placeholder,
 *	missing values, unknown names, truncation, sanitizing peer values)
 *	and rendering (enhanced code or none, trailer but not on EHLO,
 *	multi-line wrap repeating code and enhanced code, over-long words,
 *	the no-profile defaults, and "does not fit" writing nothing).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "prof_load.h"
#include "smtp_reply.h"
#include "test_suites.h"

static const struct smtp_reply_vars vars = {
	.client_ip = 0xc6336407u,	/* 198.51.100.7 */
	.mx_ip = 0x0a000001u,		/* 10.0.0.1 */
	.session_id = 0xabcULL,
	.helo = "client.example",
	.domain = "sender.example",
	.addr = "bob@rcpt.example",
	.size = 1234,
	.limit = 60,
};

static struct prof_profile *new_profile(const char *, uint32_t);

/* new_profile - a profile with one MX host, a trailer and a wrap width */
static struct prof_profile *
new_profile(const char *trailer, uint32_t wrap)
{
	struct prof_profile *p;

	if ((p = prof_profile_new("t")) == NULL)
		return NULL;
	p->mx_hosts = calloc(1, sizeof(*p->mx_hosts));
	if (p->mx_hosts == NULL ||
	    (p->mx_hosts[0] = strdup("mx1.example")) == NULL) {
		prof_profile_free(p);
		return NULL;
	}
	p->nmx_hosts = 1;
	free(p->trailer);
	if ((p->trailer = strdup(trailer)) == NULL) {
		prof_profile_free(p);
		return NULL;
	}
	p->wrap = wrap;
	return p;
}

/* test_expand - every placeholder, unknown ones kept */
static void
test_expand(void)
{
	static const struct {
		const char	*tmpl;
		const char	*want;
	} cases[] = {
		{ "{ip}|{netblock}|{host}|{mx}|{session}",
		  "198.51.100.7|198.51.100.0/24|mx1.example|10.0.0.1|"
		  "0000000000000abc" },
		{ "{domain}|{addr}|{rcpt_domain}|{size}|{limit}|{helo}",
		  "sender.example|bob@rcpt.example|rcpt.example|1234|60|"
		  "client.example" },
		{ "{nope} {ip {} { {IP} {ip}}", "{nope} {ip {} { {IP} "
		  "198.51.100.7}" },
		{ "no placeholders", "no placeholders" },
		{ "", "" },
		{ "{", "{" },
		{ "}{host}{", "}mx1.example{" },
	};
	struct prof_profile *p;
	char out[256];
	size_t i, n;

	p = new_profile("", 0);
	CU_ASSERT_FATAL(p != NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = smtp_reply_expand(p, cases[i].tmpl, &vars, out,
		    sizeof(out));
		CU_ASSERT_STRING_EQUAL(out, cases[i].want);
		CU_ASSERT_EQUAL(n, strlen(cases[i].want));
	}
	prof_profile_free(p);
}

/* test_expand_missing - NULL and zero values, no profile, no MX host */
static void
test_expand_missing(void)
{
	struct smtp_reply_vars z;
	struct prof_profile *p;
	char out[128];

	memset(&z, 0, sizeof(z));
	smtp_reply_expand(NULL, "[{domain}{addr}{rcpt_domain}{helo}]{ip} "
	    "{host} {size}", &z, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "[]0.0.0.0 localhost 0");
	p = prof_profile_new("nohost");
	CU_ASSERT_FATAL(p != NULL);
	smtp_reply_expand(p, "{host}", &z, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "localhost");
	z.addr = "no-at-sign";
	smtp_reply_expand(p, "<{rcpt_domain}>", &z, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "<>");
	prof_profile_free(p);
}

/* test_expand_bounds - truncation and sanitizing */
static void
test_expand_bounds(void)
{
	struct smtp_reply_vars v = vars;
	char out[32];
	size_t n;

	n = smtp_reply_expand(NULL, "{session}", &v, out, 8);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_STRING_EQUAL(out, "0000000");
	n = smtp_reply_expand(NULL, "abcdef", &v, out, 1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	out[0] = 'Z';
	CU_ASSERT_EQUAL(smtp_reply_expand(NULL, "abc", &v, out, 0), 0);
	CU_ASSERT_EQUAL(out[0], 'Z');
	v.helo = "a\r\nb\x7f";
	smtp_reply_expand(NULL, "{helo}", &v, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "a??b?");
}

struct render_case {
	const char	*name;
	enum sim_rk	 rk;
	uint32_t	 wrap;
	uint16_t	 code;		/* 0: keep the kind's default */
	const char	*enh;
	const char	*text;
	const char	*trailer;
	const char	*want;
};

static const struct render_case render_cases[] = {
	{ "default with trailer", SIM_RK_MAIL_OK, 0, 0, NULL, NULL,
	  " {session} - gsmtp",
	  "250 2.1.0 Sender OK 0000000000000abc - gsmtp\r\n" },
	{ "no enhanced code", SIM_RK_GREETING, 0, 0, NULL, NULL, " - gsmtp",
	  "220 mx1.example ESMTP ready - gsmtp\r\n" },
	{ "EHLO has no trailer", SIM_RK_EHLO, 0, 0, NULL, NULL, " - gsmtp",
	  "250 mx1.example Hello [198.51.100.7]\r\n" },
	{ "placeholders in a policy reply", SIM_RK_DAILY_CAP, 0, 0, NULL,
	  NULL, "",
	  "421 4.7.0 Daily sending limit of 60 exceeded, try again later\r\n" },
	{ "Gmail wrap", SIM_RK_RATE_IP, 40, 421, "4.7.28",
	  "Our system has detected an unusual rate of unsolicited mail "
	  "originating from your IP address [{ip}].", " - gsmtp",
	  "421-4.7.28 Our system has detected an\r\n"
	  "421-4.7.28 unusual rate of unsolicited\r\n"
	  "421-4.7.28 mail originating from your IP\r\n"
	  "421-4.7.28 address [198.51.100.7].\r\n"
	  "421 4.7.28 - gsmtp\r\n" },
	{ "wrap wide enough: one line", SIM_RK_RATE_IP, 200, 421, "4.7.28",
	  "Slow down", " - gsmtp", "421 4.7.28 Slow down - gsmtp\r\n" },
	{ "wrap exactly at the width", SIM_RK_RATE_IP, 19, 421, "4.7.28",
	  "12345678 aa", "", "421-4.7.28 12345678\r\n421 4.7.28 aa\r\n" },
	{ "a word longer than the width", SIM_RK_REP_BLOCK, 20, 550, "5.7.1",
	  "short averyveryverylongwordthatexceeds end", "",
	  "550-5.7.1 short\r\n"
	  "550-5.7.1 averyveryverylongwordthatexceeds\r\n"
	  "550 5.7.1 end\r\n" },
	{ "wrap without enhanced code", SIM_RK_GREETING, 14, 0, "",
	  "aaaa bbbb cccc", "", "220-aaaa bbbb\r\n220 cccc\r\n" },
	/* issue 16: LF (a text given as lines) breaks the reply; every
	 * line carries the code, so no template can forge a reply line */
	{ "CR and LF in a template", SIM_RK_NOOP, 0, 0, NULL, "a\r\n250 b",
	  "", "250-2.0.0 a \r\n250 2.0.0 250 b\r\n" },
	{ "GMX lines without enhanced code", SIM_RK_RATE_IP, 0, 421, "",
	  "mx.gmx.net (mxgmx001) Nemesis ESMTP Service not available\n"
	  "Requested action aborted: local error in processing", "",
	  "421-mx.gmx.net (mxgmx001) Nemesis ESMTP Service not available\r\n"
	  "421 Requested action aborted: local error in processing\r\n" },
	{ "lines, then wrap and trailer", SIM_RK_RATE_IP, 20, 421, "4.7.0",
	  "one\ntwo three four five", " [id]",
	  "421-4.7.0 one\r\n421-4.7.0 two three\r\n"
	  "421-4.7.0 four five\r\n421 4.7.0 [id]\r\n" },
};

/* test_render - table of rendered replies */
static void
test_render(void)
{
	const struct render_case *c;
	struct prof_profile *p;
	char out[1024];
	size_t i, n;

	for (i = 0; i < sizeof(render_cases) / sizeof(render_cases[0]); i++) {
		c = &render_cases[i];
		p = new_profile(c->trailer, c->wrap);
		CU_ASSERT_FATAL(p != NULL);
		if (c->text != NULL)
			CU_ASSERT_FATAL(prof_set_reply(p, c->rk, c->code != 0 ?
			    c->code : p->replies[c->rk].code,
			    c->enh != NULL ? c->enh :
			    p->replies[c->rk].enhanced, c->text,
			    p->replies[c->rk].stage) == 0);
		n = smtp_reply_render(p, c->rk, &vars, out, sizeof(out));
		CU_ASSERT_EQUAL(n, strlen(c->want));
		out[n] = '\0';
		CU_ASSERT_STRING_EQUAL(out, c->want);
		prof_profile_free(p);
	}
}

/* test_render_fit - exact fit, and nothing written when it does not fit */
static void
test_render_fit(void)
{
	static const char want[] = "554 5.3.2 No mail service at this "
	    "address\r\n";
	char out[128];
	size_t n, i;

	n = smtp_reply_render(NULL, SIM_RK_NO_MX, &vars, out, sizeof(out));
	CU_ASSERT_EQUAL(n, sizeof(want) - 1);
	CU_ASSERT(memcmp(out, want, n) == 0);
	n = smtp_reply_render(NULL, SIM_RK_NO_MX, &vars, out,
	    sizeof(want) - 1);
	CU_ASSERT_EQUAL(n, sizeof(want) - 1);
	memset(out, 'Z', sizeof(out));
	n = smtp_reply_render(NULL, SIM_RK_NO_MX, &vars, out,
	    sizeof(want) - 2);
	CU_ASSERT_EQUAL(n, 0);
	for (i = 0; i < sizeof(out); i++)
		if (out[i] != 'Z')
			break;
	CU_ASSERT_EQUAL(i, sizeof(out));
}

/* test_render_wrap_lines - every wrapped line within the width */
static void
test_render_wrap_lines(void)
{
	struct prof_profile *p;
	char out[2048], *line, *end;
	size_t n, lines = 0;

	p = new_profile(" {session} - gsmtp", 76);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FATAL(prof_set_reply(p, SIM_RK_RATE_IP, 421, "4.7.28",
	    "Gmail has detected an unusual rate of unsolicited email "
	    "originating from your IP Netblock {netblock}. To protect our "
	    "users from spam, email sent from your IP Netblock has been "
	    "temporarily rate limited. To review our bulk email senders "
	    "guidelines, go to https://support.google.com/mail/"
	    "?p=UnsolicitedRateLimitError", SIM_STAGE_MAIL) == 0);
	n = smtp_reply_render(p, SIM_RK_RATE_IP, &vars, out, sizeof(out) - 1);
	CU_ASSERT_FATAL(n > 0);
	out[n] = '\0';
	for (line = out; *line != '\0'; line = end + 2) {
		end = strstr(line, "\r\n");
		CU_ASSERT_FATAL(end != NULL);
		CU_ASSERT((size_t)(end - line) <= 76);
		CU_ASSERT(strncmp(line, end[2] == '\0' ? "421 4.7.28 " :
		    "421-4.7.28 ", 11) == 0);
		lines++;
	}
	CU_ASSERT(lines >= 4);
	CU_ASSERT(strstr(out, "198.51.100.0/24.") != NULL);
	CU_ASSERT(strstr(out, "0000000000000abc - gsmtp\r\n") != NULL);
	prof_profile_free(p);
}

/* test_render_trailer_whole - at every text length, Gmail's trailer
 * "<id> - gsmtp" ends the last line whole (a Postfix log parser reads
 * "(\S+) - gsmtp$" there), and no line but one holding a single word
 * is wider than the wrap */
static void
test_render_trailer_whole(void)
{
	static const char tail[] = " 0000000000000abc - gsmtp\r\n";
	struct prof_profile *p;
	char text[400], out[2048], *line, *end, *last;
	size_t len, n;

	p = new_profile(" {session} - gsmtp", 76);
	CU_ASSERT_FATAL(p != NULL);
	for (len = 1; len < sizeof(text) - 1; len++) {
		/* words of 1..9 letters: breaks fall everywhere */
		for (n = 0; n < len; n++)
			text[n] = n % 10 == 9 - len % 7 ? ' ' : 'a';
		text[len] = '\0';
		CU_ASSERT_FATAL(prof_set_reply(p, SIM_RK_RATE_IP, 421,
		    "4.7.28", text, SIM_STAGE_EOD) == 0);
		n = smtp_reply_render(p, SIM_RK_RATE_IP, &vars, out,
		    sizeof(out) - 1);
		CU_ASSERT_FATAL(n > 0);
		out[n] = '\0';
		last = out;
		for (line = out; *line != '\0'; line = end + 2) {
			end = strstr(line, "\r\n");
			CU_ASSERT_FATAL(end != NULL);
			CU_ASSERT((size_t)(end - line) <= 76 ||
			    memchr(line + 11, ' ', (size_t)(end - line) - 11)
			    == NULL);
			last = line;
		}
		CU_ASSERT(strncmp(last, "421 4.7.28 ", 11) == 0);
		/* the id is preceded by a space or starts the line's text */
		CU_ASSERT(n >= sizeof(tail) - 1 &&
		    strcmp(out + n - (sizeof(tail) - 1), tail) == 0 &&
		    out + n - (sizeof(tail) - 1) >= last + 10);
	}
	prof_profile_free(p);
}

/* test_expand_ipv6 - {ip}, {netblock} and {mx} of an IPv6 connection */
static void
test_expand_ipv6(void)
{
	struct smtp_reply_vars v = vars;
	struct sim_addr6 c, m;
	struct prof_profile *p;
	char out[256];
	uint32_t v4;
	unsigned pfx;
	bool v6;

	CU_ASSERT_FATAL(sim_addr_parse("2001:db8:16:1::a", &v6, &v4, &c,
	    &pfx) == 0 && sim_addr_parse("::1", &v6, &v4, &m, &pfx) == 0);
	p = new_profile("", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	v.client6 = &c;
	v.mx6 = &m;
	smtp_reply_expand(p, "[{ip}] {netblock} {mx}", &v, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "[2001:db8:16:1::a] 2001:db8:16::/48 ::1");
	v.netblock6 = 56;
	smtp_reply_expand(p, "{netblock}", &v, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "2001:db8:16::/56");
	prof_profile_free(p);
}

/* test_render_fixed - replies rendered once (smtp_reply_fix()) are the
 * replies rendered each time, for every kind of every bundled profile;
 * a reply naming the session is not fixed */
static void
test_render_fixed(void)
{
	static char before[SIM_RK__COUNT][16][512];
	struct prof_error err;
	struct prof_world *w;
	char out[512];
	size_t i, rk, n, nfixed = 0;

	memset(&err, 0, sizeof(err));
	w = prof_load_scenario(MXSIM_PROFILES_DIR "/default.yaml",
	    MXSIM_PROFILES_DIR, &err);
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT_FATAL(w->nprofiles > 1 && w->nprofiles <= 16);
	for (i = 0; i < w->nprofiles; i++)
		for (rk = 0; rk < SIM_RK__COUNT; rk++) {
			n = smtp_reply_render(w->profiles[i], (enum sim_rk)rk,
			    &vars, before[rk][i], sizeof(before[rk][i]) - 1);
			before[rk][i][n] = '\0';
		}
	CU_ASSERT_EQUAL_FATAL(smtp_reply_fix(w), 0);
	for (i = 0; i < w->nprofiles; i++)
		for (rk = 0; rk < SIM_RK__COUNT; rk++) {
			n = smtp_reply_render(w->profiles[i], (enum sim_rk)rk,
			    &vars, out, sizeof(out) - 1);
			out[n] = '\0';
			CU_ASSERT_STRING_EQUAL(out, before[rk][i]);
			nfixed += w->profiles[i]->fixed[rk] != NULL;
			if (strstr(w->profiles[i]->replies[rk].text != NULL ?
			    w->profiles[i]->replies[rk].text : "", "{session}")
			    != NULL)
				CU_ASSERT_PTR_NULL(w->profiles[i]->fixed[rk]);
		}
	CU_ASSERT(nfixed > 0);
	prof_world_free(w);
}

/* test_smtp_reply_register - the suite */
int
test_smtp_reply_register(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("smtp_reply", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "expand", test_expand) == NULL ||
	    CU_add_test(s, "expand missing", test_expand_missing) == NULL ||
	    CU_add_test(s, "expand bounds", test_expand_bounds) == NULL ||
	    CU_add_test(s, "render", test_render) == NULL ||
	    CU_add_test(s, "render fit", test_render_fit) == NULL ||
	    CU_add_test(s, "render wrap lines", test_render_wrap_lines) ==
	    NULL ||
	    CU_add_test(s, "render trailer whole", test_render_trailer_whole)
	    == NULL ||
	    CU_add_test(s, "expand IPv6", test_expand_ipv6) == NULL ||
	    CU_add_test(s, "render fixed", test_render_fixed) == NULL)
		return -1;
	return 0;
}
