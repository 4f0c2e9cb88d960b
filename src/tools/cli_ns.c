/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_ns.c — changing the namespace and reading a file: mkdir, rm, mv, cat. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cli.h"

#define NS_PATH_MAX 4200

/* The library stores modes as given; a shell tool should honour the umask like mkdir(1). */
static mode_t umask_value(void)
{
    mode_t m = umask(0);
    umask(m);
    return m;
}

int cmd_mkdir(int argc, char **argv)
{
    int parents = 0, c, done;
    mode_t mode = 0777 & ~umask_value();
    while ((c = cli_getopt(argc, argv, "pm:", NULL, &done)) != -1) {
        if (c == 'p') {
            parents = 1;
        } else if (c == 'm') {
            char *end;
            long m = strtol(optarg, &end, 8);
            if (*end || end == optarg || m < 0 || m > 07777) {
                cli_err("mkdir", "invalid mode '%s' (octal, e.g. 755)", optarg);
                return CLI_USAGE;
            }
            mode = (mode_t)m;
        } else {
            return cli_usage("mkdir");
        }
    }
    if (done >= 0)
        return done;
    if (optind >= argc) {
        cli_err("mkdir", "missing operand");
        return cli_usage("mkdir");
    }
    benchfs_t *fs = cli_connect("mkdir");
    if (!fs)
        return CLI_FAIL;
    struct cli_side side = {SIDE_BFS, fs};
    int rc = CLI_OK;
    for (int i = optind; i < argc; i++) {
        char p[NS_PATH_MAX];
        if (cli_bfs_path("mkdir", argv[i], p, sizeof p) != 0) {
            rc = CLI_FAIL;
            continue;
        }
        if (parents) {
            /* Parents get u+wx so the rest of the path can be created in them (as mkdir -p). */
            char parent[NS_PATH_MAX];
            snprintf(parent, sizeof parent, "%s", p);
            char *slash = strrchr(parent, '/');
            if (slash && slash != parent) {
                *slash = '\0';
                if (side_mkdir_p(&side, parent, (0777 & ~umask_value()) | 0300) != 0) {
                    cli_err_bfs("mkdir", parent);
                    rc = CLI_FAIL;
                    continue;
                }
            }
        }
        if (benchfs_mkdir(fs, p, mode) == 0)
            continue;
        int e = errno;
        benchfs_stat_t st;
        if (parents && e == EEXIST && benchfs_stat(fs, p, &st) == 0 && S_ISDIR(st.mode))
            continue;
        errno = e;
        cli_err_bfs("mkdir", p);
        rc = CLI_FAIL;
    }
    return cli_disconnect(fs, "mkdir", rc);
}

/* Depth-first removal; returns the number of failures below and at path. */
static int rm_tree(benchfs_t *fs, const char *path)
{
    benchfs_stat_t st;
    if (benchfs_stat(fs, path, &st) != 0) {
        cli_err_bfs("rm", path);
        return 1;
    }
    if (!S_ISDIR(st.mode)) {
        if (benchfs_unlink(fs, path) == 0)
            return 0;
        cli_err_bfs("rm", path);
        return 1;
    }
    int fails = 0;
    benchfs_dir_t *d = benchfs_opendir(fs, path); /* a snapshot: safe to remove while reading */
    if (!d) {
        cli_err_bfs("rm", path);
        return 1;
    }
    const benchfs_dirent_t *e;
    while ((e = benchfs_readdir(d)) != NULL) {
        char child[NS_PATH_MAX];
        if (cli_join(child, sizeof child, path, e->name) != 0) {
            cli_err_sys("rm", e->name);
            fails++;
            continue;
        }
        fails += rm_tree(fs, child);
    }
    benchfs_closedir(d);
    if (fails)
        return fails; /* rmdir would only add "Directory not empty" */
    if (benchfs_rmdir(fs, path) != 0) {
        cli_err_bfs("rm", path);
        return 1;
    }
    return 0;
}

int cmd_rm(int argc, char **argv)
{
    int recursive = 0, force = 0, c, done;
    while ((c = cli_getopt(argc, argv, "rRf", NULL, &done)) != -1) {
        if (c == 'r' || c == 'R')
            recursive = 1;
        else if (c == 'f')
            force = 1;
        else
            return cli_usage("rm");
    }
    if (done >= 0)
        return done;
    if (optind >= argc) {
        if (force)
            return CLI_OK;
        cli_err("rm", "missing operand");
        return cli_usage("rm");
    }
    benchfs_t *fs = cli_connect("rm");
    if (!fs)
        return CLI_FAIL;
    int rc = CLI_OK;
    for (int i = optind; i < argc; i++) {
        char p[NS_PATH_MAX];
        if (cli_bfs_path("rm", argv[i], p, sizeof p) != 0) {
            rc = CLI_FAIL;
            continue;
        }
        benchfs_stat_t st;
        if (benchfs_stat(fs, p, &st) != 0) {
            if (!(force && errno == ENOENT)) {
                cli_err_bfs("rm", p);
                rc = CLI_FAIL;
            }
            continue;
        }
        if (S_ISDIR(st.mode)) {
            benchfs_stat_t root; /* "/", "/.", "/a/.." all normalise to the root */
            if (!recursive) {
                errno = EISDIR;
                cli_err_bfs("rm", p);
                rc = CLI_FAIL;
            } else if (benchfs_stat(fs, "/", &root) == 0 && root.ino == st.ino) {
                cli_err("rm", "refusing to remove '/' recursively");
                rc = CLI_FAIL;
            } else if (rm_tree(fs, p) != 0) {
                rc = CLI_FAIL;
            }
        } else if (benchfs_unlink(fs, p) != 0 && !(force && errno == ENOENT)) {
            cli_err_bfs("rm", p);
            rc = CLI_FAIL;
        }
    }
    return cli_disconnect(fs, "rm", rc);
}

