/*
 * @file mx_data.h
 * Where mxsim's bundled data lives (the data root holding profiles/,
 * scenarios/, web/, ...): $MXSIM_DATADIR, else ../share/mxsim beside the
 * running executable, else the configured prefix/datadir/mxsim.
 */
#ifndef MX_DATA_H
#define MX_DATA_H

#include <stddef.h>

/**
 * @return the data root, found on the first call and kept for the
 * process's life (thread-safe; never NULL).
 */
const char *mx_datadir(void);

/** @return the bundled profiles' folder, mx_datadir()/profiles. */
const char *mx_data_profiles(void);

/**
 * Write mx_datadir()/@p rel into @p buf of @p size bytes.
 * @return 0, or -ENAMETOOLONG when it does not fit.
 */
int mx_data_path(const char *rel, char *buf, size_t size);

#endif /* MX_DATA_H */
