/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int g_level = -1;
static char g_prefix[64] = "benchfs";

int bfs_log_parse_level(const char *name)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

void bfs_log_set_level(int level) { g_level = level; }

void bfs_log_set_prefix(const char *prefix)
{
    snprintf(g_prefix, sizeof g_prefix, "%s", prefix);
}

void bfs_log(int level, const char *fmt, ...)
{
    if (g_level < 0) {
        const char *env = getenv("BENCHFS_LOG");
        int l = env ? bfs_log_parse_level(env) : -1;
        g_level = l >= 0 ? l : BFS_LOG_WARN;
    }
    if (level > g_level)
        return;
    static const char *tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines of concurrent processes do not interleave. */
    fprintf(stderr, "%ld.%03ld %s %s: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, g_prefix,
            tags[level], line);
}

void bfs_log_limited(struct bfs_log_limit *l, int level, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now - l->window_ms >= 1000) {
        if (l->suppressed)
            bfs_log(level, "%u more %s in the last %lld ms (not logged one by one)",
                    l->suppressed, l->what, now - l->window_ms);
        l->window_ms = now;
        l->logged = l->suppressed = 0;
    }
    if (l->logged >= l->burst) {
        l->suppressed++;
        return;
    }
    l->logged++;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    bfs_log(level, "%s", line);
}
