/* SPDX-License-Identifier: BSD-3-Clause */
/* find.c — benchfs_find: a find(1) that costs one round of FIND RPCs per page instead of a
 * directory walk. Every server holds the entries whose path hashes to it, so each one scans
 * its own share, filters it (server/find.c) and returns the matches with a cursor; the client
 * asks every server of the range at once, page after page, until each says it is at its end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/find_filter.h"
#include "internal.h"

#define FIND_ARGS_CAP (BFS_PATH_MAX + BFS_FIND_GLOB_MAX + BFS_FIND_CURSOR_MAX + 96)

struct find_server {
    uint8_t cursor[BFS_FIND_CURSOR_MAX];
    uint32_t cursor_len;
    int done;
    uint8_t args[FIND_ARGS_CAP];
};

static int spec_to_filter(const benchfs_find_spec_t *spec, struct bfs_find_filter *f)
{
    memset(f, 0, sizeof *f);
    if (!spec)
        return 0;
    f->flags = spec->flags;
    if (spec->flags & ~(unsigned)BFS_FIND_ALL)
        return bfs_fail(EINVAL, "find: unknown test flags 0x%x", spec->flags);
    if (spec->flags & BENCHFS_FIND_NAME) {
        if (!spec->name || !spec->name[0] || strlen(spec->name) >= sizeof f->name)
            return bfs_fail(EINVAL, "find: the name pattern must have 1..%d bytes",
                            BFS_FIND_GLOB_MAX - 1);
        strcpy(f->name, spec->name);
    }
    f->newer_ns = spec->newer_ns;
    f->size = spec->size;
    f->size_unit = spec->size_unit;
    f->size_cmp = spec->size_cmp > 0   ? BFS_FIND_SIZE_GT
                  : spec->size_cmp < 0 ? BFS_FIND_SIZE_LT
                                       : BFS_FIND_SIZE_EQ;
    f->types = spec->types;
    if ((spec->flags & BENCHFS_FIND_SIZE) && spec->size_unit == 0)
        return bfs_fail(EINVAL, "find: size unit 0");
    if (bfs_find_filter_check(f))
        return bfs_fail(EINVAL, "find: type mask 0x%x means no type", spec->types);
    return 0;
}

/* One reply: the matches to fn, the cursor kept. 0, 1 (fn said stop) or -errno. */
static int take_page(struct rpc *c, struct find_server *fsv, benchfs_find_stats_t *st,
                     int (*fn)(const char *, const benchfs_stat_t *, void *), void *arg)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, c->rargs, c->rargs_len);
    uint32_t count = bfs_rb_u32(&r);
    uint32_t scanned = bfs_rb_u32(&r);
    uint32_t examined = bfs_rb_u32(&r);
    int end = bfs_rb_u8(&r);
    if (!bfs_rb_done(&r))
        return -EPROTO;
    st->scanned += scanned;
    st->examined += examined;
    bfs_rb_init(&r, c->rdata, c->rdata_len);
    uint32_t clen = bfs_rb_u32(&r);
    if (r.err || clen > sizeof fsv->cursor)
        return -EPROTO;
    bfs_rb_bytes(&r, fsv->cursor, clen);
    fsv->cursor_len = clen;
    char path[BFS_PATH_MAX];
    for (uint32_t i = 0; i < count; i++) {
        struct bfs_inode ino;
        bfs_rb_str(&r, path, sizeof path);
        bfs_inode_get(&r, &ino);
        if (r.err)
            return -EPROTO;
        if (bfs_inode_check(&ino))
            return -EIO;
        benchfs_stat_t sb;
        ns_fill_stat(&ino, &sb);
        st->matched++;
        if (fn && fn(path, &sb, arg) != 0)
            return 1;
    }
    if (!bfs_rb_done(&r))
        return -EPROTO;
    /* A server that read nothing yet is not at its end would loop forever: it is broken. */
    if (!end && scanned == 0 && count == 0)
        return -EPROTO;
    fsv->done = end;
    return 0;
}

static int find_run(benchfs_t *fs, const char *dir, const struct bfs_find_filter *f,
                    const benchfs_find_spec_t *spec, uint32_t lo, uint32_t hi,
                    int (*fn)(const char *, const benchfs_stat_t *, void *), void *arg,
                    benchfs_find_stats_t *st)
{
    uint32_t n = hi - lo;
    struct find_server *sv = calloc(n ? n : 1, sizeof *sv);
    struct rpc *calls = calloc(n ? n : 1, sizeof *calls);
    uint32_t page = spec ? spec->page : 0, scan = spec ? spec->scan : 0;
    int err = 0, stop = 0;
    if (!sv || !calls) {
        err = bfs_fail(ENOMEM, "find %s", dir);
        stop = 1;
    }
    while (!stop) {
        size_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (sv[i].done)
                continue;
            struct bfs_wbuf w;
            bfs_wb_init(&w, sv[i].args, sizeof sv[i].args);
            bfs_wb_str(&w, dir);
            bfs_wb_u32(&w, page);
            bfs_wb_u32(&w, scan);
            bfs_wb_u32(&w, sv[i].cursor_len);
            bfs_wb_bytes(&w, sv[i].cursor, sv[i].cursor_len);
            bfs_find_filter_put(&w, f);
            calls[k++] = (struct rpc){.server = lo + i, .op = BFS_OP_FIND, .args = sv[i].args,
                                      .args_len = w.len};
        }
        if (k == 0)
            break;
        rpc_run(fs, calls, k);
        st->rpcs += k;
        for (size_t j = 0; j < k; j++) {
            struct rpc *c = &calls[j];
            struct find_server *fsv = &sv[c->server - lo];
            int rc = c->status ? -c->status : stop ? 0 : take_page(c, fsv, st, fn, arg);
            if (rc == 1) {
                stop = 1;
            } else if (rc < 0) {
                /* This server is given up; the others go on (every reachable match is
                 * reported), and the first error is what the call returns. */
                fsv->done = 1;
                if (!err)
                    err = bfs_fail(-rc, "find %s: server %u", dir, c->server);
            }
            rpc_release(c);
        }
    }
    free(sv);
    free(calls);
    return err;
}

BFS_API int benchfs_find(benchfs_t *fs, const char *dir, const benchfs_find_spec_t *spec,
                         int server_lo, int server_hi,
                         int (*fn)(const char *path, const benchfs_stat_t *st, void *arg),
                         void *arg, benchfs_find_stats_t *stats)
{
    char p[BFS_PATH_MAX];
    benchfs_find_stats_t st = {0};
    if (stats)
        *stats = st;
    ENTER(fs);
    struct bfs_find_filter *f = malloc(sizeof *f);
    if (!f)
        LEAVE(fs, bfs_fail(ENOMEM, "find"));
    int rc = -1;
    if (server_lo < 0 || server_hi < server_lo || (uint32_t)server_hi > fs->nservers) {
        bfs_fail(EINVAL, "find: server range [%d, %d) is not within [0, %u)", server_lo,
                 server_hi, fs->nservers);
    } else if (ns_normalize(dir, p) == 0 && spec_to_filter(spec, f) == 0) {
        /* links on the way are followed, the starting point itself is not (find -P) */
        struct ns_res *r = malloc(sizeof *r);
        int err = r ? ns_resolve(fs, p, 0, r) : -ENOMEM;
        if (err)
            bfs_fail(-err, "find %s", p);
        else
            rc = find_run(fs, r->path, f, spec, (uint32_t)server_lo, (uint32_t)server_hi, fn,
                          arg, &st);
        free(r);
    }
    free(f);
    if (stats)
        *stats = st;
    LEAVE(fs, rc);
}
