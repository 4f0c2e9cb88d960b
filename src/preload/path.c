/* SPDX-License-Identifier: BSD-3-Clause */
/* path.c — which paths are BenchFS's in libbenchfs-preload.so, and the working directory.
 * A path is BenchFS's when, made absolute (from the working directory or a directory
 * descriptor of ours), it is under the mount prefix and does not climb out of it with "..";
 * one that climbs out goes to the real file system by its lexically normalised name. The
 * kernel cannot change into a BenchFS directory, so chdir there keeps a virtual working
 * directory that relative paths, getcwd and realpath use. */
#include "preload.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

atomic_int pl_vcwd_on;
static char vcwd[PATH_MAX]; /* BenchFS path of the working directory when pl_vcwd_on */
static pthread_mutex_t vcwd_lock = PTHREAD_MUTEX_INITIALIZER;

/* The next component of a path at *p that is not "." (its start, and length: 0 at the end);
 * *p moves past it. */
static size_t next_name(const char **p, const char **start)
{
    for (;;) {
        while (**p == '/')
            (*p)++;
        *start = *p;
        while (**p && **p != '/')
            (*p)++;
        size_t n = (size_t)(*p - *start);
        if (!(n == 1 && (*start)[0] == '.'))
            return n;
    }
}

static int is_dotdot(const char *s, size_t n) { return n == 2 && s[0] == '.' && s[1] == '.'; }

/* Lexically normalise an absolute path into out ("//", ".", ".." resolved; no trailing '/'
 * but for "/"). out has room for n bytes; in must fit too. */
static void lex_normalize(const char *in, char *out)
{
    size_t len = 0, n;
    const char *p = in, *s;
    while ((n = next_name(&p, &s)) != 0) {
        if (is_dotdot(s, n)) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the '/' before the dropped component */
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, s, n);
        len += n;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
}

/* Does rest (what follows the prefix) stay inside the prefix, component by component? */
static int stays_inside(const char *rest)
{
    long depth = 0;
    size_t n;
    const char *p = rest, *s;
    while ((n = next_name(&p, &s)) != 0) {
        if (is_dotdot(s, n)) {
            if (--depth < 0)
                return 0;
        } else {
            depth++;
        }
    }
    return 1;
}

static int under_prefix(const char *p)
{
    return strncmp(p, pl_prefix, pl_prefix_len) == 0 &&
           (p[pl_prefix_len] == '/' || p[pl_prefix_len] == '\0');
}

static enum pl_where to_bfs(const char *rest, struct pl_path *out)
{
    size_t n = strlen(rest);
    if (n + 2 > sizeof out->bfs) {
        errno = ENAMETOOLONG;
        return PL_ERROR;
    }
    if (rest[0] == '/') {
        memcpy(out->bfs, rest, n + 1);
    } else {
        out->bfs[0] = '/';
        memcpy(out->bfs + 1, rest, n + 1);
    }
    return PL_BENCHFS;
}

enum pl_where pl_map(int dirfd, const char *path, struct pl_path *out)
{
    char full[2 * PATH_MAX + 2];
    int joined = 0;
    out->real = path;
    if (!pl_prefix_len)
        pl_configure();
    if (path[0] != '/') {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            pthread_mutex_lock(&vcwd_lock);
            int on = atomic_load(&pl_vcwd_on);
            if (on)
                strcpy(base, vcwd);
            pthread_mutex_unlock(&vcwd_lock);
            if (!on)
                return PL_LIBC;
        } else if (dirfd >= 0 && dirfd < PL_MAX_FDS && atomic_load(&pl_anc[dirfd])) {
            size_t n = atomic_load(&pl_anc[dirfd]);
            memcpy(base, pl_prefix, n);
            base[n] = '\0';
            if (path[0] == '\0') {
                errno = ENOENT;
                return PL_ERROR;
            }
            int m = snprintf(full, sizeof full, "%s/%s", base, path);
            if (m < 0 || (size_t)m >= PATH_MAX) {
                errno = ENAMETOOLONG;
                return PL_ERROR;
            }
            /* Only what reaches into the prefix is ours; the rest stays relative to dirfd. */
            char norm[PATH_MAX];
            lex_normalize(full, norm);
            if (!under_prefix(norm))
                return PL_LIBC;
            return to_bfs(norm + pl_prefix_len, out);
        } else {
            struct pl_file *f = pl_file(dirfd);
            if (!f)
                return PL_LIBC;
            int d = pl_is_dir(f);
            if (d <= 0) {
                if (d == 0)
                    errno = ENOTDIR;
                return PL_ERROR;
            }
            strcpy(base, f->path);
        }
        if (path[0] == '\0') {
            errno = ENOENT;
            return PL_ERROR;
        }
        int n = snprintf(full, sizeof full, "%s%s/%s", pl_prefix, base, path);
        if (n < 0 || (size_t)n >= PATH_MAX) {
            errno = ENAMETOOLONG;
            return PL_ERROR;
        }
        joined = 1;
    } else {
        size_t n = strlen(path);
        if (n >= PATH_MAX) {
            errno = ENAMETOOLONG;
            return PL_ERROR;
        }
        memcpy(full, path, n + 1);
    }
    if (under_prefix(full) && stays_inside(full + pl_prefix_len))
        return to_bfs(full + pl_prefix_len, out);
    char norm[PATH_MAX];
    lex_normalize(full, norm);
    if (under_prefix(norm))
        return to_bfs(norm + pl_prefix_len, out);
    if (joined || under_prefix(full)) {
        strcpy(out->realbuf, norm);
        out->real = out->realbuf;
    }
    return PL_LIBC;
}

