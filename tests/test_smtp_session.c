/*
 * DESCRIPTION
 *	CUnit suite "smtp_session": whole dialogues fed as transcripts, each
 *	fed at once, byte by byte and cut at every byte boundary (all must
 *	give the same replies); bounds (512/513-octet commands, 1001-octet
 *	text lines), bad sequences, DATA recognition (dot-stuffing, bare LF
 *	not ending DATA), timeouts, shutdown, flow control, events, and
 *	policy-driven replies.  Every session is freed and the policy state
 *	must hold no open connection afterwards.  Transcripts run twice: with
 *	private buffers and from a pool (which must hold no buffer once a
 *	session is idle); pool exhaustion answers 421 4.3.2; the bulk DATA
 *	recogniser is checked against a byte-at-a-time reference model on
 *	random messages cut at random.  Transcripts run again with the
 *	message scanner on (replies must not change).  Issue 5: the scanned
 *	message reaches the policy (msgid.missing, {from_domain}), RCPT sees
 *	the recipients accepted so far (rcpts.domains), and with a real
 *	auth_zone SPF, DKIM (signed, tampered, unsigned) and DMARC decide
 *	the end-of-DATA reply.  STARTTLS: offered only with the profile's
 *	extension and env.tls_ok, 501/502/503 cases, input after the 220
 *	dropped at any cut, EHLO forgotten after the handshake and STARTTLS
 *	no longer offered, a timeout mid-handshake closes silently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "auth_zone.h"
#include "msg_scan.h"
#include "sim_policy.h"
#include "sim_rng.h"
#include "smtp_arena.h"
#include "smtp_auth.h"
#include "smtp_helper.h"
#include "test_suites.h"
#ifdef MXSIM_HAVE_AUTH
#include "auth_dkim.h"
#endif

#define T		" - sim\r\n"
#define GREET		"220 mx.test.example ESMTP ready" T
#define EHLO_R		"250-mx.test.example Hello [192.0.2.10]\r\n" \
			"250-PIPELINING\r\n250-8BITMIME\r\n" \
			"250-ENHANCEDSTATUSCODES\r\n250 SIZE 10485760\r\n"
#define HELO_R		"250 mx.test.example Hello [192.0.2.10]" T
#define MAIL_R(d)	"250 2.1.0 Sender OK (" d ")" T
#define RCPT_R(a)	"250 2.1.5 Recipient <" a "> OK" T
#define DATA_R		"354 Start mail input; end with <CRLF>.<CRLF>" T
#define QUEUED(n)	"250 2.0.0 OK " #n " bytes queued" T
#define QUIT_R		"221 2.0.0 mx.test.example closing connection" T
#define OK_R		"250 2.0.0 OK" T
#define VRFY_R		"252 2.5.0 Cannot VRFY user, but will accept " \
			"message and attempt delivery" T
#define HELP_R		"214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA " \
			"RSET NOOP QUIT VRFY HELP" T
#define E500		"500 5.5.1 Command unrecognized" T
#define E502		"502 5.5.1 Command not implemented" T
#define E501		"501 5.5.4 Syntax error in parameters or arguments" T
#define E503		"503 5.5.1 Bad sequence of commands" T
#define E555		"555 5.5.4 MAIL FROM/RCPT TO parameters not " \
			"recognized or not implemented" T
#define E554		"554 5.5.1 No valid recipients" T
#define LONG_R		"500 5.5.2 Line too long" T
#define TLONG_R		"500 5.5.2 Message text line longer than 1000 " \
			"octets" T
#define ERRS_R		"421 4.7.0 mx.test.example Too many errors, " \
			"closing connection" T

#define MAIL_A		"MAIL FROM:<Alice@Sender.Example>\r\n"
#define RCPT_B		"RCPT TO:<Bob@Test.Example>\r\n"
#define ENV		"EHLO client.example\r\n" MAIL_A RCPT_B "DATA\r\n"
#define ENV_R		GREET EHLO_R MAIL_R("sender.example") \
			RCPT_R("bob@test.example") DATA_R

struct session_case {
	const char	*name;
	const char	*input;
	const char	*want;
	const char	*want_state;
};

static const struct session_case cases[] = {
	{ "full dialogue",
	  "EHLO client.example\r\n"
	  "MAIL FROM:<Alice@Sender.Example> SIZE=100 BODY=8BITMIME\r\n"
	  "RCPT TO:<Bob@Test.Example>\r\n"
	  "DATA\r\n"
	  "Subject: hi\r\n\r\nhello\r\n.\r\n"
	  "QUIT\r\n",
	  ENV_R QUEUED(22) QUIT_R, "QUIT" },
	{ "pipelined two messages, rset, noop, bare LF commands",
	  "EHLO client.example\nMAIL FROM:<a@x.example>\r\n"
	  "RCPT TO:<b@y.example>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n"
	  "one\r\n.\r\nMAIL FROM:<>\r\nRSET\r\nNOOP whatever\r\n"
	  "MAIL FROM:<c@z.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\n"
	  ".\r\n",
	  GREET EHLO_R MAIL_R("x.example") RCPT_R("b@y.example")
	  RCPT_R("postmaster") DATA_R QUEUED(5) MAIL_R("") OK_R OK_R
	  MAIL_R("z.example") RCPT_R("d@y.example") DATA_R QUEUED(0),
	  "READY" },
	{ "lower-case commands, HELO, VRFY, HELP",
	  "helo client\r\nvrfy bob\r\nhelp me\r\nmail from:<a@b.example>\r\n"
	  "quit\r\nNOOP\r\n",
	  GREET HELO_R VRFY_R HELP_R MAIL_R("b.example") QUIT_R, "QUIT" },
	{ "dot-stuffing counted after unstuffing",
	  ENV "..hidden\r\n..\r\n.x\r\n.\r\n",
	  ENV_R QUEUED(15), "READY" },
	{ "bare LF dot does not end DATA",
	  ENV "a\n.\nb\r\n.\r\n",
	  ENV_R QUEUED(7), "READY" },
	{ "CRLF dot LF does not end DATA",
	  ENV "a\r\n.\nb\r\n.\r\n",
	  ENV_R QUEUED(7), "READY" },
	{ "dot CR without LF does not end DATA",
	  ENV "a\r\n.\rb\r\n.\r\n",
	  ENV_R QUEUED(7), "READY" },
	{ "RCPT before MAIL",
	  "EHLO c\r\nRCPT TO:<a@b.example>\r\n",
	  GREET EHLO_R E503, "READY" },
	{ "MAIL and RCPT before EHLO",
	  "MAIL FROM:<a@b.example>\r\nRCPT TO:<a@b.example>\r\n",
	  GREET E503 E503, "GREETING" },
	{ "DATA before MAIL and before RCPT",
	  "EHLO c\r\nDATA\r\nMAIL FROM:<a@b.example>\r\nDATA\r\n",
	  GREET EHLO_R E503 MAIL_R("b.example") E554, "MAIL" },
	{ "nested MAIL",
	  "EHLO c\r\nMAIL FROM:<a@b.example>\r\nMAIL FROM:<a@b.example>\r\n",
	  GREET EHLO_R MAIL_R("b.example") E503, "MAIL" },
	{ "RSET ends the transaction",
	  "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRSET\r\n"
	  "RCPT TO:<a@b.example>\r\n",
	  GREET EHLO_R MAIL_R("b.example") OK_R E503, "READY" },
	{ "EHLO resets the transaction",
	  "EHLO c\r\nMAIL FROM:<a@b.example>\r\nEHLO d\r\n"
	  "MAIL FROM:<a@b.example>\r\n",
	  GREET EHLO_R MAIL_R("b.example") EHLO_R MAIL_R("b.example"),
	  "MAIL" },
	{ "MAIL syntax and parameters",
	  "EHLO c\r\nMAIL FROM:a@b.example\r\nMAIL FROM:<alice>\r\n"
	  "MAIL TO:<a@b.example>\r\nMAIL FROM:<a@b.example>x\r\n"
	  "MAIL FROM:<a@b.example> FOO=1\r\n"
	  "MAIL FROM:<a@b.example> SIZE=12x\r\n"
	  "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"
	  "MAIL FROM: <@r.example:a@B.example> SIZE=5 body=7bit\r\n",
	  GREET EHLO_R E501 E501 E501 E501 E555 E501 E555
	  MAIL_R("b.example"), "MAIL" },
	{ "RCPT syntax and parameters",
	  "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob>\r\nRCPT TO:<>\r\n"
	  "RCPT TO:<a@b.example> NOTIFY=NEVER\r\nRCPT TO:<a@b.example>\r\n",
	  GREET EHLO_R MAIL_R("") E501 E501 E555 RCPT_R("a@b.example"),
	  "RCPT" },
	{ "command arguments",
	  "EHLO\r\nHELO   \r\nDATA x\r\nRSET x\r\nQUIT x\r\nVRFY\r\n",
	  GREET E501 E501 E501 E501 E501 E501, "GREETING" },
	{ "unknown and unimplemented commands",
	  "FOO\r\nMAILX\r\n\r\nSTARTTLS\r\nAUTH PLAIN AGFhAGI=\r\n"
	  "EXPN list\r\nTURN\r\nETRN x\r\nBDAT 10 LAST\r\n",
	  GREET E500 E500 E500 E502 E502 E502 E502 E502 E502, "GREETING" },
	{ "too many errors",
	  "FOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\n"
	  "FOO\r\nNOOP\r\n",
	  GREET E500 E500 E500 E500 E500 E500 E500 E500 E500 E500 ERRS_R,
	  "QUIT" },
	{ "input after QUIT is ignored",
	  "QUIT\r\nNOOP\r\nFOO\r\n",
	  GREET QUIT_R, "QUIT" },
};

/* Generated cases (long lines), built in gen_cases(). */
static char gen_in[6][4096];
static char gen_want[6][2048];
static struct session_case gen[6];

