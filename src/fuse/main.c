/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c — benchfs-fuse: mount a BenchFS cluster with libfuse3's high-level (path) API,
 * which fits a library whose calls take paths. Parses the mount's own options (registry,
 * rpc_timeout, contexts) beside FUSE's, checks the cluster can be reached before mounting,
 * sets the defaults the design relies on (kernel permission checks on top of the library's,
 * close-to-open timeouts, file ids as inode numbers), then runs the multithreaded loop until
 * `fusermount3 -u`, SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bfuse.h"
#include <fuse_lowlevel.h> /* fuse_parse_cmdline, fuse_cmdline_help */

struct cli {
    char *registry;
    int rpc_timeout_ms;
    int contexts;
    int readahead_kb; /* -1: not given (1024, quietly kept at the kernel's if not root) */
    int readahead_set;
};

#define OPT(t, field, v) {t, offsetof(struct cli, field), v}
static const struct fuse_opt cli_spec[] = {
    OPT("registry=%s", registry, 0),
    OPT("rpc_timeout=%d", rpc_timeout_ms, 0),
    OPT("contexts=%d", contexts, 0),
    OPT("readahead_kb=%d", readahead_kb, 0),
    FUSE_OPT_END,
};

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    /* Big writes: as large as this libfuse's buffers allow (1 MiB); libfuse caps it. */
    conn->max_write = 1u << 20;
    conn->max_readahead = 1u << 20;
    /* Write-through: a write reaches the servers before write(2) returns, as the library
     * promises; a writeback cache would also send writes without the writer's identity. */
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    cfg->nullpath_ok = 0; /* flush reopens by path */
    cfg->use_ino = 1;     /* st_ino is the file id: stable across rename */
    return NULL;
}

static void op_destroy(void *data)
{
    (void)data;
    bfuse_contexts_term();
}

static const struct fuse_operations ops = {
    .getattr = bfuse_getattr,
    .readlink = bfuse_readlink,
    .mknod = bfuse_mknod,
    .mkdir = bfuse_mkdir,
    .unlink = bfuse_unlink,
    .rmdir = bfuse_rmdir,
    .symlink = bfuse_symlink,
    .rename = bfuse_rename,
    .link = bfuse_link,
    .chmod = bfuse_chmod,
    .chown = bfuse_chown,
    .truncate = bfuse_truncate,
    .open = bfuse_open,
    .read = bfuse_read,
    .write = bfuse_write,
    .statfs = bfuse_statfs,
    .flush = bfuse_flush,
    .release = bfuse_release,
    .fsync = bfuse_fsync,
    .opendir = bfuse_opendir,
    .readdir = bfuse_readdir,
    .releasedir = bfuse_releasedir,
    .fsyncdir = bfuse_fsyncdir,
    .init = op_init,
    .destroy = op_destroy,
    .access = bfuse_access,
    .create = bfuse_create,
    .utimens = bfuse_utimens,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: benchfs-fuse MOUNTPOINT [-f] [-d] [-s] [-o OPTION[,OPTION...]]\n"
            "Mount a BenchFS cluster at MOUNTPOINT (unmount: fusermount3 -u MOUNTPOINT).\n\n"
            "BenchFS options:\n"
            "    -o registry=DIR        registry of the cluster (default: $BENCHFS_REGISTRY)\n"
            "    -o rpc_timeout=MS      per-RPC deadline; a call to a dead server fails with\n"
            "                           EIO or ETIMEDOUT by then (default: the library's,\n"
            "                           $BENCHFS_RPC_TIMEOUT_MS or 30000)\n"
            "    -o contexts=N          library contexts, one per worker thread up to N\n"
            "                           (default: max_threads)\n"
            "    -o readahead_kb=N      the kernel's read-ahead window, which is also the\n"
            "                           largest read it asks for (default 1024, as large as\n"
            "                           a request may be; 0: the kernel's 128; root only)\n"
            "Set by default (later -o options override): default_permissions,\n"
            "no_rofd_flush, entry_timeout=1, attr_timeout=1, negative_timeout=0, fsname=benchfs.\n"
            "Other users need -o allow_other (root, or user_allow_other in /etc/fuse.conf).\n\n");
}