_Atomic unsigned short pl_anc[PL_MAX_FDS];

void pl_note_dir(int fd, const char *path, int flags)
{
    if (fd < 0 || fd >= PL_MAX_FDS || !(flags & (O_DIRECTORY | O_PATH)) || path[0] != '/')
        return;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (!pl_prefix_len)
        pl_configure();
    if (n < pl_prefix_len && strncmp(path, pl_prefix, n) == 0 &&
        (n == 1 || pl_prefix[n] == '/'))
        atomic_store(&pl_anc[fd], (unsigned short)n);
}

/* ---- working directory ---- */

static int set_vcwd(const char *bfs)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    benchfs_stat_t st;
    if (benchfs_stat(fs, bfs, &st) != 0) {
        char real[PATH_MAX];
        return pl_outside(bfs, real) ? chdir(real) : -1;
    }
    if (!S_ISDIR(st.mode))
        return pl_err(ENOTDIR);
    if (benchfs_access(fs, bfs, X_OK) != 0)
        return -1;
    char norm[PATH_MAX];
    lex_normalize(bfs, norm);
    pl_vcwd_set(norm);
    return 0;
}

void pl_vcwd_set(const char *bfs)
{
    pthread_mutex_lock(&vcwd_lock);
    if (bfs) {
        snprintf(vcwd, sizeof vcwd, "%s", bfs);
        atomic_store(&pl_vcwd_on, 1);
    } else {
        atomic_store(&pl_vcwd_on, 0);
    }
    pthread_mutex_unlock(&vcwd_lock);
    pl_exec_cwd_changed();
}

int pl_vcwd_get(char *out, size_t size)
{
    pthread_mutex_lock(&vcwd_lock);
    int on = atomic_load(&pl_vcwd_on);
    if (on)
        snprintf(out, size, "%s", vcwd);
    pthread_mutex_unlock(&vcwd_lock);
    return on;
}

PL_API int chdir(const char *path)
{
    struct pl_path pp;
    PL_PATH(path, &pp, ({
                int r_ = REAL(chdir)(path);
                if (r_ == 0 && atomic_load(&pl_vcwd_on))
                    pl_vcwd_set(NULL);
                r_;
            }));
    return set_vcwd(pp.bfs);
}

PL_API int fchdir(int fd)
{
    struct pl_file *f = pl_file(fd);
    if (!f) {
        int r = REAL(fchdir)(fd);
        if (r == 0 && atomic_load(&pl_vcwd_on))
            pl_vcwd_set(NULL);
        return r;
    }
    int d = pl_is_dir(f);
    if (d <= 0)
        return d == 0 ? pl_err(ENOTDIR) : -1;
    return set_vcwd(f->path);
}

/* The working directory as programs see it, into buf (size bytes), or ERANGE. */
static int vcwd_string(char *buf, size_t size)
{
    pthread_mutex_lock(&vcwd_lock);
    int n = snprintf(buf, size, "%s%s", pl_prefix, strcmp(vcwd, "/") == 0 ? "" : vcwd);
    pthread_mutex_unlock(&vcwd_lock);
    if (n < 0 || (size_t)n >= size)
        return pl_err(ERANGE);
    return 0;
}

PL_API char *getcwd(char *buf, size_t size)
{
    if (!atomic_load_explicit(&pl_vcwd_on, memory_order_relaxed))
        return REAL(getcwd)(buf, size);
    if (buf && size == 0) {
        errno = EINVAL;
        return NULL;
    }
    char tmp[PATH_MAX];
    if (vcwd_string(tmp, sizeof tmp) != 0)
        return NULL;
    size_t need = strlen(tmp) + 1;
    if (!buf) {
        buf = malloc(size > need ? size : need);
        if (!buf)
            return NULL;
    } else if (size < need) {
        errno = ERANGE;
        return NULL;
    }
    memcpy(buf, tmp, need);
    return buf;
}

