/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_list.c — looking without touching: ls, stat, df. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tools/cli.h"

static const char *user_name(uint32_t uid, char *buf, size_t cap)
{
    struct passwd *pw = getpwuid((uid_t)uid);
    if (pw)
        snprintf(buf, cap, "%s", pw->pw_name);
    else
        snprintf(buf, cap, "%u", uid);
    return buf;
}

static const char *group_name(uint32_t gid, char *buf, size_t cap)
{
    struct group *gr = getgrgid((gid_t)gid);
    if (gr)
        snprintf(buf, cap, "%s", gr->gr_name);
    else
        snprintf(buf, cap, "%u", gid);
    return buf;
}

static const char *fmt_time(int64_t ns, char *buf, size_t cap, int full)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (full) {
        char base[40], zone[8];
        strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
        strftime(zone, sizeof zone, "%z", &tm);
        snprintf(buf, cap, "%s.%09lld %s", base, (long long)(ns % 1000000000), zone);
    } else {
        strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
    }
    return buf;
}

struct ls_opts {
    int longfmt, dirself, human;
};

static void ls_line(const struct ls_opts *o, const char *name, const benchfs_stat_t *st)
{
    if (!o->longfmt) {
        printf("%s\n", name);
        return;
    }
    char m[11], u[64], g[64], tb[40], sz[32];
    cli_mode_string(st->mode, m);
    if (o->human)
        cli_human(st->size, sz, sizeof sz);
    else
        snprintf(sz, sizeof sz, "%llu", (unsigned long long)st->size);
    printf("%s %3u %-8s %-8s %10s %s %s\n", m, st->nlink, user_name(st->uid, u, sizeof u),
           group_name(st->gid, g, sizeof g), sz, fmt_time(st->mtime_ns, tb, sizeof tb, 0), name);
}

/* The entries of one directory, in the order the library gives them (sorted by name). */
static int ls_dir(benchfs_t *fs, const struct ls_opts *o, const char *path)
{
    benchfs_dir_t *d = benchfs_opendir(fs, path);
    if (!d) {
        cli_err_bfs("ls", path);
        return CLI_FAIL;
    }
    int rc = CLI_OK;
    const benchfs_dirent_t *e;
    while ((e = benchfs_readdir(d)) != NULL) {
        benchfs_stat_t st = {0};
        if (o->longfmt) {
            char full[8192];
            if (cli_join(full, sizeof full, path, e->name) != 0 ||
                benchfs_stat(fs, full, &st) != 0) {
                /* Removed since the listing: say so, keep going. */
                cli_err_bfs("ls", full);
                rc = CLI_FAIL;
                continue;
            }
        }
        ls_line(o, e->name, &st);
    }
    benchfs_closedir(d);
    return rc;
}

