/* SPDX-License-Identifier: BSD-3-Clause */
/* resolve.c — from a path as a caller writes it to the entry it names, following symbolic
 * links in every component as the kernel does (POSIX path resolution, at most 40 links).
 *
 * Servers store entries under link-free paths only (every entry's parent is a directory), so
 * the common case costs what a lookup without links did: one LOOKUP of the whole path. When it
 * finds a link, the reply carries the target and resolution goes on from there; when it misses,
 * the proper prefixes of the path are looked up at once (one round trip) to find a link, a
 * non-directory or the missing component. A ".." goes up from what the prefix before it
 * resolved to (one LOOKUP each), so ".." after a link leaves the link's target, as POSIX says. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define REST_CAP (BFS_PATH_MAX + BFS_SYMLINK_MAX + 2)
#define MAX_LINK_HOPS 40

static void root_inode(struct bfs_inode *ino)
{
    /* The root is implicit: it exists on no server, and anyone in the job may use it. */
    memset(ino, 0, sizeof *ino);
    ino->mode = S_IFDIR | 0777;
    ino->nlink = 2;
}

int ns_lookup_decode(const struct rpc *c, struct bfs_inode *ino, char *target)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, c->rargs, c->rargs_len);
    bfs_inode_get(&r, ino);
    if (!bfs_rb_done(&r))
        return -EPROTO;
    if (bfs_inode_check(ino))
        return -EIO; /* no server stores such an inode: see namespace.c */
    if (!S_ISLNK(ino->mode))
        return c->rdata_len ? -EPROTO : 0;
    /* A link's target is the payload, exactly as long as the link's size says. */
    if (c->rdata_len != ino->size || !c->rdata ||
        bfs_symlink_target_check(c->rdata, c->rdata_len))
        return -EIO;
    if (target) {
        memcpy(target, c->rdata, c->rdata_len);
        target[c->rdata_len] = '\0';
    }
    return 0;
}

int ns_lookup_link(benchfs_t *fs, const char *path, struct bfs_inode *ino, char *target)
{
    if (strcmp(path, "/") == 0) {
        root_inode(ino);
        return 0;
    }
    uint8_t args[BFS_PATH_MAX + 8];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    if (w.err)
        return -ENAMETOOLONG;
    struct rpc c = {.server = (uint32_t)meta_owner(fs, path), .op = BFS_OP_LOOKUP,
                    .args = args, .args_len = w.len};
    int err = rpc_call(fs, &c);
    if (!err)
        err = ns_lookup_decode(&c, ino, target);
    rpc_release(&c);
    return err;
}

int ns_check_user_path(const char *in)
{
    if (!in)
        return bfs_fail(EINVAL, "path is NULL");
    if (!*in)
        return bfs_fail(ENOENT, "empty path");
    if (in[0] != '/')
        return bfs_fail(EINVAL, "path '%.200s' must be absolute", in);
    if (strnlen(in, BFS_PATH_MAX) >= BFS_PATH_MAX)
        return bfs_fail(ENAMETOOLONG, "path '%.64s...' is over %d bytes", in, BFS_PATH_MAX - 1);
    return 0;
}

/* out := dir + "/" + name, in cap bytes. */
static int join_name(const char *dir, const char *name, char *out, size_t cap)
{
    size_t dl = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
    if (dl + 1 + strlen(name) >= cap)
        return -ENAMETOOLONG;
    memcpy(out, dir, dl);
    out[dl] = '/';
    strcpy(out + dl + 1, name);
    return 0;
}

