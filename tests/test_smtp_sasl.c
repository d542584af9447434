/*
 * DESCRIPTION
 *	SMTP AUTH: the SASL state machine alone (smtp_sasl.c: PLAIN and
 *	LOGIN, initial responses, base64 errors, cancel "*", unknown and
 *	unoffered mechanisms), then through a session of a submission
 *	profile (AUTH only after STARTTLS, 530 before it, 503 for a second
 *	AUTH, MAIL before AUTH, bad credentials, the lockout, the per-user
 *	day quota with its reply at MAIL).
 *
 * DIAGNOSTICS
 *	CUnit assertions; a transcript that differs is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim_acct.h"
#include "smtp_helper.h"
#include "smtp_sasl.h"
#include "test_suites.h"

#define BOTH	(PROF_MECH_PLAIN | PROF_MECH_LOGIN)

/* One exchange: the AUTH argument, then response lines, and the result
 * of each step; the credentials the last step must give. */
struct sasl_case {
	const char	*name;
	unsigned	 mechs;
	const char	*arg;
	const char	*lines[3];	/* NULL-terminated */
	enum smtp_sasl_res res[4];	/* start, then one per line */
	const char	*user;		/* PLAIN (or LOGIN's prompt step) */
	const char	*pass;		/* the CREDS step, or NULL */
};

/* "\0alice\0secret" = AGFsaWNlAHNlY3JldA==; "alice" = YWxpY2U=;
 * "secret" = c2VjcmV0; "x\0alice\0secret" = eABhbGljZQBzZWNyZXQ= */
static const struct sasl_case sasl_cases[] = {
	{ "PLAIN initial response", BOTH, "PLAIN AGFsaWNlAHNlY3JldA==",
	  { NULL }, { SMTP_SASL_CREDS }, "alice", "secret" },
	{ "PLAIN with an authzid", BOTH, "plain eABhbGljZQBzZWNyZXQ=",
	  { NULL }, { SMTP_SASL_CREDS }, "alice", "secret" },
	{ "PLAIN challenge then response", BOTH, "PLAIN",
	  { "AGFsaWNlAHNlY3JldA==", NULL },
	  { SMTP_SASL_CHALLENGE, SMTP_SASL_CREDS }, "alice", "secret" },
	{ "PLAIN empty initial response", BOTH, "PLAIN =",
	  { NULL }, { SMTP_SASL_BASE64 }, NULL, NULL },
	{ "PLAIN not base64", BOTH, "PLAIN AGFsaWNl*HNlY3JldA==",
	  { NULL }, { SMTP_SASL_BASE64 }, NULL, NULL },
	{ "PLAIN bad length", BOTH, "PLAIN AGFsaWNlAHNlY3JldA=",
	  { NULL }, { SMTP_SASL_BASE64 }, NULL, NULL },
	{ "PLAIN padding inside", BOTH, "PLAIN YW==YWxp",
	  { NULL }, { SMTP_SASL_BASE64 }, NULL, NULL },
	{ "PLAIN one NUL only", BOTH, "PLAIN YWxpY2UAc2VjcmV0",
	  { NULL }, { SMTP_SASL_BASE64 }, NULL, NULL },
	{ "PLAIN cancelled", BOTH, "PLAIN", { "*", NULL },
	  { SMTP_SASL_CHALLENGE, SMTP_SASL_CANCEL }, NULL, NULL },
	{ "LOGIN prompts", BOTH, "LOGIN", { "YWxpY2U=", "c2VjcmV0", NULL },
	  { SMTP_SASL_CHALLENGE, SMTP_SASL_CHALLENGE, SMTP_SASL_CREDS },
	  "alice", "secret" },
	{ "LOGIN initial response", BOTH, "LOGIN YWxpY2U=",
	  { "c2VjcmV0", NULL }, { SMTP_SASL_CHALLENGE, SMTP_SASL_CREDS },
	  "alice", "secret" },
	{ "LOGIN bad user name", BOTH, "LOGIN", { "YWxp!2U=", NULL },
	  { SMTP_SASL_CHALLENGE, SMTP_SASL_BASE64 }, NULL, NULL },
	{ "LOGIN bad password", BOTH, "LOGIN", { "YWxpY2U=", "c2Vj", NULL },
	  { SMTP_SASL_CHALLENGE, SMTP_SASL_CHALLENGE, SMTP_SASL_CREDS },
	  "alice", "sec" },
	{ "LOGIN cancelled at the password", BOTH, "LOGIN",
	  { "YWxpY2U=", "*", NULL },
	  { SMTP_SASL_CHALLENGE, SMTP_SASL_CHALLENGE, SMTP_SASL_CANCEL },
	  "alice", NULL },
	{ "mechanism unknown", BOTH, "CRAM-MD5", { NULL },
	  { SMTP_SASL_MECH }, NULL, NULL },
	{ "mechanism not offered", PROF_MECH_LOGIN, "PLAIN AGFsaWNlAHNlY3JldA==",
	  { NULL }, { SMTP_SASL_MECH }, NULL, NULL },
	{ "no mechanism", BOTH, "", { NULL }, { SMTP_SASL_SYNTAX }, NULL,
	  NULL },
};