static void	gen_cases(void);
/* run_case_mode() flags */
#define CASE_POOL	0x1	/* sessions from a pool */
#define CASE_SCAN	0x2	/* env.scan: the message scanner on */

typedef void case_setup_fn(struct smtp_fix *, void *);

static void	run_case(const struct session_case *);
static void	run_case_mode(const struct session_case *, unsigned,
		    case_setup_fn *, void *);
static size_t	ref_data(const char *, size_t, uint64_t *, int *);
static void	check_out(const char *, const char *, const char *, size_t,
		    size_t);

/* gen_cases - the 512/513-octet command and 1000/1001-octet text cases */
static void
gen_cases(void)
{
	char x[3000];

	if (gen[0].name != NULL)
		return;
	memset(x, 'x', sizeof(x));
	/* "NOOP " + 505 + CRLF = 512 octets: accepted. */
	snprintf(gen_in[0], sizeof(gen_in[0]), "NOOP %.*s\r\nNOOP\r\n",
	    505, x);
	snprintf(gen_want[0], sizeof(gen_want[0]), GREET OK_R OK_R);
	gen[0] = (struct session_case){ "512-octet command", gen_in[0],
	    gen_want[0], "GREETING" };
	/* 513 octets: skipped, one 500 5.5.2, then on as usual. */
	snprintf(gen_in[1], sizeof(gen_in[1]), "NOOP %.*s\r\nNOOP\r\n",
	    506, x);
	snprintf(gen_want[1], sizeof(gen_want[1]), GREET LONG_R OK_R);
	gen[1] = (struct session_case){ "513-octet command", gen_in[1],
	    gen_want[1], "GREETING" };
	/* 512 octets with a bare LF: accepted. */
	snprintf(gen_in[2], sizeof(gen_in[2]), "NOOP %.*s\nNOOP\r\n",
	    506, x);
	snprintf(gen_want[2], sizeof(gen_want[2]), GREET OK_R OK_R);
	gen[2] = (struct session_case){ "512-octet command, bare LF",
	    gen_in[2], gen_want[2], "GREETING" };
	/* A 2600-octet line: still exactly one 500. */
	snprintf(gen_in[3], sizeof(gen_in[3]), "EHLO c\r\nMAIL %.*s\r\n"
	    "NOOP\r\n", 2600, x);
	snprintf(gen_want[3], sizeof(gen_want[3]), GREET EHLO_R LONG_R OK_R);
	gen[3] = (struct session_case){ "2600-octet command", gen_in[3],
	    gen_want[3], "READY" };
	/* Text line of 998 + CRLF = 1000 octets: accepted. */
	snprintf(gen_in[4], sizeof(gen_in[4]), ENV "%.*s\r\n.\r\n", 998, x);
	snprintf(gen_want[4], sizeof(gen_want[4]), ENV_R QUEUED(1000));
	gen[4] = (struct session_case){ "1000-octet text line", gen_in[4],
	    gen_want[4], "READY" };
	/* 999 + CRLF = 1001 octets: refused at the end of DATA. */
	snprintf(gen_in[5], sizeof(gen_in[5]), ENV "a\r\n%.*s\r\nb\r\n.\r\n"
	    "NOOP\r\n", 999, x);
	snprintf(gen_want[5], sizeof(gen_want[5]), ENV_R TLONG_R OK_R);
	gen[5] = (struct session_case){ "1001-octet text line", gen_in[5],
	    gen_want[5], "READY" };
}

/* check_out - assert output equality, printing both on a mismatch */
static void
check_out(const char *name, const char *got, const char *want, size_t cut,
    size_t chunk)
{
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n[%s] cut %zu chunk %zu\n--- got:\n%s"
		    "--- want:\n%s---\n", name, cut, chunk, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
}

/* run_case - one transcript with private buffers, then pooled, each
 * with and without the scanner */
static void
run_case(const struct session_case *c)
{
	run_case_mode(c, 0, NULL, NULL);
	run_case_mode(c, CASE_POOL, NULL, NULL);
	run_case_mode(c, CASE_SCAN, NULL, NULL);
	run_case_mode(c, CASE_POOL | CASE_SCAN, NULL, NULL);
}

/* run_case_mode - one transcript, at once, byte by byte, cut everywhere;
 * CASE_POOL: sessions from a pool, which must hold no buffer afterwards;
 * @setup (may be NULL) adjusts the fixture first */
