/* SPDX-License-Identifier: BSD-3-Clause */
#include "wire.h"

#include <errno.h>
#include <string.h>

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void bfs_frame_encode(const struct bfs_frame *f, uint8_t *out)
{
    put_le(out + 0, f->magic, 4);
    put_le(out + 4, f->version, 2);
    put_le(out + 6, f->opcode, 2);
    put_le(out + 8, f->reqid, 8);
    put_le(out + 16, (uint32_t)f->status, 4);
    put_le(out + 20, f->args_len, 4);
    put_le(out + 24, f->data_len, 8);
    memcpy(out + 32, f->key, BFS_KEY_LEN);
}

void bfs_frame_lengths(const void *hdr, uint32_t *args_len, uint64_t *data_len)
{
    *args_len = (uint32_t)get_le((const uint8_t *)hdr + 20, 4);
    *data_len = get_le((const uint8_t *)hdr + 24, 8);
}

int bfs_frame_decode(const void *buf, size_t len, size_t data_len, uint32_t max_opcode,
                     struct bfs_frame *f)
{
    const uint8_t *p = buf;
    if (buf == NULL || len < BFS_HDR_LEN)
        return -EPROTO;
    f->magic = (uint32_t)get_le(p + 0, 4);
    f->version = (uint16_t)get_le(p + 4, 2);
    f->opcode = (uint16_t)get_le(p + 6, 2);
    f->reqid = get_le(p + 8, 8);
    f->status = (int32_t)(uint32_t)get_le(p + 16, 4);
    bfs_frame_lengths(p, &f->args_len, &f->data_len);
    memcpy(f->key, p + 32, BFS_KEY_LEN);
    if (f->magic != BFS_MAGIC)
        return -EPROTO;
    if (f->version != BFS_WIRE_VERSION)
        return -EPROTONOSUPPORT;
    if (f->args_len > BFS_MAX_ARGS || f->args_len != len - BFS_HDR_LEN)
        return -EPROTO;
    if (f->data_len > BFS_MAX_DATA || f->data_len != data_len)
        return -EPROTO;
    if (f->opcode == 0 || f->opcode >= max_opcode)
        return -EBADMSG;
    return 0;
}

void bfs_wb_init(struct bfs_wbuf *w, void *buf, size_t cap)
{
    w->p = buf;
    w->len = 0;
    w->cap = cap;
    w->err = 0;
}

void bfs_wb_bytes(struct bfs_wbuf *w, const void *p, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = 1;
        return;
    }
    if (n)
        memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void wb_le(struct bfs_wbuf *w, uint64_t v, int n)
{
    uint8_t b[8];
    put_le(b, v, n);
    bfs_wb_bytes(w, b, (size_t)n);
}

void bfs_wb_u8(struct bfs_wbuf *w, uint8_t v) { wb_le(w, v, 1); }
void bfs_wb_u32(struct bfs_wbuf *w, uint32_t v) { wb_le(w, v, 4); }
void bfs_wb_u64(struct bfs_wbuf *w, uint64_t v) { wb_le(w, v, 8); }

void bfs_wb_str(struct bfs_wbuf *w, const char *s)
{
    size_t n = strlen(s);
    if (n > 0xffff) {
        w->err = 1;
        return;
    }
    wb_le(w, n, 2);
    bfs_wb_bytes(w, s, n);
}

void bfs_rb_init(struct bfs_rbuf *r, const void *buf, size_t len)
{
    r->p = buf;
    r->len = buf ? len : 0;
    r->off = 0;
    r->err = 0;
}

void bfs_rb_bytes(struct bfs_rbuf *r, void *out, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = 1;
        if (n)
            memset(out, 0, n);
        return;
    }
    if (n) /* p may be NULL when len is 0: memcpy(NULL) is undefined even for 0 bytes */
        memcpy(out, r->p + r->off, n);
    r->off += n;
}

static uint64_t rb_le(struct bfs_rbuf *r, int n)
{
    uint8_t b[8];
    bfs_rb_bytes(r, b, (size_t)n);
    return get_le(b, n);
}

uint8_t bfs_rb_u8(struct bfs_rbuf *r) { return (uint8_t)rb_le(r, 1); }
uint32_t bfs_rb_u32(struct bfs_rbuf *r) { return (uint32_t)rb_le(r, 4); }
uint64_t bfs_rb_u64(struct bfs_rbuf *r) { return rb_le(r, 8); }

size_t bfs_rb_str(struct bfs_rbuf *r, char *out, size_t cap)
{
    size_t n = (size_t)rb_le(r, 2);
    if (r->err || cap == 0 || n >= cap || n > r->len - r->off ||
        memchr(r->p + r->off, '\0', n) != NULL) {
        r->err = 1;
        if (cap)
            out[0] = '\0';
        return 0;
    }
    memcpy(out, r->p + r->off, n);
    out[n] = '\0';
    r->off += n;
    return n;
}

int bfs_rb_done(const struct bfs_rbuf *r) { return !r->err && r->off == r->len; }
