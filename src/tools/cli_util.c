/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_util.c — error messages, option parsing, connecting, path and size helpers shared by the
 * subcommands of the `benchfs` tool. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tools/cli.h"

struct cli_global cli_g;

/* Errors whose strerror() text is the whole story; for the others (ETIMEDOUT, EHOSTDOWN, EIO,
 * ENOSPC, EINVAL...) the library's own message says which server or limit was involved. */
static int self_explanatory(int e)
{
    switch (e) {
    case ENOENT: case EEXIST: case ENOTDIR: case EISDIR: case ENOTEMPTY: case EACCES:
    case EPERM:
        return 1;
    default:
        return 0;
    }
}

void cli_err_bfs(const char *cmd, const char *path)
{
    int e = errno;
    if (self_explanatory(e))
        fprintf(stderr, "benchfs: %s: %s: %s\n", cmd, path, strerror(e));
    else
        fprintf(stderr, "benchfs: %s: %s: %s (%s)\n", cmd, path, strerror(e), benchfs_strerror());
    errno = e;
}

void cli_err_sys(const char *cmd, const char *path)
{
    int e = errno;
    fprintf(stderr, "benchfs: %s: %s: %s\n", cmd, path, strerror(e));
    errno = e;
}

void cli_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "benchfs: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const struct cli_cmd *find_cmd(const char *name)
{
    for (const struct cli_cmd *c = cli_cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cli_usage(const char *cmd)
{
    const struct cli_cmd *c = find_cmd(cmd);
    if (c)
        fprintf(stderr, "usage: benchfs %s\nTry 'benchfs %s --help' for more.\n", c->synopsis,
                cmd);
    return CLI_USAGE;
}

int cli_help(const char *cmd)
{
    const struct cli_cmd *c = find_cmd(cmd);
    if (!c)
        return CLI_USAGE;
    printf("usage: benchfs %s\n\n%s", c->synopsis, c->help);
    printf("\nCommon options:\n"
           "  --registry DIR  the cluster's registry (default: $BENCHFS_REGISTRY)\n"
           "  --help          this text\n");
    return CLI_OK;
}

enum { OPT_HELP = 1000, OPT_REGISTRY };

void cli_getopt_reset(void) { optind = 0; }

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *extra,
               int *done)
{
    /* The long options of the command plus the two every command has. */
    struct option lo[32];
    int n = 0;
    for (; extra && extra[n].name && n < 29; n++)
        lo[n] = extra[n];
    lo[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lo[n++] = (struct option){"registry", required_argument, NULL, OPT_REGISTRY};
    lo[n] = (struct option){0};
    char so[64];
    snprintf(so, sizeof so, ":%s", shortopts); /* ':' : report a missing argument apart */
    const char *cmd = argv[0];
    *done = -1;
    opterr = 0; /* our own messages, prefixed with the tool and command name */
    for (;;) {
        int c = getopt_long(argc, argv, so, lo, NULL);
        if (c == OPT_REGISTRY) {
            cli_g.registry = optarg;
            continue;
        }
        if (c == OPT_HELP) {
            *done = cli_help(cmd);
            return -1;
        }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            if (c == ':')
                cli_err(cmd, "option '%s' needs an argument", bad);
            else if (optopt && strncmp(bad, "--", 2) != 0)
                cli_err(cmd, "invalid option -- '%c'", optopt);
            else
                cli_err(cmd, "unrecognized option '%s'", bad);
            *done = cli_usage(cmd);
            return -1;
        }
        return c;
    }
}

benchfs_t *cli_connect(const char *cmd)
{
    const char *reg = cli_g.registry ? cli_g.registry : getenv("BENCHFS_REGISTRY");
    if (!reg || !*reg) {
        cli_err(cmd, "no cluster: set BENCHFS_REGISTRY or pass --registry DIR");
        return NULL;
    }
    benchfs_t *fs = benchfs_init(reg);
    if (!fs)
        cli_err(cmd, "cannot connect to the cluster of registry %s: %s", reg,
                benchfs_strerror());
    return fs;
}

int cli_disconnect(benchfs_t *fs, const char *cmd, int rc)
{
    if (fs && benchfs_term(fs) != 0) {
        cli_err(cmd, "disconnecting: %s", benchfs_strerror());
        return CLI_FAIL;
    }
    return rc;
}

int cli_bfs_path(const char *cmd, const char *arg, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s", arg[0] == '/' ? "" : "/", arg);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        cli_err_sys(cmd, arg);
        return -1;
    }
    return 0;
}

int cli_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int n = snprintf(out, cap, "%.*s%s%s", (int)dl, dir,
                     (dl && dir[dl - 1] == '/') || !*name ? "" : "/", name);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

void cli_basename(const char *path, char *out, size_t cap)
{
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(out, cap, "%.*s", (int)(end - start), path + start);
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end == 'i' && shift)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

const char *cli_human(uint64_t bytes, char *buf, size_t cap)
{
    static const char units[] = "BKMGTPE";
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%lluB", (unsigned long long)bytes);
    else
        snprintf(buf, cap, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

void cli_mode_string(uint32_t mode, char out[11])
{
    out[0] = S_ISDIR(mode)    ? 'd'
             : S_ISREG(mode)  ? '-'
             : S_ISLNK(mode)  ? 'l'
             : S_ISFIFO(mode) ? 'p'
             : S_ISSOCK(mode) ? 's'
             : S_ISCHR(mode)  ? 'c'
             : S_ISBLK(mode)  ? 'b'
                              : '?';
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
    if (mode & S_ISUID)
        out[3] = (mode & S_IXUSR) ? 's' : 'S';
    if (mode & S_ISGID)
        out[6] = (mode & S_IXGRP) ? 's' : 'S';
    if (mode & S_ISVTX)
        out[9] = (mode & S_IXOTH) ? 't' : 'T';
    out[10] = '\0';
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