static void
run_case_mode(const struct session_case *c, unsigned flags,
    case_setup_fn *setup, void *arg)
{
	int pooled = (flags & CASE_POOL) != 0;
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_pool_stats ps;
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t n = strlen(c->input), cut;
	int bad = 0;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.env.scan = (flags & CASE_SCAN) != 0;
	if (setup != NULL)
		setup(&fx, arg);
	if (pooled) {
		fx.pool = smtp_pool_new(1, 2, 1);
		CU_ASSERT_FATAL(fx.pool != NULL);
	}
	for (cut = 0; cut <= n; cut++) {
		s = smtp_fix_session(&fx, SMTP_FIX_MX);
		CU_ASSERT_FATAL(s != NULL);
		/* cut 0: all at once; cut n: one byte at a time. */
		smtp_fix_feed(s, c->input, n, cut, cut == n ? 1 : 0, out,
		    sizeof(out));
		if (strcmp(out, c->want) != 0 ||
		    strcmp(smtp_session_strstate(s), c->want_state) != 0) {
			if (bad++ == 0) {
				check_out(c->name, out, c->want, cut, 0);
				CU_ASSERT_STRING_EQUAL(
				    smtp_session_strstate(s), c->want_state);
			}
		}
		if (pooled) {
			/* all output drained, all input taken */
			smtp_pool_stats(fx.pool, &ps);
			if (ps.bufs != 0 && bad++ == 0)
				fprintf(stderr, "\n[%s] cut %zu: %u buffers "
				    "held\n", c->name, cut, ps.bufs);
		}
		smtp_session_free(s);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	if (pooled) {
		smtp_pool_stats(fx.pool, &ps);
		CU_ASSERT_EQUAL(ps.sessions + ps.bufs + ps.txns + ps.dctxs, 0);
		CU_ASSERT_EQUAL(ps.dctxs_peak, (flags & CASE_SCAN) ||
		    fx.env.auth != NULL ? (strstr(c->want, "354 ") != NULL) :
		    0);
		CU_ASSERT_EQUAL(ps.exhausted, 0);
		smtp_pool_free(fx.pool);
	}
	smtp_fix_free(&fx);
}

/* test_transcripts - every table case, split every way */
static void
test_transcripts(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* test_long_lines - the generated bound cases, split every way */
static void
test_long_lines(void)
{
	size_t i;

	gen_cases();
	for (i = 0; i < sizeof(gen) / sizeof(gen[0]); i++)
		run_case(&gen[i]);
}

/* test_golden - tests/data/smtp_dialogue.txt, split every way */
static void
test_golden(void)
{
	static char in[8192], want[8192], line[1024];
	struct session_case c;
	const char *text;
	size_t nin = 0, nwant = 0, n;
	FILE *fp;

	fp = fopen(MXSIM_TESTDATA "/smtp_dialogue.txt", "r");
	CU_ASSERT_FATAL(fp != NULL);
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		/* "C:" alone (trailing space stripped) is an empty line. */
		text = line[2] == ' ' ? line + 3 : line + 2;
		if (strncmp(line, "C:", 2) == 0)
			nin += (size_t)snprintf(in + nin, sizeof(in) - nin,
			    "%s\r\n", text);
		else if (strncmp(line, "S:", 2) == 0)
			nwant += (size_t)snprintf(want + nwant,
			    sizeof(want) - nwant, "%s\r\n", text);
		CU_ASSERT_FATAL(nin < sizeof(in) && nwant < sizeof(want));
	}
	fclose(fp);
	c.name = "smtp_dialogue.txt";
	c.input = in;
	c.want = want;
	c.want_state = "QUIT";
	run_case(&c);
}

/* feed_all - feed a whole transcript into a fresh session */
static struct smtp_session *
feed_all(struct smtp_fix *fx, const char *in, char *out, size_t cap)
{
	struct smtp_session *s;

	s = smtp_fix_session(fx, SMTP_FIX_MX);
	if (s != NULL)
		smtp_fix_feed(s, in, strlen(in), 0, 0, out, cap);
	return s;
}

/* test_events - one event per logged reply, with the right fields */
static void
test_events(void)
{
	static const struct {
		enum sim_stage	 stage;
		enum sim_rk	 rk;
		uint16_t	 code;
		const char	*enh;
		const char	*domain;
		const char	*rcpt;
		uint32_t	 nrcpts;
	} want[] = {
		{ SIM_STAGE_CONNECT, SIM_RK_GREETING, 220, "", "", "", 0 },
		{ SIM_STAGE_EHLO, SIM_RK_EHLO, 250, "", "", "", 0 },
		{ SIM_STAGE_OTHER, SIM_RK_UNKNOWN_CMD, 500, "5.5.1", "", "",
		  0 },
		{ SIM_STAGE_MAIL, SIM_RK_MAIL_OK, 250, "2.1.0",
		  "sender.example", "", 0 },
		{ SIM_STAGE_RCPT, SIM_RK_RCPT_OK, 250, "2.1.5",
		  "sender.example", "bob@test.example", 0 },
		/* issue 16: a path that is not an address has its own kind */
		{ SIM_STAGE_RCPT, SIM_RK_BAD_RCPT, 501, "5.5.4",
		  "sender.example", "", 0 },
		{ SIM_STAGE_EOD, SIM_RK_DATA_OK, 250, "2.0.0",
		  "sender.example", "", 1 },
	};
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t i;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = feed_all(&fx, "EHLO c\r\nFOO\r\n" MAIL_A RCPT_B
	    "RCPT TO:<bob>\r\nDATA\r\nhi\r\n.\r\nNOOP\r\nRSET\r\nVRFY x\r\n"
	    "HELP\r\nQUIT\r\n", out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(fx.nev, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < fx.nev && i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_EQUAL(fx.ev[i].stage, want[i].stage);
		CU_ASSERT_EQUAL(fx.ev[i].rk, want[i].rk);
		CU_ASSERT_EQUAL(fx.ev[i].code, want[i].code);
		CU_ASSERT_STRING_EQUAL(fx.ev[i].enhanced, want[i].enh);
		CU_ASSERT_STRING_EQUAL(fx.ev[i].domain, want[i].domain);
		CU_ASSERT_STRING_EQUAL(fx.ev[i].rcpt, want[i].rcpt);
		CU_ASSERT_EQUAL(fx.ev[i].nrcpts, want[i].nrcpts);
		CU_ASSERT_EQUAL(fx.ev[i].prof, 0);
		CU_ASSERT_EQUAL(fx.ev[i].session_id, SMTP_FIX_SESSION);
		CU_ASSERT_EQUAL(fx.ev[i].sim_ms, 1700000000000ULL);
	}
	CU_ASSERT(smtp_session_done(s));
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_timeout - 421 4.4.2, closing, done once drained */
static void
test_timeout(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t len = 0;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = feed_all(&fx, "EHLO c\r\n" MAIL_A, out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(!smtp_session_closing(s));
	CU_ASSERT(smtp_session_wants_input(s));
	smtp_session_timeout(s);
	CU_ASSERT(smtp_session_closing(s));
	CU_ASSERT(!smtp_session_done(s));
	CU_ASSERT(!smtp_session_wants_input(s));
	smtp_fix_drain(s, out, &len, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "421 4.4.2 mx.test.example Timeout - "
	    "closing connection" T);
	CU_ASSERT(smtp_session_done(s));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "QUIT");
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].rk, SIM_RK_TIMEOUT);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].code, 421);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].stage, SIM_STAGE_OTHER);
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_shutdown - at once outside DATA, after the message inside it */
static void
test_shutdown(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	static const char *shut = "421 4.3.2 mx.test.example Service "
	    "shutting down, closing connection" T;
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t len;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);

	s = feed_all(&fx, "EHLO c\r\n", out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	smtp_session_shutdown(s);
	len = 0;
	smtp_fix_drain(s, out, &len, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, shut);
	CU_ASSERT(smtp_session_done(s));
	smtp_session_free(s);

	s = feed_all(&fx, ENV "part", out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	smtp_session_shutdown(s);
	CU_ASSERT(!smtp_session_closing(s));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "DATA");
	smtp_fix_feed(s, "ial\r\n.\r\nNOOP\r\n", 14, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, QUEUED(9) "421 4.3.2 mx.test.example "
	    "Service shutting down, closing connection" T);
	CU_ASSERT(smtp_session_done(s));
	smtp_session_free(s);

	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_eof - a message cut by EOF is not accepted */
static void
test_eof(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t i;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = feed_all(&fx, ENV "Subject: x\r\n\r\nbody\r\n", out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_STRING_EQUAL(out, ENV_R);
	smtp_session_eof(s);
	CU_ASSERT(smtp_session_closing(s));
	CU_ASSERT(smtp_session_done(s));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "QUIT");
	for (i = 0; i < fx.nev; i++)
		CU_ASSERT_NOT_EQUAL(fx.ev[i].stage, SIM_STAGE_EOD);
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_flow_control - pipelined input waits while output is full */
static void
test_flow_control(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	const uint8_t *op;
	uint8_t *ip;
	size_t room, olen, len = 0, i, want;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_session_inbuf(s, &ip, &room);
	CU_ASSERT_FATAL(room >= 600 * 6);
	for (i = 0; i < 600; i++)
		memcpy(ip + 6 * i, "NOOP\r\n", 6);
	smtp_session_input(s, 600 * 6);
	smtp_session_outbuf(s, &op, &olen);
	CU_ASSERT(olen <= SMTP_OUTBUF_SIZE);
	CU_ASSERT(olen < strlen(GREET) + 600 * strlen(OK_R));
	CU_ASSERT(!smtp_session_wants_input(s));
	smtp_fix_drain(s, out, &len, sizeof(out));
	want = strlen(GREET) + 600 * strlen(OK_R);
	CU_ASSERT_EQUAL(len, want);
	CU_ASSERT(smtp_session_wants_input(s));
	smtp_session_free(s);
	smtp_fix_free(&fx);
}

/* test_no_mx - an address no profile serves */
static void
test_no_mx(void)
{
	static const char in[] = "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	    "XYZZY\r\nQUIT\r\n";
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t len = 0;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = smtp_fix_session(&fx, SMTP_FIX_NO_MX);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(smtp_session_profile(s), UINT32_MAX);
	/* a 554 instead of the greeting waits for QUIT, other commands get
	 * 503 (RFC 5321 section 3.1) */
	CU_ASSERT(!smtp_session_closing(s));
	smtp_fix_feed(s, in, sizeof(in) - 1, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out,
	    "554 5.3.2 No mail service at this address\r\n"
	    "503 5.5.1 Bad sequence of commands\r\n"
	    "503 5.5.1 Bad sequence of commands\r\n"
	    "503 5.5.1 Bad sequence of commands\r\n"
	    "221 2.0.0 localhost closing connection\r\n");
	(void)len;
	CU_ASSERT(smtp_session_closing(s));
	CU_ASSERT(smtp_session_done(s));
	CU_ASSERT_EQUAL(fx.nev, 4);
	CU_ASSERT_EQUAL(fx.ev[0].prof, UINT32_MAX);
	CU_ASSERT_EQUAL(fx.ev[0].rk, SIM_RK_NO_MX);
	CU_ASSERT_EQUAL(fx.ev[0].stage, SIM_STAGE_CONNECT);
	CU_ASSERT_EQUAL(fx.ev[0].code, 554);
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_refused_554 - a profile's 554 at connect (the blocklist) waits
 * for QUIT answering 503, a 421 closes at once, and too many commands
 * end the wait (the protocol-error bound) */
static void
test_refused_554(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t len = 0;
	int i;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_BLOCKLIST, 554, "5.7.1",
	    "blocked", SIM_STAGE_CONNECT) == 0);
	fx.w->blocklist = calloc(1, sizeof(*fx.w->blocklist));
	CU_ASSERT_FATAL(fx.w->blocklist != NULL);
	fx.w->blocklist[0].addr = SMTP_FIX_CLIENT;
	fx.w->blocklist[0].mask = 0xffffffffu;
	fx.w->nblocklist = 1;
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(!smtp_session_closing(s));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "REFUSED");
	smtp_fix_feed(s, "NOOP\r\nQUIT\r\n", 12, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "554 5.7.1 blocked" T E503 QUIT_R);
	CU_ASSERT(smtp_session_closing(s));
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_session_free(s);

	/* the error bound: max_errors commands, then 421 and close */
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_fix_drain(s, out, &len, sizeof(out));
	for (i = 0; i < (int)fx.w->max_errors && !smtp_session_closing(s); i++)
		smtp_fix_feed(s, "RSET\r\n", 6, 0, 0, out, sizeof(out));
	CU_ASSERT(smtp_session_closing(s));
	CU_ASSERT_EQUAL(i, 10);
	smtp_session_free(s);

	/* a 421 refusal closes at once */
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_BLOCKLIST, 421, "4.7.1",
	    "go away", SIM_STAGE_CONNECT) == 0);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(smtp_session_closing(s));
	smtp_session_free(s);
	smtp_fix_free(&fx);
}