int ns_link_join(benchfs_t *fs, const char *dir, const char *target, char *out, size_t cap)
{
    if (target[0] == '/') {
        /* Absolute: a path as programs see it; BenchFS's part of it starts at the prefix. */
        char norm[BFS_PATH_MAX];
        int err = bfs_path_normalize(target, norm);
        if (err)
            return err;
        const char *rest = norm;
        if (fs->mount_prefix[0]) {
            if (!bfs_path_is_within(norm, fs->mount_prefix))
                return -EXDEV;
            rest = norm + strlen(fs->mount_prefix);
            if (!*rest)
                rest = "/";
        }
        if (strlen(rest) >= cap)
            return -ENAMETOOLONG;
        strcpy(out, rest);
        return 0;
    }
    return join_name(dir, target, out, cap);
}

/* One component of rest at *pos: its start and length (0 at the end); *pos moves past it. */
static size_t next_comp(const char *rest, size_t *pos, const char **start)
{
    size_t i = *pos;
    while (rest[i] == '/')
        i++;
    *start = rest + i;
    size_t n = 0;
    while (rest[i + n] && rest[i + n] != '/')
        n++;
    *pos = i + n;
    return n;
}

/* Is the component s[0..n) "." (dots 1) or ".." (dots 2)? */
static int is_dots(const char *s, size_t n, int dots)
{
    return n == (size_t)dots && !strncmp(s, "..", n);
}

/* rest := head + rest[from..]; fails if it would not fit. */
static int splice(char *rest, const char *head, size_t from)
{
    char tmp[REST_CAP];
    size_t hl = strlen(head), tl = strlen(rest + from);
    if (hl + tl + 2 > REST_CAP)
        return -ENAMETOOLONG;
    memcpy(tmp, head, hl);
    tmp[hl] = '/';
    memcpy(tmp + hl + 1, rest + from, tl + 1);
    memcpy(rest, tmp, hl + tl + 2);
    return 0;
}

/* Look up the proper prefixes cand[0..ends[j]) (j < k-1) at once; the first that is missing,
 * no directory, or a link decides. Returns 0 (all directories), a link's index via *link_at
 * (its target in target), or -errno. */
static int walk_prefixes(benchfs_t *fs, const char *cand, const size_t *ends, size_t k,
                         int *link_at, char *target)
{
    size_t n = k - 1;
    struct rpc *calls = calloc(n, sizeof *calls);
    uint8_t *args = malloc(n * (BFS_PATH_MAX + 8));
    int err = calls && args ? 0 : -ENOMEM;
    for (size_t j = 0; j < n && !err; j++) {
        char p[BFS_PATH_MAX];
        memcpy(p, cand, ends[j]);
        p[ends[j]] = '\0';
        struct bfs_wbuf w;
        bfs_wb_init(&w, args + j * (BFS_PATH_MAX + 8), BFS_PATH_MAX + 8);
        bfs_wb_str(&w, p);
        calls[j] = (struct rpc){.server = (uint32_t)meta_owner(fs, p), .op = BFS_OP_LOOKUP,
                                .args = w.p, .args_len = w.len};
    }
    *link_at = -1;
    if (!err) {
        rpc_run(fs, calls, n);
        for (size_t j = 0; j < n && !err && *link_at < 0; j++) {
            struct bfs_inode ino;
            err = -calls[j].status;
            if (!err)
                err = ns_lookup_decode(&calls[j], &ino, target);
            if (!err && S_ISLNK(ino.mode))
                *link_at = (int)j;
            else if (!err && !S_ISDIR(ino.mode))
                err = -ENOTDIR;
        }
    }
    for (size_t j = 0; calls && j < n; j++)
        rpc_release(&calls[j]);
    free(calls);
    free(args);
    return err;
}

