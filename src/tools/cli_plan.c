/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_plan.c — what a copy does, decided before any byte moves: the tree walk (one process
 * walks, so directories are created once and in order), the flat encoding that carries the
 * plan to the other MPI ranks, and the cut of files into pieces balanced over the ranks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/cli.h"

#define PLAN_PATH_MAX 8192

static int plan_push(struct cli_plan *p, const char *src, const char *dst, uint32_t mode,
                     uint64_t size)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        struct cli_item *v = realloc(p->items, cap * sizeof *v);
        if (!v)
            return -1;
        p->items = v;
        p->cap = cap;
    }
    struct cli_item *it = &p->items[p->n];
    memset(it, 0, sizeof *it);
    it->src = strdup(src);
    it->dst = strdup(dst);
    if (!it->src || !it->dst) {
        free(it->src);
        free(it->dst);
        return -1;
    }
    it->mode = mode;
    it->size = S_ISDIR(mode) ? 0 : size;
    p->n++;
    if (S_ISDIR(mode)) {
        p->ndirs++;
    } else {
        p->nfiles++;
        p->bytes += size;
    }
    return 0;
}

void plan_free(struct cli_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].src);
        free(p->items[i].dst);
    }
    free(p->items);
    memset(p, 0, sizeof *p);
}

struct names {
    char **v;
    size_t n, cap;
    int oom;
};

static int collect_name(const char *name, void *arg)
{
    struct names *ns = arg;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 64;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v) {
            ns->oom = 1;
            return 1;
        }
        ns->v = v;
        ns->cap = cap;
    }
    if (!(ns->v[ns->n] = strdup(name))) {
        ns->oom = 1;
        return 1;
    }
    ns->n++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directories on the way down, to refuse a symlink loop instead of recursing forever. */
struct ancestor {
    uint64_t dev, ino;
    const struct ancestor *up;
};

struct walk {
    struct cli_plan *p;
    const struct cli_side *from;
    const char *cmd;
    int errors;
};

static void walk(struct walk *w, const char *src, const char *dst, const struct cli_attr *a,
                 const struct ancestor *up)
{
    if (plan_push(w->p, src, dst, a->mode, a->size) != 0) {
        cli_err(w->cmd, "out of memory");
        w->errors++;
        return;
    }
    if (!S_ISDIR(a->mode))
        return;
    for (const struct ancestor *u = up; u && w->from->kind == SIDE_LOCAL; u = u->up) {
        if (u->dev == a->dev && u->ino == a->ino) {
            cli_err(w->cmd, "%s: directory loop (a symbolic link to a parent), skipped", src);
            w->errors++;
            return;
        }
    }
    struct ancestor me = {a->dev, a->ino, up};
    struct names ns = {0};
    if (side_list(w->from, src, collect_name, &ns) != 0 || ns.oom) {
        if (ns.oom)
            cli_err(w->cmd, "out of memory");
        else
            side_err(w->from, w->cmd, src);
        w->errors++;
    }
    if (ns.n)
        qsort(ns.v, ns.n, sizeof *ns.v, name_cmp); /* a stable order, whatever readdir says */
    for (size_t i = 0; i < ns.n; i++) {
        char s2[PLAN_PATH_MAX], d2[PLAN_PATH_MAX];
        struct cli_attr ca;
        if (cli_join(s2, sizeof s2, src, ns.v[i]) != 0 ||
            cli_join(d2, sizeof d2, dst, ns.v[i]) != 0) {
            cli_err_sys(w->cmd, ns.v[i]);
            w->errors++;
        } else if (side_stat(w->from, s2, &ca) != 0) {
            side_err(w->from, w->cmd, s2);
            w->errors++;
        } else if (!S_ISDIR(ca.mode) && !S_ISREG(ca.mode)) {
            cli_err(w->cmd, "%s: not a regular file or directory, skipped", s2);
            w->errors++;
        } else {
            walk(w, s2, d2, &ca, &me);
        }
        free(ns.v[i]);
    }
    free(ns.v);
}

int plan_add(struct cli_plan *p, const struct cli_side *from, const char *cmd, const char *src,
             const char *dst, int recursive)
{
    struct cli_attr a;
    if (side_stat(from, src, &a) != 0) {
        side_err(from, cmd, src);
        return 1;
    }
    if (S_ISDIR(a.mode) && !recursive) {
        cli_err(cmd, "%s: is a directory (use -r to copy it)", src);
        return 1;
    }
    if (!S_ISDIR(a.mode) && !S_ISREG(a.mode)) {
        cli_err(cmd, "%s: not a regular file or directory", src);
        return 1;
    }
    struct walk w = {p, from, cmd, 0};
    walk(&w, src, dst, &a, NULL);
    return w.errors;
}

/* ---- flat encoding: u64 count, then per item u32 mode, u64 size, u32 len + src, u32 len +
 * dst (host byte order: all ranks of one job run the same binary on the same kind of node) */