PL_API char *get_current_dir_name(void)
{
    if (!atomic_load_explicit(&pl_vcwd_on, memory_order_relaxed))
        return REAL(get_current_dir_name)();
    return getcwd(NULL, 0);
}

PL_API char *__getcwd_chk(char *buf, size_t size, size_t buflen)
{
    if (size > buflen)
        abort(); /* as glibc's __chk_fail: the caller's buffer is smaller than it said */
    return getcwd(buf, size);
}

/* ---- realpath ---- */

/* Resolve the BenchFS path in (links followed, as realpath does) into out, as programs see
 * it (with the prefix). A link that leaves BenchFS: with left NULL the rest goes to libc's
 * realpath; else *left is set and out is the real path that the link leads to. */
static char *resolve(const char *in, char *out, int *left)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return NULL;
    char rest[PATH_MAX], done[PATH_MAX] = "", cand[PATH_MAX], target[PATH_MAX];
    snprintf(rest, sizeof rest, "%s", in);
    size_t dlen = 0;
    for (int hops = 0; rest[0];) {
        char *p = rest;
        while (*p == '/')
            p++;
        char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        char next[PATH_MAX];
        snprintf(next, sizeof next, "%s", p); /* what is left after this component */
        if (n == 0 || (n == 1 && s[0] == '.')) {
            memmove(rest, next, strlen(next) + 1);
            continue;
        }
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (dlen > 0 && done[dlen - 1] != '/')
                dlen--;
            if (dlen > 0)
                dlen--;
            done[dlen] = '\0';
            memmove(rest, next, strlen(next) + 1);
            continue;
        }
        if (dlen + 1 + n >= sizeof cand) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        memcpy(cand, done, dlen);
        cand[dlen] = '/';
        memcpy(cand + dlen + 1, s, n);
        cand[dlen + 1 + n] = '\0';
        benchfs_stat_t st;
        if (benchfs_lstat(fs, cand, &st) != 0)
            return NULL;
        if (S_ISLNK(st.mode)) {
            if (++hops > 40) {
                errno = ELOOP;
                return NULL;
            }
            ssize_t t = benchfs_readlink(fs, cand, target, sizeof target - 1);
            if (t < 0)
                return NULL;
            target[t] = '\0';
            char joined[2 * PATH_MAX + 2];
            int m = snprintf(joined, sizeof joined, "%s%s", target, next);
            if (m < 0 || (size_t)m >= PATH_MAX) {
                errno = ENAMETOOLONG;
                return NULL;
            }
            if (target[0] == '/') {
                if (!under_prefix(joined)) { /* leaves BenchFS: the real file system's turn */
                    if (!left)
                        return REAL(realpath)(joined, out);
                    *left = 1;
                    memcpy(out, joined, (size_t)m + 1);
                    return out;
                }
                dlen = 0;
                done[0] = '\0';
                memmove(rest, joined + pl_prefix_len, strlen(joined + pl_prefix_len) + 1);
            } else {
                memcpy(rest, joined, (size_t)m + 1);
            }
            continue;
        }
        if (!S_ISDIR(st.mode) && next[strspn(next, "/")] != '\0') {
            errno = ENOTDIR;
            return NULL;
        }
        memcpy(done, cand, dlen + 1 + n + 1);
        dlen += 1 + n;
        memmove(rest, next, strlen(next) + 1);
    }
    char res[PATH_MAX];
    int m = snprintf(res, sizeof res, "%s%s", pl_prefix, done);
    if (m < 0 || (size_t)m >= sizeof res) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    if (!out)
        return strdup(res);
    memcpy(out, res, (size_t)m + 1);
    return out;
}

PL_API char *realpath(const char *path, char *resolved)
{
    if (!path) {
        errno = EINVAL;
        return NULL;
    }
    if (!pl_maybe(AT_FDCWD, path))
        return REAL(realpath)(path, resolved);
    struct pl_path pp;
    enum pl_where w = pl_map(AT_FDCWD, path, &pp);
    if (w == PL_ERROR)
        return NULL;
    if (w == PL_LIBC)
        return REAL(realpath)(pp.real, resolved);
    return resolve(pp.bfs, resolved, NULL);
}

int pl_outside(const char *bfs, char *real)
{
    int e = errno, left = 0;
    if (e != EXDEV)
        return 0;
    if (!resolve(bfs, real, &left) || !left) {
        errno = e;
        return 0;
    }
    return 1;
}

PL_API char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
    if (resolved && resolvedlen < PATH_MAX)
        abort();
    return realpath(path, resolved);
}

PL_API char *canonicalize_file_name(const char *path)
{
    return realpath(path, NULL);
}