/* with_data: the entry's own lookup is LOOKUP_DATA (open: small_file.c keeps the data). */
static int resolve(benchfs_t *fs, const char *in, int follow, int with_data, struct ns_res *res)
{
    res->hops = 0;
    res->missing = 0;
    res->target[0] = '\0';
    if (!in || !*in || in[0] != '/')
        return !in || *in ? -EINVAL : -ENOENT;
    if (strnlen(in, BFS_PATH_MAX) >= BFS_PATH_MAX)
        return -ENAMETOOLONG;
    size_t inlen = strlen(in);
    /* "dir/" names a directory: a link there is followed whatever the call. */
    if (inlen > 1 && in[inlen - 1] == '/')
        follow = 1;
    char rest[REST_CAP];
    strcpy(rest, in);
    size_t pos = 0;
    /* dir: what is resolved so far, an existing directory with no link in it ("" is "/"). */
    char dir[BFS_PATH_MAX] = "";
    struct bfs_inode dir_ino;
    int dir_ino_known = 1;
    root_inode(&dir_ino);
    for (;;) {
        /* The components up to the next ".." (or the end): one candidate path. */
        char cand[BFS_PATH_MAX];
        size_t ends[BFS_PATH_MAX / 2], k = 0, cl = strlen(dir);
        memcpy(cand, dir, cl + 1);
        int dotdot = 0;
        size_t after = pos; /* where the rest continues after the run (at its ".." if any) */
        for (;;) {
            const char *s;
            size_t p = after;
            size_t n = next_comp(rest, &p, &s);
            if (n == 0) {
                after = p;
                break;
            }
            if (is_dots(s, n, 2)) {
                dotdot = 1;
                break; /* after stays before the "..", consumed below */
            }
            after = p;
            if (is_dots(s, n, 1))
                continue;
            if (n > BFS_NAME_MAX)
                return -ENAMETOOLONG;
            if (cl + 1 + n >= BFS_PATH_MAX)
                return -ENAMETOOLONG;
            cand[cl++] = '/';
            memcpy(cand + cl, s, n);
            cl += n;
            cand[cl] = '\0';
            ends[k++] = cl;
        }
        if (k == 0) {
            if (dotdot) { /* up from an existing directory: its parent is one */
                const char *s;
                next_comp(rest, &after, &s);
                pos = after;
                char *slash = strrchr(dir, '/');
                if (slash)
                    *slash = '\0';
                dir_ino_known = dir[0] == '\0';
                if (dir_ino_known)
                    root_inode(&dir_ino);
                continue;
            }
            strcpy(res->path, dir[0] ? dir : "/");
            if (!dir_ino_known) {
                int err = ns_lookup_link(fs, res->path, &dir_ino, NULL);
                if (err)
                    return err == -ENOENT ? -ENOENT : err; /* removed meanwhile */
                if (!S_ISDIR(dir_ino.mode))
                    return -ENOTDIR;
            }
            res->ino = dir_ino;
            return 0;
        }
        int last = !dotdot;
        struct bfs_inode ino;
        char target[BFS_SYMLINK_MAX + 1];
        int err = last && with_data ? small_lookup(fs, cand, &ino, target)
                                    : ns_lookup_link(fs, cand, &ino, target);
        size_t link_end = 0; /* the link found ends at cand[link_end]; what follows it: */
        size_t follow_from = after;
        if (err == 0) {
            if (!S_ISLNK(ino.mode) || (last && !follow)) {
                if (last) {
                    strcpy(res->path, cand);
                    res->ino = ino;
                    if (S_ISLNK(ino.mode))
                        strcpy(res->target, target);
                    return 0;
                }
                if (!S_ISDIR(ino.mode))
                    return -ENOTDIR;
                strcpy(dir, cand);
                dir_ino = ino;
                dir_ino_known = 1;
                pos = after;
                continue;
            }
            link_end = ends[k - 1];
        } else if (err == -ENOENT || err == -ENOTDIR) {
            int link_at = -1;
            if (k > 1) {
                err = walk_prefixes(fs, cand, ends, k, &link_at, target);
                if (err)
                    return err;
            }
            if (link_at < 0) {
                /* Every directory on the way is there: the last name of the run is not. */
                if (!last)
                    return -ENOENT;
                strcpy(res->path, cand);
                res->missing = 1;
                return -ENOENT;
            }
            link_end = ends[link_at];
            /* What followed the link inside this run goes on after its target. */
            follow_from = pos;
            {
                /* skip the components of the run up to and including the link */
                const char *s;
                size_t skipped = 0;
                while (skipped <= (size_t)link_at) {
                    size_t n = next_comp(rest, &follow_from, &s);
                    if (!(n == 1 && s[0] == '.'))
                        skipped++;
                }
            }
        } else {
            return err;
        }
        /* Follow the link ending at cand[link_end]: its directory is resolved, the target
         * replaces it in what remains. */
        if (++res->hops > MAX_LINK_HOPS)
            return -ELOOP;
        cand[link_end] = '\0';
        char *slash = strrchr(cand, '/');
        *slash = '\0';
        strcpy(dir, cand);
        dir_ino_known = dir[0] == '\0';
        if (dir_ino_known)
            root_inode(&dir_ino);
        if (target[0] == '/') {
            char abs[BFS_PATH_MAX];
            err = ns_link_join(fs, "/", target, abs, sizeof abs);
            if (err)
                return err;
            dir[0] = '\0';
            dir_ino_known = 1;
            root_inode(&dir_ino);
            err = splice(rest, abs, follow_from);
        } else {
            err = splice(rest, target, follow_from);
        }
        if (err)
            return err;
        pos = 0;
    }
}

