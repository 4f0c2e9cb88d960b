/* SPDX-License-Identifier: BSD-3-Clause */
#include "buf_pool.h"

#include <string.h>
#include <sys/mman.h>

static int class_of(size_t len)
{
    int c = 0;
    while (((size_t)1 << (BUF_POOL_MIN_SHIFT + c)) < len)
        c++;
    return c;
}

void buf_pool_init(struct buf_pool *p, size_t max_cached)
{
    memset(p, 0, sizeof *p);
    p->max_cached = max_cached;
}

void *buf_pool_get(struct buf_pool *p, size_t len, size_t *cap)
{
    if (len == 0 || len > ((size_t)1 << BUF_POOL_MAX_SHIFT))
        return NULL;
    int c = class_of(len);
    size_t size = (size_t)1 << (BUF_POOL_MIN_SHIFT + c);
    void *b = p->free[c];
    if (b) {
        memcpy(&p->free[c], b, sizeof(void *));
        p->cached -= size;
    } else {
        /* MAP_POPULATE faults every page in at once, in the kernel, instead of one
         * exception per page during the first copy. */
        b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
        if (b == MAP_FAILED)
            return NULL;
    }
    p->live += size;
    *cap = size;
    return b;
}

void buf_pool_put(struct buf_pool *p, void *buf, size_t cap)
{
    if (!buf)
        return;
    p->live -= cap;
    if (p->cached + cap > p->max_cached) {
        munmap(buf, cap);
        return;
    }
    int c = class_of(cap);
    memcpy(buf, &p->free[c], sizeof(void *));
    p->free[c] = buf;
    p->cached += cap;
}

void buf_pool_fini(struct buf_pool *p)
{
    for (int c = 0; c < BUF_POOL_CLASSES; c++) {
        size_t size = (size_t)1 << (BUF_POOL_MIN_SHIFT + c);
        while (p->free[c]) {
            void *b = p->free[c];
            memcpy(&p->free[c], b, sizeof(void *));
            munmap(b, size);
        }
    }
    p->cached = 0;
}
