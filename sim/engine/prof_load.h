/*
 * @file prof_load.h
 * Loading a scenario and its provider profiles from YAML (libyaml) into a
 * prof_world, with strict validation: unknown keys, wrong types, values
 * out of range and missing required keys are errors that name the file,
 * the 1-based line and column, and what was expected.
 */
#ifndef PROF_LOAD_H
#define PROF_LOAD_H

#include "prof_world.h"

/* Where and why loading failed. */
struct prof_error {
	char		 file[512];	/* file being read */
	unsigned	 line;		/* 1-based; 0 when not about a place */
	unsigned	 column;	/* 1-based */
	char		 msg[512];	/* what was wrong and what was expected */
};

/**
 * Format an error as "file:line:column: message" (or "file: message").
 * @return @p buf.
 */
char *prof_error_str(const struct prof_error *e, char *buf, size_t len);

/**
 * Load one provider profile file.
 * @param path  YAML file.
 * @param err   filled on failure.
 * @return a profile (free with prof_profile_free()), or NULL on error.
 */
struct prof_profile *prof_load_profile(const char *path, struct prof_error *err);

/**
 * Load a scenario file and every profile it names.  A profile given as a
 * bare name ("gmail") is looked up as NAME.yaml beside the scenario, then
 * in @p datadir; a name with a '/' or ending in ".yaml" is a path relative
 * to the scenario's directory.
 * @param path     scenario YAML file.
 * @param datadir  bundled profiles directory, or NULL.
 * @param err      filled on failure.
 * @return a world (free with prof_world_free()), or NULL on error.
 */
struct prof_world *prof_load_scenario(const char *path, const char *datadir,
    struct prof_error *err);

/**
 * Tell a profile file from a scenario before loading it (mxsim --check
 * takes either): a profile names its provider at the top level.
 * @return true when @p path reads as a profile; false otherwise or when
 *         it cannot be read (the loader then says why).
 */
bool prof_file_is_profile(const char *path);

/**
 * @return true when the scenario declares a DNS world: a sender's SPF,
 *         DMARC or DKIM record or extra records, or dns.listen.  SPF, DKIM
 *         and DMARC are then computed over it instead of declared.
 */
bool prof_scenario_has_records(const struct prof_world *w);

#endif /* PROF_LOAD_H */