/* test_user_unknown - world unknown_rcpts + enabled user.unknown */
static void
test_user_unknown(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.w->unknown_rcpts = calloc(1, sizeof(char *));
	CU_ASSERT_FATAL(fx.w->unknown_rcpts != NULL);
	fx.w->unknown_rcpts[0] = strdup("*@nowhere.example");
	CU_ASSERT_FATAL(fx.w->unknown_rcpts[0] != NULL);
	fx.w->nunknown_rcpts = 1;
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_USER_UNKNOWN, 550,
	    "5.1.1", "{addr}: Recipient address rejected: User unknown",
	    SIM_STAGE_RCPT) == 0);
	s = feed_all(&fx, "EHLO c\r\n" MAIL_A "RCPT TO:<Ghost@Nowhere.Example>"
	    "\r\n" RCPT_B "DATA\r\nx\r\n.\r\n", out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	check_out("user unknown", out, GREET EHLO_R MAIL_R("sender.example")
	    "550 5.1.1 ghost@nowhere.example: Recipient address rejected: "
	    "User unknown" T RCPT_R("bob@test.example") DATA_R QUEUED(3), 0,
	    0);
	CU_ASSERT_EQUAL(fx.ev[3].rk, SIM_RK_USER_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(fx.ev[3].rcpt, "ghost@nowhere.example");
	CU_ASSERT_EQUAL(fx.ev[5].nrcpts, 1);
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_rcpts_too_many - rcpts_per_msg 2: the third RCPT gets 452 */
static void
test_rcpts_too_many(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.p->limits.rcpts_per_msg = 2;
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_RCPTS_TOO_MANY, 452,
	    "4.5.3", "Too many recipients", SIM_STAGE_RCPT) == 0);
	s = feed_all(&fx, "EHLO c\r\n" MAIL_A "RCPT TO:<a@t.example>\r\n"
	    "RCPT TO:<b@t.example>\r\nRCPT TO:<c@t.example>\r\nDATA\r\n"
	    ".\r\n", out, sizeof(out));
	CU_ASSERT_FATAL(s != NULL);
	check_out("rcpts.too_many", out, GREET EHLO_R
	    MAIL_R("sender.example") RCPT_R("a@t.example")
	    RCPT_R("b@t.example") "452 4.5.3 Too many recipients" T DATA_R
	    QUEUED(0), 0, 0);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].nrcpts, 2);
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_conn_limit - conns_per_ip 1: the second session gets 421 */
static void
test_conn_limit(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *a, *b, *c;
	size_t len;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.p->limits.conns_per_ip = 1;
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_CONN_LIMIT, 421, "4.7.0",
	    "Too many concurrent connections from {ip}", SIM_STAGE_CONNECT)
	    == 0);
	a = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(!smtp_session_closing(a));
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 1);

	b = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT(smtp_session_closing(b));
	len = 0;
	smtp_fix_drain(b, out, &len, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "421 4.7.0 Too many concurrent "
	    "connections from 192.0.2.10" T);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].rk, SIM_RK_CONN_LIMIT);
	smtp_session_free(b);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 1);

	smtp_session_free(a);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);

	c = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(c != NULL);
	len = 0;
	smtp_fix_drain(c, out, &len, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, GREET);
	smtp_session_free(c);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_conn_limit_ehlo - conn.limit at stage ehlo (Gmail): decided at
 * connect, the 220 greeting first, then the refusal answers EHLO (or
 * HELO) and closes; the connection is never counted */
static void
test_conn_limit_ehlo(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *a, *b;
	size_t len;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.p->limits.conns_per_ip = 1;
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_CONN_LIMIT, 421, "4.7.0",
	    "Try again later, closing connection.", SIM_STAGE_EHLO) == 0);
	a = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 1);

	b = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT(!smtp_session_closing(b));
	len = smtp_fix_feed(b, "NOOP\r\nEHLO c\r\nNOOP\r\n", 20, 0, 0, out,
	    sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, GREET OK_R
	    "421 4.7.0 Try again later, closing connection." T);
	CU_ASSERT(len > 0);
	CU_ASSERT(smtp_session_closing(b));
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].rk, SIM_RK_CONN_LIMIT);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].stage, SIM_STAGE_EHLO);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 1);
	smtp_session_free(b);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 1);

	/* HELO is answered the same way */
	b = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(b != NULL);
	smtp_fix_feed(b, "HELO c\r\n", 8, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, GREET
	    "421 4.7.0 Try again later, closing connection." T);
	smtp_session_free(b);
	smtp_session_free(a);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_recipient_bound - the arena/recipient bound answers rcpts.too_many */
static void
test_recipient_bound(void)
{
	static char in[1 << 20], out[SMTP_FIX_OUT_MAX * 16];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t n, i, ok = 0, full = 0;
	char *p;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	n = (size_t)snprintf(in, sizeof(in), "EHLO c\r\n" MAIL_A);
	for (i = 0; i < 1200; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n,
		    "RCPT TO:<user%04zu@test.example>\r\n", i);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_fix_feed(s, in, n, 0, 0, out, sizeof(out));
	for (p = out; (p = strstr(p, "\r\n")) != NULL; p += 2) {
		if (strncmp(p + 2, "250 2.1.5", 9) == 0)
			ok++;
		if (strncmp(p + 2, "452 4.5.3", 9) == 0)
			full++;
	}
	CU_ASSERT(ok > 100);
	CU_ASSERT(ok < 1200);
	CU_ASSERT_EQUAL(ok + full, 1200);
	CU_ASSERT(!smtp_session_closing(s));
	smtp_session_free(s);
	smtp_fix_free(&fx);
}

/* big_rcpts - append @n RCPT lines of 64-character addresses, numbered
 * from @first, to @in (@len used of @cap); @return the new length */
static size_t
big_rcpts(char *in, size_t len, size_t cap, unsigned first, unsigned n)
{
	unsigned i;

	for (i = first; i < first + n; i++)
		len += (size_t)snprintf(in + len, cap - len, "RCPT TO:<"
		    "Recipient.Number.%05u.xxxxxxxxxxxxxxxxxxxxxxx@"
		    "Bulk-Example.test>\r\n", i);
	return len;
}

/* count_lines - replies in @out that start with @prefix */
static size_t
count_lines(const char *out, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);
	const char *p = out;

	for (;;) {
		if (strncmp(p, prefix, plen) == 0)
			n++;
		if ((p = strstr(p, "\r\n")) == NULL)
			return n;
		p += 2;
	}
}

/* test_big_txn - 1,000 recipients of 64 characters in one transaction,
 * unpooled and pooled, with no profile limit: all accepted, the 1,001st
 * meets SMTP_MAX_RCPTS, the message is accepted, the chunks come back */
static void
test_big_txn(void)
{
	static char in[1 << 18], out[1 << 18];
	struct smtp_pool_stats ps;
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t n;
	int pooled;

	for (pooled = 0; pooled < 2; pooled++) {
		CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
		if (pooled)
			CU_ASSERT_FATAL((fx.pool = smtp_pool_new(1, 2, 1)) !=
			    NULL);
		s = smtp_fix_session(&fx, SMTP_FIX_MX);
		CU_ASSERT_FATAL(s != NULL);
		n = (size_t)snprintf(in, sizeof(in), "EHLO c\r\n" MAIL_A);
		n = big_rcpts(in, n, sizeof(in), 0, 1001);
		smtp_fix_feed(s, in, n, 0, 0, out, sizeof(out));
		CU_ASSERT_EQUAL(count_lines(out, "250 2.1.5 "), 1000);
		CU_ASSERT_EQUAL(count_lines(out, "452 4.5.3 "), 1);
		if (pooled) {
			smtp_pool_stats(fx.pool, &ps);
			CU_ASSERT_EQUAL(ps.txns, 1);
			CU_ASSERT(ps.chunks > 0 &&
			    ps.chunks < SMTP_ARENA_TXN_CHUNKS);
			CU_ASSERT_EQUAL(ps.arena_exhausted + ps.arena_full, 0);
		}
		smtp_fix_feed(s, "DATA\r\n.\r\n", 9, 0, 0, out, sizeof(out));
		CU_ASSERT_STRING_EQUAL(out, DATA_R QUEUED(0));
		if (pooled) {
			smtp_pool_stats(fx.pool, &ps);
			CU_ASSERT_EQUAL(ps.txns + ps.chunks + ps.bufs, 0);
		}
		smtp_session_free(s);
		CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
		if (pooled) {
			smtp_pool_stats(fx.pool, &ps);
			CU_ASSERT_EQUAL(ps.sessions + ps.txns + ps.chunks, 0);
			smtp_pool_free(fx.pool);
		}
		smtp_fix_free(&fx);
	}
}

