/* SPDX-License-Identifier: BSD-3-Clause */
/* errors.c — errno plus a readable, per-thread explanation of the last failure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[512];

int bfs_fail(int err, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(last_error, sizeof last_error, "%s: %s", what, strerror(err));
    errno = err;
    return -1;
}

void bfs_clear_error(void) { last_error[0] = '\0'; }

BFS_API const char *benchfs_strerror(void)
{
    return last_error[0] ? last_error : "no error";
}

BFS_API const char *benchfs_version(void) { return BENCHFS_VERSION_STRING; }