static void put_bytes(uint8_t **q, const void *v, size_t n)
{
    memcpy(*q, v, n);
    *q += n;
}

int plan_encode(const struct cli_plan *p, uint8_t **buf, size_t *len)
{
    size_t total = 8;
    for (size_t i = 0; i < p->n; i++)
        total += 4 + 8 + 4 + strlen(p->items[i].src) + 4 + strlen(p->items[i].dst);
    uint8_t *b = malloc(total), *q = b;
    if (!b)
        return -1;
    uint64_t n = p->n;
    put_bytes(&q, &n, 8);
    for (size_t i = 0; i < p->n; i++) {
        const struct cli_item *it = &p->items[i];
        uint32_t sl = (uint32_t)strlen(it->src), dl = (uint32_t)strlen(it->dst);
        put_bytes(&q, &it->mode, 4);
        put_bytes(&q, &it->size, 8);
        put_bytes(&q, &sl, 4);
        put_bytes(&q, it->src, sl);
        put_bytes(&q, &dl, 4);
        put_bytes(&q, it->dst, dl);
    }
    *buf = b;
    *len = total;
    return 0;
}

static int get_bytes(const uint8_t **q, const uint8_t *end, void *v, size_t n)
{
    if ((size_t)(end - *q) < n)
        return -1;
    memcpy(v, *q, n);
    *q += n;
    return 0;
}

static int get_string(const uint8_t **q, const uint8_t *end, char *out, size_t cap)
{
    uint32_t l;
    if (get_bytes(q, end, &l, 4) != 0 || l >= cap || get_bytes(q, end, out, l) != 0)
        return -1;
    out[l] = '\0';
    return 0;
}

int plan_decode(struct cli_plan *p, const uint8_t *buf, size_t len)
{
    const uint8_t *q = buf, *end = buf + len;
    uint64_t n;
    if (get_bytes(&q, end, &n, 8) != 0)
        return -1;
    static char s[PLAN_PATH_MAX], d[PLAN_PATH_MAX];
    for (uint64_t i = 0; i < n; i++) {
        uint32_t mode;
        uint64_t size;
        if (get_bytes(&q, end, &mode, 4) || get_bytes(&q, end, &size, 8) ||
            get_string(&q, end, s, sizeof s) || get_string(&q, end, d, sizeof d) ||
            plan_push(p, s, d, mode, size))
            return -1;
    }
    return q == end ? 0 : -1;
}

/* ---- pieces and balance ---- */

/* Opening, creating and closing a file costs about as much as moving this many bytes; it
 * keeps a tree of many small files spread by count, not piled on one rank. */
#define PIECE_OVERHEAD (64u << 10)

struct load {
    uint64_t bytes;
    int rank;
};

static int load_less(const struct load *a, const struct load *b)
{
    return a->bytes < b->bytes || (a->bytes == b->bytes && a->rank < b->rank);
}

/* A binary min-heap of rank loads: the next piece goes to the least loaded rank. */
static void heap_down(struct load *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && load_less(&h[l], &h[m]))
            m = l;
        if (r < n && load_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct load t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static const struct cli_piece *sort_base;

static int by_weight_desc(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    uint64_t la = sort_base[ia].len, lb = sort_base[ib].len;
    if (la != lb)
        return la > lb ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

int plan_pieces(const struct cli_plan *p, int nranks, uint64_t split_size,
                struct cli_piece **out, size_t *npieces)
{
    size_t n = 0, cap = p->nfiles ? (size_t)p->nfiles : 1;
    struct cli_piece *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < p->n; i++) {
        const struct cli_item *it = &p->items[i];
        if (S_ISDIR(it->mode))
            continue;
        int split = nranks > 1 && split_size && it->size > split_size;
        uint64_t off = 0;
        do {
            if (n == cap) {
                cap *= 2;
                struct cli_piece *nv = realloc(v, cap * sizeof *nv);
                if (!nv) {
                    free(v);
                    return -1;
                }
                v = nv;
            }
            uint64_t len = split && it->size - off > split_size ? split_size : it->size - off;
            v[n++] = (struct cli_piece){i, off, len, 0, (uint8_t)split};
            off += len;
        } while (off < it->size);
    }
    /* Longest processing time first: biggest pieces to the least loaded rank; ties broken by
     * position, so every rank computes the same answer. */
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    struct load *heap = malloc((size_t)nranks * sizeof *heap);
    if (!order || !heap) {
        free(order);
        free(heap);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_base = v;
    qsort(order, n, sizeof *order, by_weight_desc);
    for (int r = 0; r < nranks; r++)
        heap[r] = (struct load){0, r};
    for (size_t k = 0; k < n; k++) {
        struct cli_piece *pc = &v[order[k]];
        pc->rank = heap[0].rank;
        heap[0].bytes += pc->len + PIECE_OVERHEAD;
        heap_down(heap, nranks, 0);
    }
    free(order);
    free(heap);
    *out = v;
    *npieces = n;
    return 0;
}