/* A bad command line: message, usage, exit 2 (the tools' convention). */
static int bad_usage(const char *msg)
{
    fprintf(stderr, "benchfs-fuse: %s\n", msg);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct cli cli = {.readahead_kb = -1};
    struct fuse_cmdline_opts copts;
    memset(&copts, 0, sizeof copts);
    if (fuse_opt_parse(&args, &cli, cli_spec, NULL) != 0)
        return bad_usage("bad option");
    /* Defaults first, so the user's own -o of the same name (parsed later) wins. */
    if (fuse_opt_insert_arg(&args, 1, "-odefault_permissions,no_rofd_flush,fsname=benchfs,"
                                      "subtype=benchfs,entry_timeout=1,attr_timeout=1,"
                                      "negative_timeout=0") != 0 ||
        fuse_parse_cmdline(&args, &copts) != 0)
        return bad_usage("bad option");
    int rc = 1;
    if (copts.show_help) {
        usage(stdout);
        printf("FUSE options:\n");
        fuse_cmdline_help();
        fuse_lib_help(&args);
        rc = 0;
        goto out;
    }
    if (copts.show_version) {
        printf("benchfs-fuse %s (libbenchfs %s, libfuse %s)\n", BENCHFS_VERSION_STRING,
               benchfs_version(), fuse_pkgversion());
        rc = 0;
        goto out;
    }
    if (!copts.mountpoint) {
        rc = bad_usage("no mount point");
        goto out;
    }
    const char *reg = cli.registry ? cli.registry : getenv("BENCHFS_REGISTRY");
    if (!reg || !*reg) {
        rc = bad_usage("no registry: -o registry=DIR or BENCHFS_REGISTRY");
        goto out;
    }
    cli.readahead_set = cli.readahead_kb != -1;
    if (!cli.readahead_set)
        cli.readahead_kb = 1024;
    if (cli.rpc_timeout_ms < 0 || cli.contexts < 0 || cli.readahead_kb < 0) {
        rc = bad_usage("rpc_timeout, contexts and readahead_kb must not be negative");
        goto out;
    }
    /* The daemon leaves its working directory: a relative registry is made absolute. */
    static char regbuf[PATH_MAX];
    bfuse_conf.registry = realpath(reg, regbuf) ? regbuf : reg;
    bfuse_conf.mountpoint = copts.mountpoint; /* made absolute by fuse_parse_cmdline */
    bfuse_conf.rpc_timeout_ms = cli.rpc_timeout_ms;
    unsigned threads = copts.max_threads ? copts.max_threads : 10;
    bfuse_conf.max_contexts = cli.contexts ? (unsigned)cli.contexts : threads;
    if (copts.singlethread)
        bfuse_conf.max_contexts = 1;

    int e = bfuse_probe();
    if (e) {
        fprintf(stderr, "benchfs-fuse: cannot use the cluster of registry %s: %s\n",
                bfuse_conf.registry, benchfs_strerror());
        goto out;
    }
    struct fuse *f = fuse_new(&args, &ops, sizeof ops, NULL);
    if (!f)
        goto out; /* libfuse said why */
    if (fuse_mount(f, copts.mountpoint) != 0) {
        fprintf(stderr, "benchfs-fuse: cannot mount at %s\n", copts.mountpoint);
        fuse_destroy(f);
        goto out;
    }
    if (cli.readahead_kb) {
        int ra = bfuse_set_readahead(copts.mountpoint, (unsigned)cli.readahead_kb);
        if (ra && (cli.readahead_set || ra != -EACCES))
            fprintf(stderr, "benchfs-fuse: read-ahead stays the kernel's (128 KiB): %s\n",
                    strerror(-ra));
    }
    struct fuse_session *se = fuse_get_session(f);
    if (fuse_daemonize(copts.foreground) != 0 || fuse_set_signal_handlers(se) != 0) {
        fuse_unmount(f);
        fuse_destroy(f);
        goto out;
    }
    int loop;
    if (copts.singlethread) {
        loop = fuse_loop(f);
    } else {
        struct fuse_loop_config *lc = fuse_loop_cfg_create();
        fuse_loop_cfg_set_clone_fd(lc, (unsigned)copts.clone_fd);
        fuse_loop_cfg_set_idle_threads(lc, copts.max_idle_threads);
        fuse_loop_cfg_set_max_threads(lc, threads);
        loop = fuse_loop_mt(f, lc);
        fuse_loop_cfg_destroy(lc);
    }
    fuse_remove_signal_handlers(se);
    fuse_unmount(f);
    fuse_destroy(f); /* op_destroy: every context terminated */
    rc = loop == 0 ? 0 : 1;
out:
    free(copts.mountpoint);
    free(cli.registry);
    fuse_opt_free_args(&args);
    return rc;
}