/* test_big_txn_limit - a profile's recipients_per_message (500) answers
 * first, with the profile's own reply */
static void
test_big_txn_limit(void)
{
	static char in[1 << 18], out[1 << 18];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t n;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	CU_ASSERT_FATAL((fx.pool = smtp_pool_new(1, 2, 1)) != NULL);
	fx.p->limits.rcpts_per_msg = 500;
	CU_ASSERT_FATAL(prof_set_reply(fx.p, SIM_RK_RCPTS_TOO_MANY, 452,
	    "4.5.3", "Profile says: too many recipients", SIM_STAGE_RCPT) ==
	    0);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	n = (size_t)snprintf(in, sizeof(in), "EHLO c\r\n" MAIL_A);
	n = big_rcpts(in, n, sizeof(in), 0, 600);
	n += (size_t)snprintf(in + n, sizeof(in) - n, "DATA\r\n.\r\n");
	smtp_fix_feed(s, in, n, 0, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(count_lines(out, "250 2.1.5 "), 500);
	CU_ASSERT_EQUAL(count_lines(out, "452 4.5.3 Profile says: too many "
	    "recipients"), 100);
	CU_ASSERT_EQUAL(count_lines(out, "250 2.0.0 OK 0 bytes queued"), 1);
	smtp_session_free(s);
	smtp_pool_free(fx.pool);
	smtp_fix_free(&fx);
}

/* test_big_txn_exhausted - the pool's growth chunks run out: RCPT gets
 * 452 4.5.3 (counted), the transaction goes on with what it holds,
 * another session still opens a transaction, and once the first ends
 * the second grows again */
static void
test_big_txn_exhausted(void)
{
	static char in[1 << 18], out[1 << 18];
	struct smtp_pool_stats ps;
	struct smtp_fix fx;
	struct smtp_session *a, *b;
	size_t n, na;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	CU_ASSERT_FATAL((fx.pool = smtp_pool_new_chunks(2, 8, 2, 4)) !=
	    NULL);
	a = smtp_fix_session(&fx, SMTP_FIX_MX);
	b = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	n = (size_t)snprintf(in, sizeof(in), "EHLO c\r\n" MAIL_A);
	n = big_rcpts(in, n, sizeof(in), 0, 1000);
	smtp_fix_feed(a, in, n, 0, 0, out, sizeof(out));
	na = count_lines(out, "250 2.1.5 ");
	CU_ASSERT(na > 300 && na < 1000);
	CU_ASSERT_EQUAL(count_lines(out, "452 4.5.3 "), 1000 - na);
	CU_ASSERT(!smtp_session_closing(a));
	/* b opens (its first chunk is reserved) but cannot grow: its list
	 * holds SMTP_ARENA_INLINE_RCPTS */
	n = (size_t)snprintf(in, sizeof(in), "EHLO c\r\n" MAIL_A);
	n = big_rcpts(in, n, sizeof(in), 0, SMTP_ARENA_INLINE_RCPTS + 8);
	smtp_fix_feed(b, in, n, 0, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(count_lines(out, "250 2.1.0 "), 1);
	CU_ASSERT_EQUAL(count_lines(out, "250 2.1.5 "),
	    SMTP_ARENA_INLINE_RCPTS);
	CU_ASSERT_EQUAL(count_lines(out, "452 4.5.3 "), 8);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.arena_exhausted, 1000 - na + 8);
	CU_ASSERT_EQUAL(ps.chunks, 4);
	/* a delivers to the recipients it holds; its chunks come back */
	smtp_fix_feed(a, "DATA\r\n.\r\n", 9, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, DATA_R QUEUED(0));
	/* b recovers: the rest of its recipients, then the message */
	n = big_rcpts(in, 0, sizeof(in), SMTP_ARENA_INLINE_RCPTS, 8);
	n += (size_t)snprintf(in + n, sizeof(in) - n, "DATA\r\n.\r\n");
	smtp_fix_feed(b, in, n, 0, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(count_lines(out, "250 2.1.5 "), 8);
	CU_ASSERT_EQUAL(count_lines(out, "250 2.0.0 OK 0 bytes queued"), 1);
	smtp_session_free(a);
	smtp_session_free(b);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.sessions + ps.bufs + ps.txns + ps.chunks, 0);
	CU_ASSERT_EQUAL(ps.chunks_peak, 4);
	CU_ASSERT_EQUAL(ps.exhausted, 0);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_pool_free(fx.pool);
	smtp_fix_free(&fx);
}

/* test_address_bytes - NUL, control and 8-bit bytes in addresses are
 * syntax errors (found by fuzz_smtp / test_hostile.py); elsewhere they
 * are kept and never echoed raw */
static void
test_address_bytes(void)
{
	static const char in[] =
	    "EH\0LO c\r\n"
	    "EHLO c\001\377\r\n"
	    "MAIL FROM:<a\0b@x.example>\r\n"
	    "MAIL FROM:<\351t\351@x.example>\r\n"
	    "MAIL FROM:<a@x\001.example>\r\n"
	    "MAIL FROM:<a@x.example>\r\n"
	    "RCPT TO:<b\0@test.example>\r\n"
	    "RCPT TO:<b@test\177.example>\r\n"
	    "RCPT TO:<b@test.example>\r\n";
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_fix_feed(s, in, sizeof(in) - 1, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, GREET E500 EHLO_R E501 E501 E501
	    MAIL_R("x.example") E501 E501 RCPT_R("b@test.example"));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "RCPT");
	smtp_session_free(s);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* test_pool_idle - a pooled session holds a buffer only while bytes wait
 * and an arena only during a transaction */
static void
test_pool_idle(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_pool_stats ps;
	struct smtp_fix fx;
	struct smtp_session *s;

	CU_ASSERT(smtp_session_size() <= 1024);
	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.pool = smtp_pool_new(4, 8, 4);
	CU_ASSERT_FATAL(fx.pool != NULL);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.sessions, 1);
	CU_ASSERT_EQUAL(ps.bufs, 1);		/* the greeting, unsent */
	smtp_fix_feed(s, "EHLO c\r\n", 8, 0, 0, out, sizeof(out));
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.bufs, 0);
	CU_ASSERT_EQUAL(ps.txns, 0);
	smtp_fix_feed(s, MAIL_A RCPT_B, strlen(MAIL_A RCPT_B), 0, 0, out,
	    sizeof(out));
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.bufs, 0);
	CU_ASSERT_EQUAL(ps.txns, 1);
	CU_ASSERT_STRING_EQUAL(out, MAIL_R("sender.example")
	    RCPT_R("bob@test.example"));
	/* half a command waits in an input buffer */
	smtp_fix_feed(s, "DATA\r\nhello\r\n.", 14, 0, 0, out, sizeof(out));
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.bufs, 0);		/* DATA text is consumed */
	smtp_fix_feed(s, "\r\nRS", 4, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, QUEUED(7));
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.bufs, 1);		/* "RS" */
	CU_ASSERT_EQUAL(ps.txns, 0);
	smtp_fix_feed(s, "ET\r\n", 4, 0, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, OK_R);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.bufs + ps.txns, 0);
	CU_ASSERT_EQUAL(ps.bufs_peak, 2);
	smtp_session_free(s);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.sessions, 0);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_pool_free(fx.pool);
	smtp_fix_free(&fx);
}

/* test_pool_exhausted - no buffer or arena left: 421 4.3.2, close,
 * counted and reported; no session left: NULL */
