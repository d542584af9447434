/*
 * @file ctl_token.h
 * The control API's bearer token, read from the file that
 * --control-token-file names: one line of RFC 6750 token characters
 * (letters, digits, "-._~+/", then "=" padding), a final newline allowed.
 * The file must be a regular file that other users cannot read or write.
 */
#ifndef CTL_TOKEN_H
#define CTL_TOKEN_H

#include <stddef.h>

/**
 * Read the token of @p path into @p buf (NUL-terminated).
 * @param err  on error: the file and what is wrong with it.
 * @return 0, or -errno of the failing call, -EPERM (readable or writable
 *         by others), -EINVAL (empty, not a token, not a regular file),
 *         -E2BIG (longer than @p buflen - 1 bytes).
 */
int ctl_token_read(const char *path, char *buf, size_t buflen, char *err,
    size_t errlen);

#endif /* CTL_TOKEN_H */
