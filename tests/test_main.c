/*
 * DESCRIPTION
 *	Runs every CUnit suite, or those named on the command line
 *	(unit_tests [suite ...]).  Exits non-zero when any test failed.
 *	Also holds the helpers several suites share (test_suites.h).
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "prof_load.h"
#include "test_suites.h"

struct suite_reg {
	const char	*name;
	int		(*reg)(void);
};

static const struct suite_reg suites[] = {
	{ "sim_kinds", test_sim_kinds_register },
	{ "prof_load", test_prof_load_register },
	{ "sim_clock", test_sim_clock_register },
	{ "sim_state", test_sim_state_register },
	{ "sim_policy", test_sim_policy_register },
	{ "sim_evlog", test_sim_evlog_register },
	{ "sim_place", test_sim_place_register },
	{ "sim_grey", test_sim_grey_register },
	{ "fidelity", test_fidelity_register },
	{ "smtp_reply", test_smtp_reply_register },
	{ "smtp_session", test_smtp_session_register },
	{ "smtp_arena", test_smtp_arena_register },
	{ "hx", test_hx_register },
	{ "msg_scan", test_msg_scan_register },
	{ "auth", test_auth_register },
	{ "dns_server", test_dns_server_register },
	{ "tls_srv", test_tls_srv_register },
	{ "sim_pm", test_sim_pm_register },
	{ "ctl_api", test_ctl_api_register },
	{ "ctl_web", test_ctl_web_register },	/* issue 18: dashboard */
	{ "nb_backend", test_nb_backend_register },
	{ "met_prom", test_met_prom_register },
	{ "world_slot", test_world_slot_register },
	{ "prof_rates", test_prof_rates_register },
	{ "smtp_sasl", test_smtp_sasl_register },
	{ "sim_acct", test_sim_acct_register },
	{ "sim_addr", test_sim_addr_register },		/* issue 16: IPv6 */
	{ "prof_scenario6", test_prof_scenario6_register },
};

/* test_bundled_profile - load profiles/NAME.yaml, NULL (and a message) on
 * error */
struct prof_profile *
test_bundled_profile(const char *name)
{
	struct prof_error err;
	struct prof_profile *p;
	char path[1024], buf[1200];

	snprintf(path, sizeof(path), "%s/%s.yaml", MXSIM_PROFILES_DIR, name);
	if ((p = prof_load_profile(path, &err)) == NULL)
		fprintf(stderr, "\n  %s\n", prof_error_str(&err, buf,
		    sizeof(buf)));
	return p;
}

/* test_has_line - is @line one whole line of @text */
int
test_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned failed;
	size_t i;
	int j, want;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		want = argc < 2;
		for (j = 1; j < argc; j++)
			if (strcmp(argv[j], suites[i].name) == 0)
				want = 1;
		if (want && suites[i].reg() != 0) {
			fprintf(stderr, "cannot register suite %s\n",
			    suites[i].name);
			CU_cleanup_registry();
			return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() +
	    CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed != 0 ? 1 : 0;
}