static void
test_pool_exhausted(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_pool_stats ps;
	struct smtp_fix fx;
	struct smtp_session *a, *b, *c;
	const uint8_t *p;
	size_t len = 0, n;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.pool = smtp_pool_new(2, 1, 1);
	CU_ASSERT_FATAL(fx.pool != NULL);
	/* a holds the only buffer with its unsent greeting */
	a = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(a != NULL);
	b = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT(smtp_fix_session(&fx, SMTP_FIX_MX) == NULL);
	CU_ASSERT(smtp_session_closing(b));
	smtp_session_outbuf(b, &p, &n);
	CU_ASSERT_EQUAL(n, strlen("421 4.3.2 Server busy, try again "
	    "later\r\n"));
	CU_ASSERT(n > 0 && memcmp(p, "421 4.3.2 ", 10) == 0);
	CU_ASSERT_EQUAL(fx.nev, 2);
	CU_ASSERT_EQUAL(fx.ev[1].rk, SIM_RK_SHUTDOWN);
	CU_ASSERT_EQUAL(fx.ev[1].code, 421);
	smtp_fix_drain(b, out, &len, sizeof(out));
	CU_ASSERT(smtp_session_done(b));
	smtp_session_free(b);
	smtp_session_free(a);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.exhausted, 1);
	CU_ASSERT_EQUAL(ps.sessions + ps.bufs + ps.txns, 0);
	smtp_pool_free(fx.pool);

	/* a takes the only arena; c's MAIL finds none */
	fx.pool = smtp_pool_new(2, 4, 1);
	CU_ASSERT_FATAL(fx.pool != NULL);
	a = smtp_fix_session(&fx, SMTP_FIX_MX);
	c = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(a != NULL && c != NULL);
	smtp_fix_feed(a, "EHLO c\r\n" MAIL_A, strlen("EHLO c\r\n" MAIL_A),
	    0, 0, out, sizeof(out));
	smtp_fix_feed(c, "EHLO c\r\n" MAIL_A, strlen("EHLO c\r\n" MAIL_A),
	    0, 0, out, sizeof(out));
	CU_ASSERT(strncmp(out, GREET EHLO_R "421 4.3.2 ",
	    strlen(GREET EHLO_R "421 4.3.2 ")) == 0);
	CU_ASSERT(smtp_session_done(c));
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.exhausted, 1);
	CU_ASSERT_EQUAL(ps.txns, 1);
	smtp_session_free(c);
	smtp_session_free(a);
	smtp_pool_stats(fx.pool, &ps);
	CU_ASSERT_EQUAL(ps.sessions + ps.bufs + ps.txns, 0);
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_pool_free(fx.pool);
	smtp_fix_free(&fx);
}

/*
 * ref_data - reference DATA recogniser, one byte at a time (the model
 * the bulk recogniser must match): @return the offset just after the
 * final CRLF.CRLF (0 when none), with the unstuffed size and whether a
 * line exceeded SMTP_TEXT_LINE_MAX octets
 */
static size_t
ref_data(const char *in, size_t n, uint64_t *size, int *longline)
{
	uint32_t line = 0;
	size_t i;
	int bol = 1, cr = 0, dot = 0, dotcr = 0;
	char c;

	*size = 0;
	*longline = 0;
	for (i = 0; i < n; i++) {
		c = in[i];
		if (dotcr) {
			dotcr = 0;
			if (c == '\n')
				return i + 1;
			(*size)++;		/* the CR after "." */
			cr = 1;
		} else if (dot) {
			dot = 0;
			if (c == '\r') {
				dotcr = 1;
				line++;
				continue;
			}
		} else if (bol && c == '.') {
			bol = 0;
			dot = 1;
			line++;
			continue;
		}
		bol = 0;
		(*size)++;
		if (++line > SMTP_TEXT_LINE_MAX)
			*longline = 1;
		if (c == '\n') {
			bol = cr;
			line = 0;
		}
		cr = c == '\r';
	}
	return 0;
}

/* test_data_model - random messages, cut at random, pooled and not:
 * sizes and line-length verdicts equal the reference model's */
static void
test_data_model(void)
{
	static const char *const tok[] = {
		".", "\r", "\n", "\r\n", "\r\n.", "..", "a", "text ", "\r\r",
		"\n.", ".\r"
	};
	static char in[40000], body[20000], out[SMTP_FIX_OUT_MAX];
	static char want[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	struct sim_rng rng;
	uint64_t size;
	size_t blen, end, n, k, off, piece;
	int iter, longline, bad = 0, t;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	fx.pool = smtp_pool_new(1, 2, 1);
	CU_ASSERT_FATAL(fx.pool != NULL);
	sim_rng_seed(&rng, 7, 0);
	for (iter = 0; iter < 400; iter++) {
		blen = 0;
		while (blen < sizeof(body) - 1200 &&
		    sim_rng_below(&rng, 60) != 0) {
			if (sim_rng_below(&rng, 8) == 0) {
				/* a line near the 1000-octet limit */
				k = 990 + sim_rng_below(&rng, 20);
				memset(body + blen, 'x', k);
				blen += k;
				continue;
			}
			t = (int)sim_rng_below(&rng, sizeof(tok) /
			    sizeof(tok[0]));
			memcpy(body + blen, tok[t], strlen(tok[t]));
			blen += strlen(tok[t]);
		}
		memcpy(body + blen, "\r\n.\r\n", 5);
		blen += 5;
		end = ref_data(body, blen, &size, &longline);
		CU_ASSERT_FATAL(end > 0);
		n = (size_t)snprintf(in, sizeof(in), "%s", ENV);
		memcpy(in + n, body, end);
		n += end;
		memcpy(in + n, "NOOP\r\n", 6);
		n += 6;
		if (longline)
			snprintf(want, sizeof(want), ENV_R TLONG_R OK_R);
		else
			snprintf(want, sizeof(want), ENV_R
			    "250 2.0.0 OK %llu bytes queued" T OK_R,
			    (unsigned long long)size);
		s = iter % 2 ? smtp_fix_session(&fx, SMTP_FIX_MX) :
		    NULL;
		if (s == NULL) {
			struct smtp_pool *keep = fx.pool;

			fx.pool = NULL;
			s = smtp_fix_session(&fx, SMTP_FIX_MX);
			fx.pool = keep;
		}
		CU_ASSERT_FATAL(s != NULL);
		/* random pieces of 1..64 bytes */
		for (off = 0, k = 0; off < n; off += piece) {
			piece = 1 + sim_rng_below(&rng, 64);
			if (piece > n - off)
				piece = n - off;
			k += smtp_fix_feed(s, in + off, piece, 0, 0,
			    out + k, sizeof(out) - k);
		}
		if (strcmp(out, want) != 0 && bad++ == 0)
			check_out("data model", out, want, 0, 0);
		smtp_session_free(s);
	}
	CU_ASSERT_EQUAL(bad, 0);
	smtp_pool_free(fx.pool);
	fx.pool = NULL;
	CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
	smtp_fix_free(&fx);
}

/* scan_setup - msgid.missing at end of DATA, naming the From domain */
static void
scan_setup(struct smtp_fix *fx, void *arg)
{
	(void)arg;
	CU_ASSERT_FATAL(prof_set_reply(fx->p, SIM_RK_MSGID_MISSING, 550,
	    "5.7.1", "No Message-ID from {from_domain} ({domain})",
	    SIM_STAGE_EOD) == 0);
}

/* test_scan_msgid - the scanned message reaches the policy: a message
 * without Message-ID is refused, one with it accepted; the scanner is fed
 * in every split of the input */
static void
test_scan_msgid(void)
{
	static const struct session_case c = {
	    "scanned message",
	    ENV "From: Al <al@Mail.Sender.Example>\r\nSubject: x\r\n\r\n"
	    "body\r\n.\r\n"
	    MAIL_A RCPT_B "DATA\r\n"
	    "From: <al@sender.example>\r\nMessage-ID: <1@x>\r\n\r\n"
	    "..b\r\n.\r\n",
	    ENV_R "550 5.7.1 No Message-ID from mail.sender.example "
	    "(sender.example)" T MAIL_R("sender.example")
	    RCPT_R("bob@test.example") DATA_R QUEUED(52), "READY" };
	static const struct session_case off = {
	    "scanner off",
	    ENV "Subject: x\r\n\r\nbody\r\n.\r\n",
	    ENV_R QUEUED(20), "READY" };

	run_case_mode(&c, CASE_SCAN, scan_setup, NULL);
	run_case_mode(&c, CASE_SCAN | CASE_POOL, scan_setup, NULL);
	/* without the scanner the policy has no message: no refusal */
	run_case_mode(&off, 0, scan_setup, NULL);
	run_case_mode(&off, CASE_POOL, scan_setup, NULL);
}

/* rcptdom_setup - one recipient domain per transaction, at RCPT */
static void
rcptdom_setup(struct smtp_fix *fx, void *arg)
{
	(void)arg;
	fx->p->limits.rcpt_domains = 1;
	CU_ASSERT_FATAL(prof_set_reply(fx->p, SIM_RK_RCPT_DOMAINS, 451,
	    "4.3.0", "Multiple destination domains per transaction is "
	    "unsupported", SIM_STAGE_RCPT) == 0);
}

/* test_rcpt_domains - RCPT sees the recipients accepted so far */
static void
test_rcpt_domains(void)
{
	static const struct session_case c = {
	    "recipient domains",
	    "EHLO c\r\n" MAIL_A "RCPT TO:<a@one.example>\r\n"
	    "RCPT TO:<b@One.example>\r\nRCPT TO:<c@two.example>\r\n"
	    "RSET\r\n" MAIL_A "RCPT TO:<c@two.example>\r\n",
	    GREET EHLO_R MAIL_R("sender.example") RCPT_R("a@one.example")
	    RCPT_R("b@one.example") "451 4.3.0 Multiple destination domains "
	    "per transaction is unsupported" T OK_R MAIL_R("sender.example")
	    RCPT_R("c@two.example"), "RCPT" };

	run_case_mode(&c, 0, rcptdom_setup, NULL);
	run_case_mode(&c, CASE_POOL | CASE_SCAN, rcptdom_setup, NULL);
}

#ifdef MXSIM_HAVE_AUTH
/* What the authentication cases share. */
struct auth_fx {
	struct auth_zone *z;
	struct smtp_auth_world *aw;
	struct smtp_auth *a;
};

/* auth_setup - computed authentication and the replies that use it */
static void
auth_setup(struct smtp_fix *fx, void *arg)
{
	struct auth_fx *af = arg;

	fx->env.auth = af->a;
	CU_ASSERT_FATAL(prof_set_reply(fx->p, SIM_RK_AUTH_SPF_FAIL, 550,
	    "5.7.26", "SPF -all {domain} dkim [{dkim_domain}]",
	    SIM_STAGE_EOD) == 0);
	CU_ASSERT_FATAL(prof_set_reply(fx->p, SIM_RK_AUTH_DMARC_REJECT, 550,
	    "5.7.26", "DMARC {from_domain}", SIM_STAGE_EOD) == 0);
	CU_ASSERT_FATAL(prof_set_reply(fx->p, SIM_RK_DATA_OK, 250, "2.0.0",
	    "OK {size} dkim [{dkim_domain}]", SIM_STAGE_EOD) == 0);
}

/* run_case_auth - @c at once and byte by byte, private and pooled (the
 * pool must get its DATA context back) */
static void
run_case_auth(const struct session_case *c, struct auth_fx *af)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_pool_stats ps;
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t n = strlen(c->input);
	int mode;

	for (mode = 0; mode < 4; mode++) {
		CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
		fx.env.scan = true;
		auth_setup(&fx, af);
		if (mode & 1) {
			fx.pool = smtp_pool_new(1, 2, 1);
			CU_ASSERT_FATAL(fx.pool != NULL);
		}
		s = smtp_fix_session(&fx, SMTP_FIX_MX);
		CU_ASSERT_FATAL(s != NULL);
		smtp_fix_feed(s, c->input, n, 0, mode & 2 ? 1 : 0, out,
		    sizeof(out));
		check_out(c->name, out, c->want, 0, mode & 2 ? 1 : 0);
		CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s),
		    c->want_state);
		smtp_session_free(s);
		if (fx.pool != NULL) {
			smtp_pool_stats(fx.pool, &ps);
			CU_ASSERT_EQUAL(ps.dctxs, 0);
			CU_ASSERT_EQUAL(ps.dctxs_peak, 1);
			smtp_pool_free(fx.pool);
		}
		CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
		smtp_fix_free(&fx);
	}
}

