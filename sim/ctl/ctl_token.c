/*
 * DESCRIPTION
 *	Reads the control API's bearer token (--control-token-file).  The
 *	file is opened once, checked through its descriptor (a regular file,
 *	no permission for other users), then read whole: one token line.
 *	Trailing whitespace (the editor's newline) is dropped; anything else
 *	outside the token characters of RFC 6750 section 2.1 is refused, so
 *	that what the client sends in its Authorization header is exactly
 *	what the file holds.
 *
 * DIAGNOSTICS
 *	Each refusal names the file and says what to change.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_token.h"

static bool	token_char(unsigned char);

/* token_char - a b64token character (RFC 6750 2.1) other than '=' */
static bool
token_char(unsigned char c)
{
	return isalnum(c) || strchr("-._~+/", c) != NULL;
}

/* ctl_token_read - the token of a file, checked */
int
ctl_token_read(const char *path, char *buf, size_t buflen, char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t len = 0, i;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = -EINVAL;
		goto out;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
		snprintf(err, errlen, "%s: other users may read or write it "
		    "(mode %04o); chmod o-rw %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		rc = -EPERM;
		goto out;
	}
	while (len < buflen && (n = read(fd, buf + len, buflen - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len >= buflen) {
		snprintf(err, errlen, "%s: a token longer than %zu bytes", path,
		    buflen - 1);
		rc = -E2BIG;
		goto out;
	}
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: empty (expected one line: the "
		    "bearer token)", path);
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < len && token_char((unsigned char)buf[i]); i++)
		;
	while (i > 0 && i < len && buf[i] == '=')
		i++;
	if (i < len) {
		snprintf(err, errlen, "%s: byte %zu: expected a bearer token "
		    "(letters, digits, -._~+/ then = padding; e.g. the output "
		    "of openssl rand -hex 32) on one line", path, i + 1);
		rc = -EINVAL;
	}
out:
	if (rc != 0)
		memset(buf, 0, buflen);
	close(fd);
	return rc;
}