int ns_resolve(benchfs_t *fs, const char *in, int follow, struct ns_res *res)
{
    return resolve(fs, in, follow, 0, res);
}

int ns_resolve_open(benchfs_t *fs, const char *in, int follow, struct ns_res *res)
{
    return resolve(fs, in, follow, 1, res);
}

int ns_lexical_path(const char *buf, char *key)
{
    size_t o = 0;
    for (const char *s = buf; *s;) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return -1;
        if (n) {
            if (o + 1 + n >= BFS_PATH_MAX)
                return -1;
            key[o++] = '/';
            memcpy(key + o, s, n);
            o += n;
        }
        s = e;
    }
    key[o] = '\0';
    return o ? 0 : -1;
}

int ns_resolve_parent(benchfs_t *fs, const char *in, char *out, struct bfs_inode *pi)
{
    int err = ns_check_user_path(in);
    if (err)
        return -errno;
    char buf[BFS_PATH_MAX];
    strcpy(buf, in);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    char *slash = strrchr(buf, '/');
    const char *name = slash + 1;
    if (!strcmp(name, ".") || !strcmp(name, "..") || !*name) {
        /* "dir/." and "dir/..": the directory they name, found the way stat finds it. */
        struct ns_res *r = malloc(sizeof *r);
        if (!r)
            return -ENOMEM;
        err = ns_resolve(fs, in, 1, r);
        if (!err)
            strcpy(out, r->path);
        free(r);
        if (err)
            return err;
        if (strcmp(out, "/") == 0) {
            root_inode(pi);
            return 0;
        }
        char parent[BFS_PATH_MAX];
        bfs_path_split(out, parent);
        return ns_lookup_link(fs, parent, pi, NULL);
    }
    if (strlen(name) > BFS_NAME_MAX)
        return -ENAMETOOLONG;
    char name_copy[BFS_NAME_MAX + 1];
    strcpy(name_copy, name);
    slash[1] = '\0'; /* buf: the parent, "/"-terminated */
    char key[BFS_PATH_MAX];
    if (fs->dircache_ms > 0 && ns_lexical_path(buf, key) == 0 && dircache_get(fs, key, pi) == 0)
        return join_name(key, name_copy, out, BFS_PATH_MAX);
    struct ns_res *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    err = ns_resolve(fs, buf, 1, r);
    if (!err && !S_ISDIR(r->ino.mode))
        err = -ENOTDIR;
    if (!err) {
        *pi = r->ino;
        dircache_put(fs, r->path, &r->ino); /* resolved: link-free, a directory */
        err = join_name(r->path, name_copy, out, BFS_PATH_MAX);
    }
    free(r);
    return err;
}
