/*
 * @file test_suites.h
 * One CUnit suite per module; test_main.c registers them all.
 * Each register function returns 0, or -1 when CUnit failed to add.
 */
#ifndef TEST_SUITES_H
#define TEST_SUITES_H

struct prof_profile;

/** Load the shipped profiles/NAME.yaml; on error print the loader's
 *  message and return NULL (test_main.c). */
struct prof_profile *test_bundled_profile(const char *name);

struct sim_addr6;

/** Parse an IPv6 address a test knows is valid (test_sim_addr.c). */
struct sim_addr6 test_a6(const char *s);

/** @return 1 when @p line is one whole line of @p text (test_main.c). */
int test_has_line(const char *text, const char *line);

int test_sim_kinds_register(void);
int test_prof_load_register(void);
int test_sim_clock_register(void);
int test_sim_state_register(void);
int test_sim_policy_register(void);
int test_sim_evlog_register(void);
int test_fidelity_register(void);
int test_smtp_reply_register(void);
int test_smtp_session_register(void);
int test_smtp_arena_register(void);
int test_hx_register(void);
int test_ctl_api_register(void);
int test_nb_backend_register(void);
int test_met_prom_register(void);
int test_world_slot_register(void);
int test_prof_rates_register(void);

int test_msg_scan_register(void);
int test_auth_register(void);
int test_dns_server_register(void);
int test_tls_srv_register(void);
int test_sim_pm_register(void);	/* issue 9: Postmaster view */
int test_sim_place_register(void);	/* issue 9: inbox placement */
int test_smtp_sasl_register(void);	/* issue 16: SMTP AUTH */
int test_sim_acct_register(void);	/* issue 16: submission accounts */
int test_sim_grey_register(void);	/* issue 16: triplet greylisting */
int test_sim_addr_register(void);	/* issue 16: IPv6 addresses */
int test_prof_scenario6_register(void);	/* issue 16: IPv6 scenario */
int test_ctl_web_register(void);	/* issue 18: dashboard files */

#endif /* TEST_SUITES_H */
