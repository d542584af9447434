/*
 * DESCRIPTION
 *	The data root of mxsim, chosen once per process:
 *	  1. $MXSIM_DATADIR when set and not empty (the user's choice, not
 *	     checked here: a missing file is reported where it is opened);
 *	  2. <directory of /proc/self/exe>/../share/mxsim when that folder
 *	     exists: an installed mxsim (PREFIX/bin/mxsim beside
 *	     PREFIX/share/mxsim, also under a DESTDIR or a moved prefix) and
 *	     a build tree (BUILD/sim/mxsim beside BUILD/share/mxsim, which
 *	     meson makes at configure time as links to the source folders);
 *	  3. MXSIM_DATADIR_DEFAULT, the configured prefix/datadir/mxsim.
 *	No build or source path is compiled in.
 *
 * DIAGNOSTICS
 *	None: a root that lacks a file makes its reader fail with the path.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mx_data.h"

#ifndef MXSIM_DATADIR_DEFAULT
#define MXSIM_DATADIR_DEFAULT "/usr/local/share/mxsim"
#endif

/* The data root and its profiles folder, filled once by data_find(). */
struct mx_data_paths {
	char	root[PATH_MAX];
	char	profiles[PATH_MAX + sizeof("/profiles")];
};

static struct mx_data_paths data_paths;
static pthread_once_t data_once = PTHREAD_ONCE_INIT;

/* exe_relative - <dir of the executable>/../share/mxsim if it is a dir */
static int
exe_relative(char *buf, size_t size)
{
	char exe[PATH_MAX], up[PATH_MAX + 32], *slash;
	struct stat st;
	ssize_t n;
	int len;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -errno;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return -ENOENT;
	*slash = '\0';
	len = snprintf(up, sizeof(up), "%s/../share/mxsim", exe);
	if (len < 0 || (size_t)len >= sizeof(up))
		return -ENAMETOOLONG;
	if (stat(up, &st) != 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	if (size < PATH_MAX)
		return -ENAMETOOLONG;
	/* without "..": --help shows the folder a user can find */
	return realpath(up, buf) != NULL ? 0 : -errno;
}

/* data_find - the root by the order of the file comment */
static void
data_find(void)
{
	struct mx_data_paths *p = &data_paths;
	const char *env = getenv("MXSIM_DATADIR");

	if (env != NULL && env[0] != '\0')
		snprintf(p->root, sizeof(p->root), "%s", env);
	else if (exe_relative(p->root, sizeof(p->root)) != 0)
		snprintf(p->root, sizeof(p->root), "%s", MXSIM_DATADIR_DEFAULT);
	/* fits: profiles[] has room for root[] and "/profiles" */
	if (snprintf(p->profiles, sizeof(p->profiles), "%s/profiles",
	    p->root) < 0)
		p->profiles[0] = '\0';
}

/* mx_datadir - the data root */
const char *
mx_datadir(void)
{
	pthread_once(&data_once, data_find);
	return data_paths.root;
}

/* mx_data_profiles - the bundled profiles' folder */
const char *
mx_data_profiles(void)
{
	pthread_once(&data_once, data_find);
	return data_paths.profiles;
}

/* mx_data_path - the data root joined with @p rel */
int
mx_data_path(const char *rel, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", mx_datadir(), rel);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