/* test_sasl_machine - every case, step by step */
static void
test_sasl_machine(void)
{
	const struct sasl_case *c;
	struct smtp_sasl_out o;
	char buf[SMTP_SASL_BUF], user[64];
	enum smtp_sasl_res r;
	uint8_t st;
	size_t i, k;

	for (i = 0; i < sizeof(sasl_cases) / sizeof(sasl_cases[0]); i++) {
		c = &sasl_cases[i];
		st = SMTP_SASL_IDLE;
		user[0] = '\0';
		r = smtp_sasl_start(&st, c->mechs, c->arg, strlen(c->arg), buf,
		    &o);
		for (k = 0;; k++) {
			if (r != c->res[k])
				fprintf(stderr, "\n  %s: step %zu gave %d\n",
				    c->name, k, (int)r);
			CU_ASSERT_EQUAL(r, c->res[k]);
			if (o.user != NULL)
				snprintf(user, sizeof(user), "%.*s",
				    (int)o.ulen, o.user);
			if (c->lines[k] == NULL || r != SMTP_SASL_CHALLENGE)
				break;
			r = smtp_sasl_step(&st, c->lines[k],
			    strlen(c->lines[k]), buf, &o);
		}
		CU_ASSERT_EQUAL(st, r == SMTP_SASL_CHALLENGE ? st :
		    SMTP_SASL_IDLE);
		if (c->user != NULL)
			CU_ASSERT_STRING_EQUAL(user, c->user);
		if (c->pass != NULL) {
			CU_ASSERT_EQUAL_FATAL(r, SMTP_SASL_CREDS);
			CU_ASSERT_EQUAL(o.plen, strlen(c->pass));
			CU_ASSERT(memcmp(o.pass, c->pass, o.plen) == 0);
		}
	}
}

/* test_b64 - the strict decoder */
static void
test_b64(void)
{
	char out[8];

	CU_ASSERT_EQUAL(smtp_sasl_b64decode("", 0, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("YQ==", 4, out, sizeof(out)), 1);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("YWI=", 4, out, sizeof(out)), 2);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("YWJj", 4, out, sizeof(out)), 3);
	CU_ASSERT(memcmp(out, "abc", 3) == 0);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("YQ=a", 4, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("Y===", 4, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("YWJj YWJj", 9, out,
	    sizeof(out)), -1);
	CU_ASSERT_EQUAL(smtp_sasl_b64decode("YWJjYWJjYWJj", 12, out,
	    sizeof(out)), -1);		/* 9 bytes into 8 */
}

/* Replies of the session fixture with a submission profile. */
#define T		" - sim\r\n"
#define GREET		"220 mx.test.example ESMTP ready" T
#define EHLO_CLEAR	"250-mx.test.example Hello [192.0.2.10]\r\n" \
			"250-PIPELINING\r\n250-8BITMIME\r\n" \
			"250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n" \
			"250 SIZE 10485760\r\n"
#define EHLO_AUTH	"250-mx.test.example Hello [192.0.2.10]\r\n" \
			"250-PIPELINING\r\n250-8BITMIME\r\n" \
			"250-ENHANCEDSTATUSCODES\r\n250-SIZE 10485760\r\n" \
			"250 AUTH PLAIN LOGIN\r\n"
