/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_build.c — the frames of the frame fuzzer (test_fuzz_frames.c): every request is first
 * built valid, op by op, from fields that make sense for the small namespace the test sets
 * up (/fz), each field recorded with its kind, so that the mutations can then aim at a field
 * (edge values, random bits, lying string lengths, odd chunk sizes and modes) as well as at
 * bytes, lengths, opcode, key, version, magic and payload. */
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/path.h"
#include "common/proto.h"
#include "fuzz_frames.h"

uint8_t *g_payload;
uint8_t g_enc[BFS_HDR_LEN + BFS_MAX_ARGS + 8192];
unsigned long g_mutated;

int chance(unsigned pct) { return rp_rnd_below(100) < pct; }

static void put(struct gframe *g, uint64_t v, int size, int kind)
{
    if (g->alen + (size_t)size > sizeof g->args)
        return;
    if (g->nf < (int)(sizeof g->flds / sizeof g->flds[0]))
        g->flds[g->nf++] = (struct fld){(uint16_t)g->alen, (uint8_t)size, (uint8_t)kind};
    for (int i = 0; i < size; i++)
        g->args[g->alen++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes_str(struct gframe *g, const char *s, size_t n)
{
    if (g->alen + 2 + n > sizeof g->args)
        n = sizeof g->args - g->alen - 2;
    put(g, n, 2, F_STRLEN);
    memcpy(g->args + g->alen, s, n);
    g->alen += n;
}

uint64_t g_fileids[8];
uint32_t g_chunks[8];
int g_nfiles;
uint32_t g_uid, g_gid;

static const char *const g_names[] = {"f1", "f2", "d1", "d2", "n0", "n1", "n2", "n3", "x"};

/* A path: mostly valid and under /fz; sometimes not normalised or oversized. */
static void put_path(struct gframe *g, int may_be_root)
{
    char buf[BFS_PATH_MAX + 64];
    if (chance(12)) {
        static const char *const weird[] = {
            "", "/", "//", "/fz/", "/fz//f1", "/fz/./f1", "/fz/../fz/f1", "/fz/..", "/..",
            "/.", "fz/f1", "../../../../etc/passwd", "/../../../tmp/fuzz-escape",
            "/fz/d1/../../..", " /fz", "/fz/\x01\x02", "/fz/f1/", "/fz/a\\b", "/fz/\xff\xfe",
            "/fz/d1/./", "/./", "/fz/%s", "/fz/\n"};
        int k = (int)rp_rnd_below(sizeof weird / sizeof weird[0] + 5);
        size_t n;
        if (k < (int)(sizeof weird / sizeof weird[0])) {
            n = strlen(weird[k]);
            memcpy(buf, weird[k], n);
        } else if (k == (int)(sizeof weird / sizeof weird[0])) { /* a NUL inside */
            memcpy(buf, "/fz/a\0b", 7);
            n = 7;
        } else if (k == (int)(sizeof weird / sizeof weird[0]) + 1) { /* 255 / 256 bytes */
            size_t nl = BFS_NAME_MAX + rp_rnd_below(2);
            memcpy(buf, "/fz/", 4);
            memset(buf + 4, 'N', nl);
            n = 4 + nl;
        } else if (k == (int)(sizeof weird / sizeof weird[0]) + 2) { /* about BFS_PATH_MAX */
            n = BFS_PATH_MAX - 2 + rp_rnd_below(5);
            for (size_t i = 0; i < n; i++)
                buf[i] = i % 64 == 0 ? '/' : 'p';
        } else if (k == (int)(sizeof weird / sizeof weird[0]) + 3) { /* deep */
            n = 0;
            for (int d = 0; d < 40 && n < 300; d++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "/d%d", d);
        } else { /* random bytes after /fz/ */
            memcpy(buf, "/fz/", 4);
            n = 4 + rp_rnd_below(20);
            for (size_t i = 4; i < n; i++)
                buf[i] = (char)rp_rnd();
        }
        put_bytes_str(g, buf, n);
        return;
    }
    int depth = (int)rp_rnd_below(3);
    if (depth == 0 && may_be_root && chance(30)) {
        put_bytes_str(g, "/fz", 3);
        return;
    }
    size_t n = (size_t)snprintf(buf, sizeof buf, "/fz");
    for (int d = 0; d <= depth && d < 2; d++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "/%s",
                              g_names[rp_rnd_below(sizeof g_names / sizeof g_names[0])]);
    put_bytes_str(g, buf, n);
}

static uint32_t pick_cs(void)
{
    static const uint32_t cs[] = {4096, 65536, 1u << 20, 4u << 20};
    if (g_nfiles && chance(60))
        return g_chunks[rp_rnd_below((uint64_t)g_nfiles)];
    return cs[rp_rnd_below(4)];
}

static uint64_t pick_fileid(void)
{
    if (g_nfiles && chance(60))
        return g_fileids[rp_rnd_below((uint64_t)g_nfiles)];
    return chance(50) ? 0xf0220000ull + rp_rnd_below(16) : rp_rnd();
}

static uint32_t pick_mode(int dir)
{
    static const uint32_t perm[] = {0644, 0755, 0600, 0777, 0};
    return (dir ? S_IFDIR : chance(80) ? S_IFREG : 0) | perm[rp_rnd_below(5)];
}

static void put_inode(struct gframe *g)
{
    int dir = chance(30);
    uint32_t cs = pick_cs();
    put(g, pick_fileid(), 8, F_FILEID);
    put(g, dir ? 0 : rp_rnd_below(4) * cs + rp_rnd_below(cs), 8, F_NUM);
    put(g, pick_mode(dir), 4, F_MODE);
    put(g, g_uid, 4, F_NUM);
    put(g, g_gid, 4, F_NUM);
    put(g, dir ? 0 : cs, 4, F_CS);
    put(g, 1 + rp_rnd_below(2), 4, F_NUM);
    int64_t now = (int64_t)time(NULL) * 1000000000ll;
    put(g, (uint64_t)now, 8, F_NUM);
    put(g, (uint64_t)now, 8, F_NUM);
    put(g, (uint64_t)now, 8, F_NUM);
    put(g, chance(10) ? UINT64_MAX : rp_rnd_below(8) * cs, 8, F_NUM); /* extent (or unknown) */
    put(g, chance(80) ? 0 : rp_rnd_below(4), 4, F_NUM); /* flags: INLINE / MOVING (refused) */
}

/* Offsets / lengths of a chunk range: valid for chunk size cs. */
static void put_range(struct gframe *g, uint32_t cs, int with_len, uint64_t *len_out)
{
    uint64_t off = chance(50) ? 0 : rp_rnd_below(cs);
    uint64_t len = 1 + rp_rnd_below(cs - off < 65536 ? cs - off : 65536);
    put(g, rp_rnd_below(4), 8, F_NUM); /* chunk index */
    put(g, off, 8, F_NUM);
    if (with_len)
        put(g, len, 8, F_NUM);
    *len_out = len;
}

void build(struct gframe *g, struct rp_peer *p, int op)
{
    rp_header(p, &g->f, op, g_next_reqid++);
    g->alen = 0;
    g->nf = 0;
    g->dlen = 0;
    g->lie = 0;
    g->with_reply = 1;
    g->ucx_flags = 0;
    uint32_t cs;
    uint64_t len;
    switch (op) {
    case BFS_OP_MKDIR:
    case BFS_OP_CREATE:
        put_path(g, 0);
        put(g, pick_mode(op == BFS_OP_MKDIR), 4, F_MODE);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        if (op == BFS_OP_CREATE) {
            put(g, pick_cs(), 4, F_CS);
            put(g, rp_rnd_below(4), 4, F_NUM); /* EXCL, INLINE */
        }
        break;
    case BFS_OP_LOOKUP: put_path(g, 1); break;
    case BFS_OP_SETATTR:
        put_path(g, 1);
        put(g, rp_rnd_below(16), 4, F_NUM);
        put(g, pick_mode(chance(30)), 4, F_MODE);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        put(g, (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        put(g, (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM); /* atime */
        break;
    case BFS_OP_SYMLINK: {
        /* Targets are stored, never followed by a server: escaping ones included. */
        static const char *const targets[] = {"f1", "../d1", "/fz/f2", "n0", "/etc/passwd",
                                              "../../../../tmp/fuzz-escape", "."};
        put_path(g, 0);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        const char *t = targets[rp_rnd_below(sizeof targets / sizeof targets[0])];
        put_bytes_str(g, t, strlen(t));
        break;
    }
    case BFS_OP_SIZE_UPDATE:
        put_path(g, 0);
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, rp_rnd_below(1u << 22), 8, F_NUM);
        put(g, rp_rnd_below(2), 4, F_NUM);
        put(g, chance(50) ? 0 : (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        break;
    case BFS_OP_REMOVE:
        put_path(g, 0);
        put(g, 1 + rp_rnd_below(2), 4, F_NUM);
        put(g, chance(70) ? 0 : pick_fileid(), 8, F_FILEID);
        break;
    case BFS_OP_READDIR:
    case BFS_OP_READDIRPLUS:
    case BFS_OP_SUBTREE:
        put_path(g, 1);
        put(g, rp_rnd_below(300), 4, F_NUM);
        if (op != BFS_OP_SUBTREE || chance(50)) {
            const char *a = chance(50) ? "" : g_names[rp_rnd_below(9)];
            put_bytes_str(g, a, strlen(a));
        } else {
            put_path(g, 0);
        }
        break;
    case BFS_OP_META_PUT:
        put_path(g, 0);
        if (chance(15)) { /* a link, with its target after the flags */
            static const char t[] = "f1";
            int64_t now = (int64_t)time(NULL) * 1000000000ll;
            put(g, pick_fileid(), 8, F_FILEID);
            put(g, sizeof t - 1, 8, F_NUM);
            put(g, S_IFLNK | 0777, 4, F_MODE);
            put(g, g_uid, 4, F_NUM);
            put(g, g_gid, 4, F_NUM);
            put(g, 0, 4, F_CS);
            put(g, 1, 4, F_NUM);
            for (int i = 0; i < 3; i++)
                put(g, (uint64_t)now, 8, F_NUM);
            put(g, rp_rnd_below(2), 4, F_NUM);
            put_bytes_str(g, t, sizeof t - 1);
            break;
        }
        put_inode(g);
        put(g, rp_rnd_below(2), 4, F_NUM);
        break;
    case BFS_OP_CHUNK_WRITE:
        cs = pick_cs();
        put(g, pick_fileid(), 8, F_FILEID);
        put_range(g, cs, 0, &len);
        put(g, cs, 4, F_CS);
        g->dlen = len;
        break;
    case BFS_OP_CHUNK_READ:
    case BFS_OP_CHUNK_RESERVE:
    case BFS_OP_CHUNK_RELEASE:
        cs = pick_cs();
        put(g, pick_fileid(), 8, F_FILEID);
        put_range(g, cs, 1, &len);
        put(g, cs, 4, F_CS);
        break;
    case BFS_OP_CHUNK_TRUNCATE:
        cs = pick_cs();
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, rp_rnd_below(4ull * cs), 8, F_NUM);
        put(g, cs, 4, F_CS);
        break;
    case BFS_OP_CHUNK_REMOVE:
    case BFS_OP_FSYNC: put(g, chance(20) ? 0 : pick_fileid(), 8, F_FILEID); break;
    case BFS_OP_CHUNK_PREFETCH:
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, rp_rnd_below(4), 8, F_NUM);
        put(g, pick_cs(), 4, F_CS);
        break;
    case BFS_OP_FIND: {
        static const char *const globs[] = {"*", "*01*", "f?", "[a-", "\\"};
        put_path(g, 1);
        put(g, rp_rnd_below(8), 4, F_NUM);  /* page */
        put(g, rp_rnd_below(40), 4, F_NUM); /* scan budget */
        uint32_t clen = chance(70) ? 0 : (uint32_t)rp_rnd_below(BFS_FIND_CURSOR_MAX + 1);
        put(g, clen, 4, F_NUM);
        for (uint32_t i = 0; i < clen && g->alen < sizeof g->args; i++)
            g->args[g->alen++] = (uint8_t)rp_rnd(); /* a cursor of any bytes: only a place */
        put(g, rp_rnd_below(16), 4, F_NUM);      /* tests */
        const char *gl = globs[rp_rnd_below(5)];
        put_bytes_str(g, gl, strlen(gl));
        put(g, (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        put(g, rp_rnd_below(5000), 8, F_NUM);
        put(g, 1 + rp_rnd_below(1024), 8, F_NUM);
        put(g, rp_rnd_below(3), 4, F_NUM);
        put(g, 1 + rp_rnd_below(7), 4, F_NUM);
        break;
    }
    case BFS_OP_LOOKUP_DATA: put_path(g, 1); break;
    case BFS_OP_INLINE_WRITE:
        put_path(g, 0);
        put(g, pick_fileid(), 8, F_FILEID);
        len = rp_rnd_below(BFS_INLINE_MAX + 2);
        put(g, rp_rnd_below(BFS_INLINE_MAX + 2 - len), 8, F_NUM);
        put(g, chance(50) ? 0 : (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        g->dlen = len;
        break;
    case BFS_OP_MOVE_BEGIN:
    case BFS_OP_MOVE_END:
        put_path(g, 0);
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, chance(10) ? 0 : rp_rnd_below(3) + 1, 8, F_NUM); /* mover */
        break;
    case BFS_OP_MKNOD: {
        static const uint32_t types[] = {S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK};
        put_path(g, 0);
        put(g, types[rp_rnd_below(4)] | 0644, 4, F_MODE);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        put(g, chance(50) ? 0 : rp_rnd_below(1u << 20), 8, F_NUM); /* device number */
        break;
    }
    default: break; /* PING, STATFS, STATS, HELLO, CHUNK_DIR, SYNCFS: no arguments */
    }
}

static const uint64_t g_edges[] = {0,
                                   1,
                                   2,
                                   4095,
                                   4096,
                                   (64u << 20),
                                   (64u << 20) + 1,
                                   0x7fffffffull,
                                   0x80000000ull,
                                   0xffffffffull,
                                   0x100000000ull,
                                   0x7fffffffffffffffull,
                                   0x8000000000000000ull,
                                   0xfffffffffffffffeull,
                                   UINT64_MAX};

static void set_field(struct gframe *g, const struct fld *fl, uint64_t v)
{
    for (int i = 0; i < fl->size; i++)
        g->args[fl->off + i] = (uint8_t)(v >> (8 * i));
}

void mutate(struct gframe *g, struct rp_peer *p, int transport)
{
    int m = 1 + (int)rp_rnd_below(3);
    g_mutated++;
    for (int k = 0; k < m; k++) {
        unsigned what = (unsigned)rp_rnd_below(100);
        if (what < 30 && g->nf) { /* a numeric field: an edge value */
            const struct fld *fl = &g->flds[rp_rnd_below((uint64_t)g->nf)];
            if (fl->off + fl->size > g->alen)
                continue;
            uint64_t v = g_edges[rp_rnd_below(sizeof g_edges / sizeof g_edges[0])];
            if (fl->kind == F_CS && chance(50)) {
                static const uint32_t cs[] = {0, 1, 4095, 4097, 8191, (64u << 20) + 1,
                                              0x80000000u, UINT32_MAX, 3u << 20};
                v = cs[rp_rnd_below(9)];
            } else if (fl->kind == F_MODE && chance(50)) {
                static const uint32_t modes[] = {0, S_IFLNK | 0777, S_IFCHR | 0644, S_IFIFO,
                                                 S_IFDIR | S_IFREG | 0644, 0170000, 07777,
                                                 S_IFREG | 04755};
                v = modes[rp_rnd_below(8)];
            } else if (fl->kind == F_STRLEN && chance(60)) {
                uint64_t cur = (uint64_t)g->args[fl->off] | (uint64_t)g->args[fl->off + 1] << 8;
                uint64_t opts[] = {cur ? cur - 1 : 0, cur + 1, cur + 100, 0, 0xffff};
                v = opts[rp_rnd_below(5)];
            }
            set_field(g, fl, v);
        } else if (what < 40 && g->nf) { /* random bits in a field */
            const struct fld *fl = &g->flds[rp_rnd_below((uint64_t)g->nf)];
            if (fl->off + fl->size <= g->alen)
                set_field(g, fl, rp_rnd());
        } else if (what < 50 && g->alen) { /* bytes */
            int flips = 1 + (int)rp_rnd_below(4);
            for (int i = 0; i < flips; i++) {
                size_t at = rp_rnd_below(g->alen);
                g->args[at] = chance(50) ? (uint8_t)(g->args[at] ^ (1u << rp_rnd_below(8)))
                                         : (uint8_t)rp_rnd();
            }
        } else if (what < 57) { /* cut short */
            g->alen = rp_rnd_below(g->alen + 1);
        } else if (what < 62) { /* extend */
            size_t add = chance(80) ? 1 + rp_rnd_below(16) : rp_rnd_below(3000);
            for (size_t i = 0; i < add && g->alen < BFS_MAX_ARGS + 100; i++)
                g->args[g->alen++] = (uint8_t)rp_rnd();
        } else if (what < 70) { /* another opcode */
            g->f.opcode = chance(85) ? (uint16_t)(1 + rp_rnd_below(BFS_OP__COUNT - 1))
                          : chance(50) ? (uint16_t)rp_rnd() : (uint16_t)(chance(50) ? 0 : BFS_OP__COUNT);
        } else if (what < 78) { /* payload */
            static const size_t sizes[] = {0, 1, 2, 4095, 4096, 4097, 65536, 65537, 1u << 20};
            g->dlen = sizes[rp_rnd_below(9)];
            if (chance(2))
                g->dlen = BFS_MAX_DATA - (chance(50) ? 0 : 1);
            if (transport == 0 && chance(50))
                g->ucx_flags = chance(50) || g->dlen > 65536 ? UCP_AM_SEND_FLAG_RNDV
                                                             : UCP_AM_SEND_FLAG_EAGER;
        } else if (what < 82) { /* the key */
            if (chance(50))
                g->f.key[rp_rnd_below(BFS_KEY_LEN)] ^= (uint8_t)(1u << rp_rnd_below(8));
            else
                memset(g->f.key, chance(50) ? 0 : 0xff, BFS_KEY_LEN);
        } else if (what < 84) { /* version / magic */
            if (chance(60))
                g->f.version = (uint16_t)(chance(50) ? 0 : chance(50) ? 2 : rp_rnd());
            else
                g->f.magic ^= (uint32_t)1u << rp_rnd_below(32);
        } else if (what < 90) { /* lying lengths (set when encoded) */
            g->lie = 1 + (int)rp_rnd_below(8);
        } else if (what < 92 && transport == 0) {
            g->with_reply = 0;
        } else if (what < 96) { /* HELLO: with and without arguments / payload */
            g->f.opcode = BFS_OP_HELLO;
        } else { /* the reqid: edge values (the reply must echo it) */
            /* leave it: our tracking needs unique reqids */
        }
    }
    (void)p;
}

size_t encode(struct gframe *g)
{
    g->f.args_len = (uint32_t)g->alen;
    g->f.data_len = g->dlen;
    switch (g->lie) {
    case 0: break;
    case 1: g->f.args_len += 1 + (uint32_t)rp_rnd_below(64); break;
    case 2: g->f.args_len -= g->alen ? 1 + (uint32_t)rp_rnd_below(g->alen) : 0; break;
    case 3: g->f.args_len = chance(50) ? BFS_MAX_ARGS + 1 : UINT32_MAX; break;
    case 4: g->f.data_len += 1 + rp_rnd_below(4096); break;
    case 5: g->f.data_len -= g->dlen ? 1 + rp_rnd_below(g->dlen) : 0; break;
    case 6: g->f.data_len = g_edges[7 + rp_rnd_below(8)]; break;
    case 7: g->f.data_len = BFS_MAX_DATA + 1; break;
    default: g->f.args_len ^= 1u << rp_rnd_below(32); break;
    }
    bfs_frame_encode(&g->f, g_enc);
    memcpy(g_enc + BFS_HDR_LEN, g->args, g->alen);
    return BFS_HDR_LEN + g->alen;
}

int pick_op(void)
{
    static const int heavy[] = {BFS_OP_CHUNK_WRITE, BFS_OP_CHUNK_READ, BFS_OP_META_PUT,
                                BFS_OP_CREATE, BFS_OP_SETATTR, BFS_OP_MKDIR};
    if (chance(25))
        return heavy[rp_rnd_below(6)];
    return 1 + (int)rp_rnd_below(BFS_OP__COUNT - 1);
}
