/* SPDX-License-Identifier: BSD-3-Clause */
/* test_buf_pool — the server's I/O buffer pool: size classes, alignment, reuse, and the bound
 * on what stays cached. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "server/buf_pool.h"

int main(void)
{
    struct buf_pool p;
    buf_pool_init(&p, 3u << 20); /* room for three idle 1 MiB buffers */
    size_t cap = 0;

    /* Classes: the smallest power of two >= len, at least 4 KiB; page aligned; writable. */
    void *a = buf_pool_get(&p, 1, &cap);
    CHECK(a != NULL && cap == 4096 && ((uintptr_t)a & 4095) == 0);
    buf_pool_put(&p, a, cap);
    void *b = buf_pool_get(&p, (1u << 20) + 1, &cap);
    CHECK(b != NULL && cap == (2u << 20) && ((uintptr_t)b & 4095) == 0);
    memset(b, 0xab, cap);
    buf_pool_put(&p, b, cap);
    CHECK(buf_pool_get(&p, 0, &cap) == NULL);
    CHECK(buf_pool_get(&p, (64u << 20) + 1, &cap) == NULL);

    /* Reuse: a returned buffer of the class comes back (LIFO), other classes do not mix. */
    void *c = buf_pool_get(&p, 1u << 20, &cap);
    CHECK(cap == (1u << 20));
    buf_pool_put(&p, c, cap);
    void *d = buf_pool_get(&p, 700000, &cap);
    CHECK(d == c && cap == (1u << 20));
    void *e = buf_pool_get(&p, 4096, &cap);
    CHECK(e == a); /* the 4 KiB one, from its own list */
    buf_pool_put(&p, e, cap);
    CHECK(p.live == (1u << 20));

    /* The bound: with 4 KiB + 2 MiB cached, only one more 1 MiB buffer fits under 3 MiB. */
    void *m[3];
    size_t mc[3];
    for (int i = 0; i < 3; i++)
        m[i] = buf_pool_get(&p, 1u << 20, &mc[i]);
    CHECK(m[0] != NULL && m[1] != NULL && m[2] != NULL);
    buf_pool_put(&p, d, 1u << 20);
    for (int i = 0; i < 3; i++)
        buf_pool_put(&p, m[i], mc[i]);
    CHECK(p.cached <= p.max_cached);
    CHECK(p.live == 0);
    buf_pool_fini(&p);
    CHECK(p.cached == 0);
    return check_report("buf_pool");
}
