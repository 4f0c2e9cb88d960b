/* SPDX-License-Identifier: BSD-3-Clause */
/* context.c — the process's one BenchFS context for libbenchfs-preload.so: the mount prefix
 * read once from $BENCHFS_MOUNT, the context started on the first call that names a path
 * under it (never for programs that do not), the real libc symbols, and what fork and exit
 * need (our lock is not held across fork; files are closed, publishing their sizes, at exit). */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char pl_prefix[PATH_MAX];
size_t pl_prefix_len;

static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static const char *bad_mount; /* BENCHFS_MOUNT that is not an absolute path other than / */

void *pl_real_sym(void *_Atomic *slot, const char *name)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    if (p)
        return p;
    p = dlsym(RTLD_NEXT, name);
    if (!p) {
        /* Every symbol we look up is in glibc 2.28+; without it we cannot go on. */
        static const char msg[] = "benchfs-preload: a libc symbol is missing: ";
        (void)!write(2, msg, sizeof msg - 1);
        (void)!write(2, name, strlen(name));
        (void)!write(2, "\n", 1);
        abort();
    }
    atomic_store_explicit(slot, p, memory_order_release);
    return p;
}

static void configure(void)
{
    const char *m = getenv("BENCHFS_MOUNT");
    if (!m || !*m)
        m = "/benchfs";
    size_t n = strlen(m);
    while (n > 1 && m[n - 1] == '/')
        n--;
    if (m[0] != '/' || n <= 1 || n >= sizeof pl_prefix) {
        /* Nothing can match a prefix of "\x01": every path goes to libc, and the first
         * would-be use explains why (pl_fs). */
        bad_mount = m;
        strcpy(pl_prefix, "\x01");
        pl_prefix_len = 1;
        return;
    }
    memcpy(pl_prefix, m, n);
    pl_prefix[n] = '\0';
    pl_prefix_len = n;
}

void pl_configure(void)
{
    pthread_once(&config_once, configure);
}

static pthread_once_t fs_once = PTHREAD_ONCE_INIT;
static benchfs_t *the_fs;
static int init_errno;

static void start(void)
{
    pl_configure();
    if (bad_mount) {
        fprintf(stderr, "benchfs-preload: BENCHFS_MOUNT='%s' is not valid: expected an absolute "
                        "path other than /\n", bad_mount);
        init_errno = EINVAL;
        return;
    }
    benchfs_options_t o = {0};
    o.mount_prefix = pl_prefix;
    the_fs = benchfs_init_opts(&o);
    if (!the_fs) {
        init_errno = errno ? errno : EIO;
        fprintf(stderr, "benchfs-preload: cannot reach BenchFS for %s: %s\n", pl_prefix,
                benchfs_strerror());
    }
}

benchfs_t *pl_fs(void)
{
    pthread_once(&fs_once, start);
    if (!the_fs)
        errno = init_errno;
    return the_fs;
}

/* Buffered stdio streams first (their data goes through our descriptors), then every BenchFS
 * descriptor, publishing sizes. Library destructors run before stdio's own flush at exit,
 * so that flush would find our descriptors gone. */
__attribute__((destructor)) static void finish(void)
{
    if (!the_fs)
        return;
    pl_stdio_flush_all();
    pl_fd_close_all();
}