/* auth_msg - one transaction carrying @msg, wanting @eod; appended */
static void
auth_msg(char *in, size_t incap, char *want, size_t wantcap,
    const char *mail_dom, const char *msg, const char *eod)
{
	size_t i = strlen(in), w = strlen(want);

	snprintf(in + i, incap - i, "MAIL FROM:<x@%s>\r\n" RCPT_B "DATA\r\n"
	    "%s.\r\n", mail_dom, msg);
	snprintf(want + w, wantcap - w, "250 2.1.0 Sender OK (%s)" T
	    RCPT_R("bob@test.example") DATA_R "%s" T, mail_dom, eod);
}

/* test_auth_computed - SPF, DKIM and DMARC from a real zone decide the
 * end-of-DATA reply: SPF -all fails without a signature, a valid
 * signature passes, a tampered body fails, an unaligned From meets
 * p=reject */
static void
test_auth_computed(void)
{
	static char key[4096], pub[1024], sig[4096], in[32768], want[16384],
	    signed_msg[8192], tampered[8192], eod[128];
	static const char plain[] =
	    "From: <al@sender.example>\r\nTo: <bob@test.example>\r\n"
	    "Subject: hi\r\nMessage-ID: <1@sender.example>\r\n\r\n"
	    "Hello.\r\n";
	static const char unaligned[] =
	    "From: <al@dmarc.example>\r\nSubject: hi\r\n\r\nHello.\r\n";
	struct session_case c;
	struct auth_dkim *adk;
	struct auth_fx af;
	char *t;
	char err[128];

	memset(&af, 0, sizeof(af));
	CU_ASSERT_FATAL((af.z = auth_zone_create(300)) != NULL);
	CU_ASSERT_FATAL(auth_dkim_keygen(1024, key, sizeof(key), pub,
	    sizeof(pub)) == 0);
	/* the client, 192.0.2.10, is outside both SPF records */
	CU_ASSERT_FATAL(auth_zone_add_spf(af.z, "sender.example",
	    "v=spf1 ip4:198.51.100.0/24 -all") == 0);
	CU_ASSERT_FATAL(auth_zone_add_dkim(af.z, "sender.example", "s1",
	    pub) == 0);
	CU_ASSERT_FATAL(auth_zone_add_spf(af.z, "pass.example",
	    "v=spf1 ip4:192.0.2.0/24 -all") == 0);
	CU_ASSERT_FATAL(auth_zone_add_dmarc(af.z, "dmarc.example",
	    "v=DMARC1; p=reject") == 0);
	CU_ASSERT_FATAL(smtp_auth_world_new(&af.aw, af.z, NULL, err,
	    sizeof(err)) == 0);
	CU_ASSERT_FATAL((af.a = smtp_auth_new(af.aw)) != NULL);

	CU_ASSERT_FATAL((adk = auth_dkim_create(NULL)) != NULL);
	CU_ASSERT_FATAL(auth_dkim_sign(adk, key, "sender.example", "s1",
	    plain, strlen(plain), sig, sizeof(sig)) == 0);
	auth_dkim_free(adk);
	snprintf(signed_msg, sizeof(signed_msg), "%s%s", sig, plain);
	snprintf(tampered, sizeof(tampered), "%s", signed_msg);
	CU_ASSERT_FATAL((t = strstr(tampered, "Hello.")) != NULL);
	t[0] = 'J';

	snprintf(in, sizeof(in), "EHLO client.example\r\n");
	snprintf(want, sizeof(want), GREET EHLO_R);
	auth_msg(in, sizeof(in), want, sizeof(want), "sender.example", plain,
	    "550 5.7.26 SPF -all sender.example dkim []");
	snprintf(eod, sizeof(eod), "250 2.0.0 OK %zu dkim [sender.example]",
	    strlen(signed_msg));
	auth_msg(in, sizeof(in), want, sizeof(want), "sender.example",
	    signed_msg, eod);
	auth_msg(in, sizeof(in), want, sizeof(want), "sender.example",
	    tampered, "550 5.7.26 SPF -all sender.example dkim "
	    "[sender.example]");
	snprintf(eod, sizeof(eod), "250 2.0.0 OK %zu dkim []", strlen(plain));
	auth_msg(in, sizeof(in), want, sizeof(want), "pass.example", plain,
	    eod);
	auth_msg(in, sizeof(in), want, sizeof(want), "pass.example",
	    unaligned, "550 5.7.26 DMARC dmarc.example");
	c.name = "computed authentication";
	c.input = in;
	c.want = want;
	c.want_state = "READY";
	/* at once and byte by byte is enough here: DKIM costs per message */
	run_case_auth(&c, &af);

	smtp_auth_free(af.a);
	smtp_auth_world_free(af.aw);
	auth_zone_free(af.z);
}
#endif /* MXSIM_HAVE_AUTH */

/* STARTTLS replies of the test profile */
#define EHLO_TLS_R	"250-mx.test.example Hello [192.0.2.10]\r\n" \
			"250-PIPELINING\r\n250-8BITMIME\r\n" \
			"250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n" \
			"250 SIZE 10485760\r\n"
#define TLS_GO		"220 2.0.0 Ready to start TLS" T

/* tls_setup - the profile lists STARTTLS; @arg non-NULL: the backend
 * can do TLS (env.tls_ok) */