int cmd_mv(int argc, char **argv)
{
    int c, done;
    while ((c = cli_getopt(argc, argv, "", NULL, &done)) != -1)
        return cli_usage("mv");
    if (done >= 0)
        return done;
    if (argc - optind < 2) {
        cli_err("mv", argc - optind ? "missing destination after '%s'" : "missing operand%s",
                argc - optind ? argv[optind] : "");
        return cli_usage("mv");
    }
    benchfs_t *fs = cli_connect("mv");
    if (!fs)
        return CLI_FAIL;
    int rc = CLI_OK, nsrc = argc - optind - 1;
    char dst[NS_PATH_MAX];
    if (cli_bfs_path("mv", argv[argc - 1], dst, sizeof dst) != 0)
        return cli_disconnect(fs, "mv", CLI_FAIL);
    benchfs_stat_t dst_st;
    int dst_is_dir = benchfs_stat(fs, dst, &dst_st) == 0 && S_ISDIR(dst_st.mode);
    if (nsrc > 1 && !dst_is_dir) {
        errno = ENOTDIR;
        cli_err_bfs("mv", dst);
        return cli_disconnect(fs, "mv", CLI_FAIL);
    }
    for (int i = optind; i < argc - 1; i++) {
        char src[NS_PATH_MAX], to[NS_PATH_MAX * 2], base[256];
        if (cli_bfs_path("mv", argv[i], src, sizeof src) != 0) {
            rc = CLI_FAIL;
            continue;
        }
        cli_basename(src, base, sizeof base);
        /* Into an existing directory under its own name, as mv(1); "mv /d /d" stays an error
         * of the library (into itself) rather than a silent no-op. */
        if (dst_is_dir && base[0])
            cli_join(to, sizeof to, dst, base);
        else
            snprintf(to, sizeof to, "%s", dst);
        if (benchfs_rename(fs, src, to) != 0) {
            int e = errno;
            benchfs_stat_t st;
            if (benchfs_stat(fs, src, &st) != 0) { /* name the path that is wrong */
                cli_err_bfs("mv", src);
            } else {
                errno = e;
                char both[NS_PATH_MAX * 3 + 8];
                snprintf(both, sizeof both, "%s -> %s", src, to);
                cli_err_bfs("mv", both);
            }
            rc = CLI_FAIL;
        }
    }
    return cli_disconnect(fs, "mv", rc);
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

int cmd_cat(int argc, char **argv)
{
    int c, done;
    while ((c = cli_getopt(argc, argv, "", NULL, &done)) != -1)
        return cli_usage("cat");
    if (done >= 0)
        return done;
    if (optind >= argc) {
        cli_err("cat", "missing operand");
        return cli_usage("cat");
    }
    benchfs_t *fs = cli_connect("cat");
    if (!fs)
        return CLI_FAIL;
    size_t bufsz = 4u << 20; /* whole chunks per call: one RPC round per server, not per KiB */
    char *buf = malloc(bufsz);
    if (!buf) {
        cli_err("cat", "out of memory");
        return cli_disconnect(fs, "cat", CLI_FAIL);
    }
    int rc = CLI_OK;
    for (int i = optind; i < argc && rc != CLI_USAGE; i++) {
        char p[NS_PATH_MAX];
        if (cli_bfs_path("cat", argv[i], p, sizeof p) != 0) {
            rc = CLI_FAIL;
            continue;
        }
        int fd = benchfs_open(fs, p, O_RDONLY, 0);
        if (fd < 0) {
            cli_err_bfs("cat", p);
            rc = CLI_FAIL;
            continue;
        }
        benchfs_stat_t st;
        if (benchfs_fstat(fs, fd, &st) == 0 && S_ISDIR(st.mode)) {
            errno = EISDIR;
            cli_err_bfs("cat", p);
            rc = CLI_FAIL;
            benchfs_close(fs, fd);
            continue;
        }
        for (;;) {
            ssize_t n = benchfs_read(fs, fd, buf, bufsz);
            if (n < 0) {
                cli_err_bfs("cat", p);
                rc = CLI_FAIL;
                break;
            }
            if (n == 0)
                break;
            if (write_all(STDOUT_FILENO, buf, (size_t)n) != 0) {
                cli_err_sys("cat", "standard output");
                rc = CLI_FAIL;
                i = argc; /* no point in reading more */
                break;
            }
        }
        benchfs_close(fs, fd);
    }
    free(buf);
    return cli_disconnect(fs, "cat", rc);
}