#define TLS_GO		"220 2.0.0 Ready to start TLS" T
#define E530_TLS	"530 5.7.0 Must issue a STARTTLS command first" T
#define E530_AUTH	"530 5.7.0 Authentication required" T
#define E535		"535 5.7.8 Authentication credentials invalid" T
#define E454		"454 4.7.0 Too many failed login attempts, try " \
			"again later" T
#define E503		"503 5.5.1 Bad sequence of commands" T
#define E501_CANCEL	"501 5.7.0 Authentication cancelled" T
#define E501_B64	"501 5.5.2 Cannot decode response" T
#define E504		"504 5.5.4 Unrecognized authentication type" T
#define OK235		"235 2.7.0 Authentication successful" T
#define MAIL_OK		"250 2.1.0 Sender OK (gmail.test)" T
#define RCPT_OK		"250 2.1.5 Recipient <bob@x.test> OK" T
#define DATA_GO		"354 Start mail input; end with <CRLF>.<CRLF>" T
#define QUEUED		"250 2.0.0 OK 4 bytes queued" T
#define E550_DAY	"550 5.4.5 Daily sending quota of 2 messages " \
			"exceeded" T
#define GOOD_PLAIN	"AUTH PLAIN AGFsaWNlQGdtYWlsLnRlc3QAcGFzcw==\r\n"
#define BAD_PLAIN	"AUTH PLAIN AGFsaWNlQGdtYWlsLnRlc3QAbm9wZQ==\r\n"
#define MSG		"MAIL FROM:<alice@gmail.test>\r\n" \
			"RCPT TO:<bob@x.test>\r\nDATA\r\nhi\r\n.\r\n"
#define MSG_R		MAIL_OK RCPT_OK DATA_GO QUEUED

/* sub_fix - the fixture made a submission profile with one account
 * (alice@gmail.test / pass), lockout after 3 failures for 10 minutes,
 * a day quota of 2 messages, a backend that can run TLS */
static void
sub_fix(struct smtp_fix *fx, struct sim_acct **acct)
{
	struct prof_world *w;

	CU_ASSERT_FATAL(smtp_fix_init(fx) == 0);
	w = fx->w;
	CU_ASSERT_FATAL((fx->p->ext[fx->p->next] = strdup("STARTTLS")) !=
	    NULL);
	fx->p->next++;
	fx->p->submit.mechs = PROF_MECH_PLAIN | PROF_MECH_LOGIN;
	fx->p->submit.lockout_after = 3;
	fx->p->submit.lockout_minutes = 10;
	fx->p->limits.per_user.messages.max[SIM_WIN_DAY] = 2;
	CU_ASSERT_FATAL((w->accounts = calloc(1, sizeof(*w->accounts))) !=
	    NULL);
	w->accounts[0].user = strdup("alice@gmail.test");
	w->accounts[0].password = strdup("pass");
	w->naccounts = 1;
	CU_ASSERT_FATAL((*acct = sim_acct_new(1)) != NULL);
	fx->env.acct = *acct;
	fx->env.tls_ok = true;
}

/* sub_run - feed @in to @s and compare the transcript */
static void
sub_run(struct smtp_session *s, const char *in, const char *want)
{
	static char out[SMTP_FIX_OUT_MAX];

	smtp_fix_feed(s, in, strlen(in), 0, 0, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "\n  got:\n%s\n  want:\n%s\n", out, want);
	CU_ASSERT_STRING_EQUAL(out, want);
}

