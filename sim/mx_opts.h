/*
 * @file mx_opts.h
 * The mxsim command's options: one table (name, argument, bounds, help)
 * gives getopt_long its entries, parses each value strictly and writes
 * --help.  Internal to the mxsim command (sim/main.c).
 */
#ifndef MX_OPTS_H
#define MX_OPTS_H

#include <stdbool.h>

struct mx_opts {
	const char	*config;
	const char	*check;
	const char	*event_log;
	const char	*ready_file;
	const char	*summary_json;	/* --summary-json FILE, or NULL */
	const char	*control;	/* control API address, NULL = none */
	const char	*metrics;	/* /metrics address, NULL = none */
	const char	*control_token_file; /* bearer token file, or NULL */
	long		 workers;	/* -1 = scenario's */
	long		 port;		/* -1 = scenario's */
	long		 submission_port; /* -1 = scenario's */
	double		 time_scale;	/* 0 = scenario's */
	long long	 seed;		/* -1 = scenario's */
	double		 duration;	/* 0 = until a signal */
	double		 status;	/* seconds between status lines */
	long		 state_entries;
	long		 max_conns;
	const char	*backend;	/* --backend NAME (default "socket") */
	const char	*dkim_keys_dir;	/* write DKIM private keys here */
	long		 idle_us;	/* dpdk: sleep after empty polls */
	const char	*user;		/* run as this user after binding */
	int		 rest_argc;	/* the arguments after the options, */
	char		**rest_argv;	/* argv[0] first: the backend's (EAL) */
	bool		 quiet;
	bool		 seed_set;
	const char	*tls_cert;	/* STARTTLS certificate PEM, or NULL */
	const char	*tls_key;	/* ... its key; both or neither */
	bool		 no_tls;	/* never advertise STARTTLS */
};

/**
 * Parse the command line into @p o (defaults first).  The arguments after
 * the options ("--" ...) are left in o->rest_argc and o->rest_argv with
 * argv[0] first, for a backend that takes some (EAL's, for dpdk).  Messages go to stderr; --help and --version to stdout.
 * @return 0, 1 (--help or --version: exit 0) or -1 (usage error).
 */
int mx_opts_parse(int argc, char **argv, struct mx_opts *o);

#endif /* MX_OPTS_H */