static void
tls_setup(struct smtp_fix *fx, void *arg)
{
	CU_ASSERT_FATAL((fx->p->ext[fx->p->next] = strdup("STARTTLS")) !=
	    NULL);
	fx->p->next++;
	fx->env.tls_ok = arg != NULL;
}

/* tls_backend_setup - the backend can do TLS, the profile has no STARTTLS */
static void
tls_backend_setup(struct smtp_fix *fx, void *arg)
{
	(void)arg;
	fx->env.tls_ok = true;
}

/* test_starttls_offer - advertised only with the profile's extension
 * and a TLS-capable backend; 501/502/503 cases; a 220 stops input and
 * drops what was pipelined after it, however the input is cut */
static void
test_starttls_offer(void)
{
	static const struct session_case no_backend = {
	    "STARTTLS: profile lists it, backend cannot",
	    "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<a@b.example>\r\n",
	    GREET EHLO_R E502 MAIL_R("b.example"), "MAIL" };
	static const struct session_case no_profile = {
	    "STARTTLS: backend can, profile does not list it",
	    "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<a@b.example>\r\n",
	    GREET EHLO_R E502 MAIL_R("b.example"), "MAIL" };
	static const struct session_case offered = {
	    "STARTTLS offered: errors, then 220 and pipelined input dropped",
	    "STARTTLS\r\nEHLO c\r\nSTARTTLS now\r\n" MAIL_A "STARTTLS\r\n"
	    "RSET\r\nSTARTTLS\r\n" MAIL_A RCPT_B "QUIT\r\n",
	    GREET E503 EHLO_TLS_R E501 MAIL_R("sender.example") E503 OK_R
	    TLS_GO, "TLS" };
	static int yes = 1;

	run_case_mode(&no_backend, 0, tls_setup, NULL);
	run_case_mode(&no_profile, 0, tls_backend_setup, NULL);
	run_case_mode(&offered, 0, tls_setup, &yes);
	run_case_mode(&offered, CASE_POOL, tls_setup, &yes);
}

/* test_starttls_pipelined - a profile with protocol.starttls_pipelined
 * answers a STARTTLS followed by pipelined input with it (no 220, input
 * dropped, still in clear); STARTTLS alone still gets 220 */
static void
test_starttls_pipelined(void)
{
	static const char piped[] = "EHLO c\r\nSTARTTLS\r\n" MAIL_A;
	static const char alone[] = "EHLO c\r\nSTARTTLS\r\n";
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	static int yes = 1;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	tls_setup(&fx, &yes);
	fx.p->replies[SIM_RK_STARTTLS_PIPELINED].enabled = true;
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_fix_feed(s, piped, strlen(piped), 0, 0, out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "554 5.5.1 Commands pipelined "
	    "after STARTTLS"));
	CU_ASSERT_PTR_NULL(strstr(out, "220 2.0.0"));
	CU_ASSERT_PTR_NULL(strstr(out, "250 2.1.0"));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "READY");
	smtp_session_free(s);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	smtp_fix_feed(s, alone, strlen(alone), 0, 0, out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, TLS_GO));
	CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "TLS");
	smtp_session_free(s);
	smtp_fix_free(&fx);
}

/* test_starttls_started - after the handshake: no EHLO, no STARTTLS
 * offered, a second STARTTLS is 503, mail goes through; a timeout while
 * the handshake is awaited closes without a clear-text reply */
static void
test_starttls_started(void)
{
	static char out[SMTP_FIX_OUT_MAX];
	struct smtp_fix fx;
	struct smtp_session *s;
	size_t len = 0;
	int pooled;

	for (pooled = 0; pooled < 2; pooled++) {
		CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
		tls_setup(&fx, &fx);
		if (pooled)
			CU_ASSERT_FATAL((fx.pool = smtp_pool_new(1, 2, 1)) !=
			    NULL);
		s = feed_all(&fx, "EHLO c\r\nSTARTTLS\r\nQUIT\r\n", out,
		    sizeof(out));
		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT_STRING_EQUAL(out, GREET EHLO_TLS_R TLS_GO);
		CU_ASSERT(smtp_session_tls_wanted(s));
		CU_ASSERT(!smtp_session_wants_input(s));
		CU_ASSERT(!smtp_session_tls(s));
		smtp_session_tls_started(s);
		CU_ASSERT(smtp_session_tls(s));
		CU_ASSERT(!smtp_session_tls_wanted(s));
		CU_ASSERT(smtp_session_wants_input(s));
		CU_ASSERT_STRING_EQUAL(smtp_session_strstate(s), "GREETING");
		smtp_fix_feed(s, MAIL_A "EHLO c\r\nSTARTTLS\r\n" MAIL_A
		    RCPT_B "DATA\r\nhi\r\n.\r\nQUIT\r\n",
		    strlen(MAIL_A "EHLO c\r\nSTARTTLS\r\n" MAIL_A RCPT_B
		    "DATA\r\nhi\r\n.\r\nQUIT\r\n"), 0, 0, out, sizeof(out));
		CU_ASSERT_STRING_EQUAL(out, E503 EHLO_R E503
		    MAIL_R("sender.example") RCPT_R("bob@test.example")
		    DATA_R QUEUED(4) QUIT_R);
		CU_ASSERT(smtp_session_done(s));
		smtp_session_free(s);

		/* the handshake never completes: the idle timeout */
		s = feed_all(&fx, "EHLO c\r\nSTARTTLS\r\n", out, sizeof(out));
		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT(smtp_session_tls_wanted(s));
		smtp_session_timeout(s);
		CU_ASSERT(!smtp_session_tls_wanted(s));
		len = 0;
		out[0] = '\0';
		smtp_fix_drain(s, out, &len, sizeof(out));
		CU_ASSERT_EQUAL(len, 0);
		CU_ASSERT(smtp_session_done(s));
		smtp_session_free(s);
		CU_ASSERT_EQUAL(smtp_fix_conns(&fx), 0);
		if (pooled) {
			struct smtp_pool_stats ps;

			smtp_pool_stats(fx.pool, &ps);
			CU_ASSERT_EQUAL(ps.sessions + ps.bufs + ps.txns, 0);
			smtp_pool_free(fx.pool);
		}
		smtp_fix_free(&fx);
	}
}

/* test_smtp_session_register - the suite */
int
test_smtp_session_register(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("smtp_session", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "transcripts", test_transcripts) == NULL ||
	    CU_add_test(s, "long lines", test_long_lines) == NULL ||
	    CU_add_test(s, "golden transcript", test_golden) == NULL ||
	    CU_add_test(s, "events", test_events) == NULL ||
	    CU_add_test(s, "timeout", test_timeout) == NULL ||
	    CU_add_test(s, "shutdown", test_shutdown) == NULL ||
	    CU_add_test(s, "eof", test_eof) == NULL ||
	    CU_add_test(s, "flow control", test_flow_control) == NULL ||
	    CU_add_test(s, "no mx", test_no_mx) == NULL ||
	    CU_add_test(s, "554 waits for QUIT", test_refused_554) == NULL ||
	    CU_add_test(s, "user.unknown", test_user_unknown) == NULL ||
	    CU_add_test(s, "rcpts.too_many", test_rcpts_too_many) == NULL ||
	    CU_add_test(s, "conn.limit", test_conn_limit) == NULL ||
	    CU_add_test(s, "conn.limit at ehlo", test_conn_limit_ehlo) == NULL ||
	    CU_add_test(s, "recipient bound", test_recipient_bound) == NULL ||
	    CU_add_test(s, "1,000 recipients", test_big_txn) == NULL ||
	    CU_add_test(s, "1,000 recipients: profile limit first",
	    test_big_txn_limit) == NULL ||
	    CU_add_test(s, "1,000 recipients: pool exhausted",
	    test_big_txn_exhausted) == NULL ||
	    CU_add_test(s, "address bytes", test_address_bytes) == NULL ||
	    CU_add_test(s, "pool idle", test_pool_idle) == NULL ||
	    CU_add_test(s, "pool exhausted", test_pool_exhausted) == NULL ||
	    CU_add_test(s, "DATA model", test_data_model) == NULL ||
	    CU_add_test(s, "scan: msgid", test_scan_msgid) == NULL ||
	    CU_add_test(s, "RCPT: recipient domains", test_rcpt_domains) ==
	    NULL ||
	    CU_add_test(s, "STARTTLS: offer", test_starttls_offer) == NULL ||
	    CU_add_test(s, "STARTTLS: pipelined input refused",
	    test_starttls_pipelined) == NULL ||
	    CU_add_test(s, "STARTTLS: started", test_starttls_started) ==
	    NULL)
		return -1;
#ifdef MXSIM_HAVE_AUTH
	if (CU_add_test(s, "computed authentication", test_auth_computed) ==
	    NULL)
		return -1;
#endif
	return 0;
}
