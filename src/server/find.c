/* SPDX-License-Identifier: BSD-3-Clause */
/* find.c — the FIND RPC: one server's share of a directory tree, filtered here.
 *
 * The namespace is spread over the servers by the hash of each path, so a find need not walk
 * directories: every server scans its own metadata store in key order, keeps the entries at
 * or below the directory that pass the filter (find_filter.h) and returns them a page at a
 * time with an opaque cursor (the key of the last record read). One call reads at most
 * BFS_FIND_SCAN records, so a find over millions of entries never holds the server's single
 * event loop for long: other clients' requests run between its pages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/find_filter.h"
#include "common/path.h"
#include "server.h"

/* The reply payload: u32 cursor length, cursor, then the matches. Bounded in bytes so its
 * buffer is small; a match that does not fit ends the page (and is read again next time). */
#define FIND_PAYLOAD_MAX (256u << 10)
#define FIND_HEAD_LEN (4 + BFS_FIND_CURSOR_MAX)

struct find_scan {
    const char *dir;
    const struct bfs_find_filter *filter;
    struct bfs_wbuf w; /* the matches, after room for the head */
    uint32_t max, count, examined;
};

static int visit(void *arg, const char *path, const char *name, const struct bfs_inode *ino)
{
    struct find_scan *f = arg;
    if (!bfs_path_is_within(path, f->dir))
        return 0;
    if (!bfs_find_match(f->filter, name, ino)) {
        f->examined++;
        return 0;
    }
    if (f->count >= f->max || f->w.cap - f->w.len < 2 + strlen(path) + BFS_INODE_WIRE_LEN)
        return 1; /* page full: this record starts the next one */
    f->examined++;
    bfs_wb_str(&f->w, path);
    bfs_inode_put(&f->w, ino);
    f->count++;
    return f->w.err ? -EIO : 0;
}

void op_find(struct srv_req *req, struct bfs_rbuf *r)
{
    char dir[BFS_PATH_MAX], norm[BFS_PATH_MAX];
    uint8_t after[BFS_FIND_CURSOR_MAX], last[BFS_FIND_CURSOR_MAX];
    struct bfs_find_filter *filter = malloc(sizeof *filter);
    char *buf = malloc(FIND_PAYLOAD_MAX);
    int err = filter && buf ? 0 : -ENOMEM;
    bfs_rb_str(r, dir, sizeof dir);
    uint32_t max = bfs_rb_u32(r);
    uint32_t scan = bfs_rb_u32(r);
    uint32_t after_len = bfs_rb_u32(r);
    if (!r->err && after_len > sizeof after)
        err = err ? err : -EINVAL;
    else
        bfs_rb_bytes(r, after, after_len);
    if (!err && filter) {
        int ferr = bfs_find_filter_get(r, filter);
        if (ferr == -EPROTO || r->err || !bfs_rb_done(r))
            err = -EPROTO;
        else
            err = ferr;
    }
    /* Paths arrive normalised: they were hashed in that form (handler_get_path). */
    if (!err && (bfs_path_normalize(dir, norm) != 0 || strcmp(norm, dir) != 0))
        err = -EINVAL;
    if (max == 0 || max > BFS_FIND_PAGE)
        max = BFS_FIND_PAGE;
    if (scan == 0 || scan > BFS_FIND_SCAN)
        scan = BFS_FIND_SCAN;
    struct find_scan f = {.dir = dir, .filter = filter, .max = max};
    size_t last_len = 0;
    int end = 0, scanned = 0;
    if (!err) {
        bfs_wb_init(&f.w, buf + FIND_HEAD_LEN, FIND_PAYLOAD_MAX - FIND_HEAD_LEN);
        scanned = meta_scan(req->srv->meta, after, after_len, scan, visit, &f, last, &last_len,
                            &end);
        if (scanned < 0)
            err = scanned;
    }
    free(filter);
    if (err) {
        free(buf);
        server_reply(req, -err, NULL, 0, NULL, 0);
        return;
    }
    /* The head goes right before the matches, so the payload is one contiguous buffer. */
    size_t head = 4 + last_len;
    char *start = buf + FIND_HEAD_LEN - head;
    struct bfs_wbuf hw;
    bfs_wb_init(&hw, start, head);
    bfs_wb_u32(&hw, (uint32_t)last_len);
    bfs_wb_bytes(&hw, last, last_len);
    req->io_buf = buf; /* freed with the request, after the reply is out */
    uint8_t args[16];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u32(&w, f.count);
    bfs_wb_u32(&w, (uint32_t)scanned);
    bfs_wb_u32(&w, f.examined);
    bfs_wb_u8(&w, (uint8_t)end);
    server_reply(req, 0, args, w.len, start, head + f.w.len);
}