/* sub_tls - a new session, EHLO, STARTTLS, handshake done */
static struct smtp_session *
sub_tls(struct smtp_fix *fx, const char *before, const char *before_r)
{
	struct smtp_session *s;
	char in[512], want[2048];

	s = smtp_fix_session(fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	snprintf(in, sizeof(in), "EHLO c\r\n%sSTARTTLS\r\n", before);
	snprintf(want, sizeof(want), GREET EHLO_CLEAR "%s" TLS_GO, before_r);
	sub_run(s, in, want);
	smtp_session_tls_started(s);
	return s;
}

/* test_session_auth - AUTH only under TLS, 530/503/535/235, MAIL before
 * AUTH, LOGIN, cancel and base64 errors through the session */
static void
test_session_auth(void)
{
	struct smtp_fix fx;
	struct sim_acct *acct;
	struct smtp_session *s;
	size_t i;

	sub_fix(&fx, &acct);
	s = sub_tls(&fx, GOOD_PLAIN "MAIL FROM:<alice@gmail.test>\r\n",
	    E530_TLS E530_AUTH);
	sub_run(s, "AUTH PLAIN\r\n", E503);	/* before EHLO */
	sub_run(s, "EHLO c\r\nMAIL FROM:<alice@gmail.test>\r\n"
	    BAD_PLAIN "AUTH CRAM-MD5\r\nAUTH PLAIN\r\n*\r\n"
	    "AUTH PLAIN x\r\nAUTH LOGIN\r\n" "YWxpY2VAZ21haWwudGVzdA==\r\n"
	    "cGFzcw==\r\n" "AUTH PLAIN\r\n" MSG "QUIT\r\n",
	    EHLO_AUTH E530_AUTH E535 E504 "334 \r\n" E501_CANCEL E501_B64
	    "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" OK235 E503 MSG_R
	    "221 2.0.0 mx.test.example closing connection" T);
	for (i = 0; i < fx.nev && i < SMTP_FIX_MAX_EVENTS; i++)
		if (fx.ev[i].rk == SIM_RK_AUTH_OK)
			break;
	CU_ASSERT_FATAL(i < fx.nev && i < SMTP_FIX_MAX_EVENTS);
	CU_ASSERT_EQUAL(fx.ev[i].stage, SIM_STAGE_AUTH);
	CU_ASSERT_EQUAL(fx.ev[i].code, 235);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].rk, SIM_RK_DATA_OK);
	smtp_session_free(s);
	smtp_fix_free(&fx);
	sim_acct_free(acct);
}

/* test_session_quota_lockout - the day quota answers at MAIL; three
 * failures lock the account, even the right password then gets 454,
 * and the lock ends after its minutes */
static void
test_session_quota_lockout(void)
{
	struct smtp_fix fx;
	struct sim_acct *acct;
	struct smtp_session *s;

	sub_fix(&fx, &acct);
	s = sub_tls(&fx, "", "");
	sub_run(s, "EHLO c\r\n" GOOD_PLAIN MSG MSG
	    "MAIL FROM:<alice@gmail.test>\r\n",
	    EHLO_AUTH OK235 MSG_R MSG_R E550_DAY);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].rk, SIM_RK_SUBMIT_MESSAGES);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].stage, SIM_STAGE_MAIL);
	smtp_session_free(s);

	s = sub_tls(&fx, "", "");
	sub_run(s, "EHLO c\r\n" BAD_PLAIN BAD_PLAIN BAD_PLAIN GOOD_PLAIN,
	    EHLO_AUTH E535 E535 E535 E454);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].rk, SIM_RK_SUBMIT_LOCKED);
	CU_ASSERT_EQUAL(fx.ev[fx.nev - 1].stage, SIM_STAGE_AUTH);
	sim_clock_set(&fx.clock, sim_clock_now(&fx.clock) + 10 * 60000ULL);
	sub_run(s, GOOD_PLAIN, OK235);
	smtp_session_free(s);
	smtp_fix_free(&fx);
	sim_acct_free(acct);
}

/* test_not_submission - an MX profile answers AUTH 502, as before */
static void
test_not_submission(void)
{
	struct smtp_fix fx;
	struct smtp_session *s;

	CU_ASSERT_FATAL(smtp_fix_init(&fx) == 0);
	s = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_FATAL(s != NULL);
	sub_run(s, "EHLO c\r\n" GOOD_PLAIN,
	    GREET "250-mx.test.example Hello [192.0.2.10]\r\n"
	    "250-PIPELINING\r\n250-8BITMIME\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250 SIZE 10485760\r\n"
	    "502 5.5.1 Command not implemented" T);
	smtp_session_free(s);
	smtp_fix_free(&fx);
}

int
test_smtp_sasl_register(void)
{
	CU_pSuite s = CU_add_suite("smtp_sasl", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "SASL state machine", test_sasl_machine) == NULL ||
	    CU_add_test(s, "strict base64", test_b64) == NULL ||
	    CU_add_test(s, "session: AUTH after STARTTLS",
	    test_session_auth) == NULL ||
	    CU_add_test(s, "session: quota and lockout",
	    test_session_quota_lockout) == NULL ||
	    CU_add_test(s, "MX profile: AUTH 502", test_not_submission) ==
	    NULL)
		return -1;
	return 0;
}