int cmd_ls(int argc, char **argv)
{
    struct ls_opts o = {0};
    int c, done;
    while ((c = cli_getopt(argc, argv, "ldh", NULL, &done)) != -1) {
        switch (c) {
        case 'l': o.longfmt = 1; break;
        case 'd': o.dirself = 1; break;
        case 'h': o.human = 1; break;
        default: return cli_usage("ls");
        }
    }
    if (done >= 0)
        return done;
    char *deflt[] = {"/"};
    char **paths = optind < argc ? argv + optind : deflt;
    int npaths = optind < argc ? argc - optind : 1;
    benchfs_t *fs = cli_connect("ls");
    if (!fs)
        return CLI_FAIL;
    int rc = CLI_OK, printed = 0;
    /* As ls(1): files and -d operands first, then each directory with a header when there
     * are several operands. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < npaths; i++) {
            char p[4200];
            if (cli_bfs_path("ls", paths[i], p, sizeof p) != 0) {
                rc = CLI_FAIL;
                continue;
            }
            benchfs_stat_t st;
            if (benchfs_stat(fs, p, &st) != 0) {
                if (pass == 0) {
                    cli_err_bfs("ls", paths[i]);
                    rc = CLI_FAIL;
                }
                continue;
            }
            int as_dir = S_ISDIR(st.mode) && !o.dirself;
            if (pass == 0 && !as_dir) {
                ls_line(&o, paths[i], &st);
                printed = 1;
            } else if (pass == 1 && as_dir) {
                if (npaths > 1)
                    printf("%s%s:\n", printed ? "\n" : "", paths[i]);
                printed = 1;
                if (ls_dir(fs, &o, p) != CLI_OK)
                    rc = CLI_FAIL;
            }
        }
    }
    return cli_disconnect(fs, "ls", rc);
}

int cmd_stat(int argc, char **argv)
{
    int c, done;
    while ((c = cli_getopt(argc, argv, "", NULL, &done)) != -1)
        return cli_usage("stat");
    if (done >= 0)
        return done;
    if (optind >= argc) {
        cli_err("stat", "missing operand");
        return cli_usage("stat");
    }
    benchfs_t *fs = cli_connect("stat");
    if (!fs)
        return CLI_FAIL;
    int rc = CLI_OK;
    for (int i = optind; i < argc; i++) {
        char p[4200];
        benchfs_stat_t st;
        if (cli_bfs_path("stat", argv[i], p, sizeof p) != 0) {
            rc = CLI_FAIL;
            continue;
        }
        if (benchfs_stat(fs, p, &st) != 0) {
            cli_err_bfs("stat", argv[i]);
            rc = CLI_FAIL;
            continue;
        }
        char m[11], u[64], g[64], t1[64], t2[64], t3[64];
        cli_mode_string(st.mode, m);
        printf("  File: %s\n", p);
        printf("  Size: %-12llu Blocks: %-10llu IO Block: %-8u %s\n",
               (unsigned long long)st.size, (unsigned long long)st.blocks, st.blksize,
               S_ISDIR(st.mode) ? "directory" : S_ISREG(st.mode) ? "regular file" : "other");
        printf("File id: %-10llu Links: %-5u Chunk size: %u\n", (unsigned long long)st.ino,
               st.nlink, st.chunk_size);
        printf("Access: (%04o/%s)  Uid: (%5u/%8s)   Gid: (%5u/%8s)\n", st.mode & 07777, m,
               st.uid, user_name(st.uid, u, sizeof u), st.gid, group_name(st.gid, g, sizeof g));
        printf("Access: %s\nModify: %s\nChange: %s\n", fmt_time(st.atime_ns, t1, sizeof t1, 1),
               fmt_time(st.mtime_ns, t2, sizeof t2, 1), fmt_time(st.ctime_ns, t3, sizeof t3, 1));
    }
    return cli_disconnect(fs, "stat", rc);
}

int cmd_df(int argc, char **argv)
{
    int human = 0, c, done;
    while ((c = cli_getopt(argc, argv, "h", NULL, &done)) != -1) {
        if (c != 'h')
            return cli_usage("df");
        human = 1;
    }
    if (done >= 0)
        return done;
    if (optind < argc) {
        cli_err("df", "unexpected operand '%s'", argv[optind]);
        return cli_usage("df");
    }
    benchfs_t *fs = cli_connect("df");
    if (!fs)
        return CLI_FAIL;
    benchfs_statfs_t st;
    int rc = CLI_OK;
    if (benchfs_statfs(fs, &st) != 0) {
        /* Partial sums are still worth showing; the missing servers make it a failure. */
        cli_err("df", "%s", benchfs_strerror());
        rc = CLI_FAIL;
    }
    const char *reg = cli_g.registry ? cli_g.registry : getenv("BENCHFS_REGISTRY");
    /* As df(1): used / (used + available), rounded up; "available" is what the servers can
     * still take (their disks' free space within --capacity), not total minus used. */
    uint64_t denom = st.used_bytes + st.free_bytes;
    unsigned pct = denom ? (unsigned)((st.used_bytes * 100 + denom - 1) / denom) : 0;
    char a[32], b[32], d[32];
    if (human) {
        printf("%-30s %8s %8s %8s %4s %s\n", "Registry", "Size", "Used", "Avail", "Use%",
               "Servers");
        printf("%-30s %8s %8s %8s %3u%% %u/%u up\n", reg, cli_human(st.total_bytes, a, sizeof a),
               cli_human(st.used_bytes, b, sizeof b), cli_human(st.free_bytes, d, sizeof d), pct,
               st.nservers_up, st.nservers);
    } else {
        printf("%-30s %12s %12s %12s %4s %s\n", "Registry", "1K-blocks", "Used", "Available",
               "Use%", "Servers");
        printf("%-30s %12llu %12llu %12llu %3u%% %u/%u up\n", reg,
               (unsigned long long)(st.total_bytes / 1024),
               (unsigned long long)(st.used_bytes / 1024),
               (unsigned long long)(st.free_bytes / 1024), pct, st.nservers_up, st.nservers);
    }
    return cli_disconnect(fs, "df", rc);
}
