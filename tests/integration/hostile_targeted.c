/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile_targeted.c — test_hostile's targeted frames over UCX: one frame per way of being
 * wrong, each with the answer the server must give. Truncated headers, lying or oversized
 * args_len / data_len, wrong magic / version / opcode, HELLO with arguments or a payload
 * (EPROTO) and repeated plain HELLOs (0), payloads on ops that take none, chunk requests
 * outside the chunk, malformed argument encodings, paths that are not normalised, inodes and
 * links no reader could use, wrong cluster keys (EACCES, nothing done) and frames without a
 * reply endpoint (dropped, nothing done). Kept apart from the random families so that a
 * failure names the exact malformation. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "hostile.h"

void targeted(struct rp_peer *r, int s, uint64_t file_id, uint32_t file_chunk)
{
    static struct frame fr;
    uint8_t hdr[BFS_HDR_LEN + 512];
    size_t hlen;

    /* Positive control: the raw channel works. */
    frame_init(&fr, r, BFS_OP_PING);
    send_expect(r, s, &fr, 0, "ping (control)");

    /* -- truncated headers: shorter than 48 bytes, magic right: dropped (no request named) */
    for (size_t len = 0; len < BFS_HDR_LEN; len += 7) {
        lookup_frame(&fr, r, "/");
        frame_encode(&fr, hdr, 0, 1);
        track(fr.f.reqid, s, EXP_NONE, 0, "truncated header");
        send_raw(r, s, hdr, len, NULL, 0, 0, 1, 0);
    }
    /* -- args_len claims more than is present */
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len += 100;
    send_header(r, s, &fr, hdr, hlen, EPROTO, "args_len beyond the header");
    /* -- args_len claims less than is present */
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len -= 1;
    send_header(r, s, &fr, hdr, hlen, EPROTO, "args_len short of the header");
    /* -- header cut inside the args, args_len truthful for the full frame */
    lookup_frame(&fr, r, "/some/path");
    hlen = frame_encode(&fr, hdr, 0, 1);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "header cut inside the args");
    send_raw(r, s, hdr, hlen - 3, NULL, 0, 0, 1, 0);

    /* -- wrong magic: dropped, with and without data, with and without reply flag */
    for (int v = 0; v < 4; v++) {
        lookup_frame(&fr, r, "/");
        fr.f.magic = v == 0 ? 0 : v == 1 ? BFS_MAGIC ^ 1 : v == 2 ? 0x42465331u : 0xffffffffu;
        hlen = frame_encode(&fr, hdr, v & 1 ? 64 : 0, 1);
        track(fr.f.reqid, s, EXP_NONE, 0, "wrong magic");
        send_raw(r, s, hdr, hlen, v & 1 ? g_mib : NULL, v & 1 ? 64 : 0, 0, v != 3, 0);
    }

    /* -- wrong version: EPROTONOSUPPORT */
    static const uint16_t versions[] = {0, BFS_WIRE_VERSION - 1, BFS_WIRE_VERSION + 1, 0x100,
                                        0xffff};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        lookup_frame(&fr, r, "/");
        fr.f.version = versions[i];
        hlen = frame_encode(&fr, hdr, 0, 1);
        track(fr.f.reqid, s, EXP_STATUS, EPROTONOSUPPORT, "wrong version");
        send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    }
    /* wrong version and lying lengths: the version is reported first */
    lookup_frame(&fr, r, "/");
    fr.f.version = 7;
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = 0xffffffffu;
    send_header(r, s, &fr, hdr, hlen, EPROTONOSUPPORT, "wrong version, bad args_len");

    /* -- unknown opcodes: EBADMSG */
    static const int bad_ops[] = {0, BFS_OP__COUNT, BFS_OP__COUNT + 1, 999, 0xffff};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        frame_init(&fr, r, bad_ops[i]);
        a_str(&fr, "/");
        send_expect(r, s, &fr, EBADMSG, "unknown opcode");
    }
    frame_init(&fr, r, 999); /* with a payload too */
    send_frame(r, s, &fr, g_mib, 4096, 0, 1, 0, EXP_STATUS, EBADMSG, "unknown opcode + data");

    /* -- HELLO: a no-op. Arguments or a payload are EPROTO; a plain one answers 0, also a
     * second and a third time on the same connection, which keeps working. */
    frame_init(&fr, r, BFS_OP_HELLO);
    a_u32(&fr, 0);
    send_expect(r, s, &fr, EPROTO, "hello with arguments");
    frame_init(&fr, r, BFS_OP_HELLO);
    a_u32(&fr, (uint32_t)getpid());
    a_u32(&fr, (uint32_t)geteuid());
    a_str(&fr, "localhost");
    send_expect(r, s, &fr, EPROTO, "hello with the old local args");
    frame_init(&fr, r, BFS_OP_HELLO);
    send_frame(r, s, &fr, g_mib, 64, 0, 1, 0, EXP_STATUS, EPROTO, "hello with a payload");
    frame_init(&fr, r, BFS_OP_HELLO);
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS, EPROTO,
               "hello with a 1 MiB payload (rendezvous)");
    for (int k = 0; k < 3; k++) {
        frame_init(&fr, r, BFS_OP_HELLO);
        send_expect(r, s, &fr, 0, "plain hello (repeated)");
    }
    frame_init(&fr, r, BFS_OP_PING);
    send_expect(r, s, &fr, 0, "ping after repeated hellos");

    /* -- oversized */
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = BFS_MAX_ARGS + 1;
    send_header(r, s, &fr, hdr, hlen, EPROTO, "args_len > BFS_MAX_ARGS (claimed)");
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = 0xffffffffu;
    send_header(r, s, &fr, hdr, hlen, EPROTO, "args_len 4 GiB (claimed)");
    if (r->max_am_header >= BFS_HDR_LEN + BFS_MAX_ARGS + 1) {
        /* Really that many argument bytes, if UCX lets us send such a header. */
        frame_init(&fr, r, BFS_OP_LOOKUP);
        memset(fr.args, 'a', BFS_MAX_ARGS + 1);
        fr.args_len = BFS_MAX_ARGS + 1;
        send_expect(r, s, &fr, EPROTO, "args > BFS_MAX_ARGS (real)");
    }
    static const uint64_t big_dl[] = {BFS_MAX_DATA + 1, 1ull << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof big_dl / sizeof big_dl[0]; i++) {
        chunk_write_frame(&fr, r, 1, 0, 0, 1u << 20);
        hlen = frame_encode(&fr, hdr, 0, 1);
        fr.f.data_len = big_dl[i];
        send_header(r, s, &fr, hdr, hlen, EPROTO, "data_len > BFS_MAX_DATA (claimed)");
    }
    /* data_len disagreeing with the real payload, both ways, eager and rendezvous */
    for (int v = 0; v < 4; v++) {
        chunk_write_frame(&fr, r, 1, 0, 0, 1u << 20);
        size_t real = v < 2 ? 1000 : sizeof g_mib;
        hlen = frame_encode(&fr, hdr, real, 1);
        fr.f.data_len = v & 1 ? real + 1 : real - 1;
        bfs_frame_encode(&fr.f, hdr);
        track(fr.f.reqid, s, EXP_STATUS, EPROTO, "data_len disagrees with the payload");
        send_raw(r, s, hdr, hlen, g_mib, real, 0, 1, v < 2 ? 0 : UCP_AM_SEND_FLAG_RNDV);
    }
    /* a real payload larger than BFS_MAX_DATA (rendezvous: the server need not pull it) */
    if (g_big) {
        chunk_write_frame(&fr, r, 1, 0, 0, 64u << 20);
        send_frame(r, s, &fr, g_big, BFS_MAX_DATA + 1, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS,
                   EPROTO, "payload > BFS_MAX_DATA");
    }
    /* a payload on ops that take none */
    lookup_frame(&fr, r, "/");
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS, EPROTO,
               "lookup + 1 MiB (rendezvous)");
    lookup_frame(&fr, r, "/");
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_EAGER, EXP_STATUS, EPROTO,
               "lookup + 1 MiB (eager)");
    frame_init(&fr, r, BFS_OP_PING);
    send_frame(r, s, &fr, g_mib, 1, 0, 1, 0, EXP_STATUS, EPROTO, "ping + 1 byte");
    mkdir_frame(&fr, r, "/hostile-mkdir-with-data");
    send_frame(r, s, &fr, g_mib, 100, 0, 1, 0, EXP_STATUS, EPROTO, "mkdir + data");
    chunk_read_frame(&fr, r, file_id, 0, 0, 4096, file_chunk);
    send_frame(r, s, &fr, g_mib, 65536, 0, 1, 0, EXP_STATUS, EPROTO, "chunk_read + data");

    /* -- chunk requests outside the chunk: EINVAL */
    struct {
        uint64_t off;
        size_t len;
        uint32_t cs;
        const char *what;
    } cw[] = {
        {4000, 200, 4096, "chunk_write off+len > chunk_size"},
        {4097, 1, 4096, "chunk_write off > chunk_size"},
        {UINT64_MAX, 1, 1u << 20, "chunk_write off 2^64-1"},
        {UINT64_MAX - 10, 100, 1u << 20, "chunk_write off+len wraps"},
        {0, 100, 0, "chunk_write chunk_size 0"},
        {0, 100, 4095, "chunk_write chunk_size 4095"},
        {0, 100, (64u << 20) + 1, "chunk_write chunk_size 64 MiB + 1"},
        {0, 100, UINT32_MAX, "chunk_write chunk_size 4 GiB - 1"},
        {0, 8192, 4096, "chunk_write 8 KiB into a 4 KiB chunk"},
        {0, sizeof g_mib, 4096, "chunk_write 1 MiB into a 4 KiB chunk"},
    };
    for (size_t i = 0; i < sizeof cw / sizeof cw[0]; i++) {
        /* the real file: nothing may land in it */
        chunk_write_frame(&fr, r, file_id, 0, cw[i].off, cw[i].cs);
        send_frame(r, s, &fr, g_mib, cw[i].len, 0, 1, 0, EXP_STATUS, EINVAL, cw[i].what);
    }
    struct {
        uint64_t off, len;
        uint32_t cs;
        const char *what;
    } cr[] = {
        {0, 4ull << 30, 1u << 20, "chunk_read 4 GiB"},
        {0, UINT64_MAX, 1u << 20, "chunk_read 2^64-1 bytes"},
        {1, UINT64_MAX, 1u << 20, "chunk_read off 1 + 2^64-1 bytes"},
        {(1u << 20) + 1, 0, 1u << 20, "chunk_read off > chunk_size"},
        {UINT64_MAX, 1, 1u << 20, "chunk_read off 2^64-1"},
        {0, 4096, 0, "chunk_read chunk_size 0"},
        {0, 4096, UINT32_MAX, "chunk_read chunk_size 4 GiB - 1"},
        {0, (64u << 20) + 1, 64u << 20, "chunk_read 64 MiB + 1"},
    };
    for (size_t i = 0; i < sizeof cr / sizeof cr[0]; i++) {
        chunk_read_frame(&fr, r, file_id, 0, cr[i].off, cr[i].len, cr[i].cs);
        send_expect(r, s, &fr, EINVAL, cr[i].what);
    }
    static const uint32_t bad_cs[] = {0, 1, 4095, (64u << 20) + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_cs / sizeof bad_cs[0]; i++) {
        frame_init(&fr, r, BFS_OP_CHUNK_TRUNCATE);
        a_u64(&fr, file_id);
        a_u64(&fr, 0);
        a_u32(&fr, bad_cs[i]);
        send_expect(r, s, &fr, EINVAL, "chunk_truncate bad chunk_size");
    }

    /* -- malformed arguments */
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u16(&fr, 100);
    a_bytes(&fr, "/abc", 4);
    send_expect(r, s, &fr, EPROTO, "string length beyond the args");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u16(&fr, 0xffff);
    send_expect(r, s, &fr, EPROTO, "string length 65535, no bytes");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u8(&fr, 1);
    send_expect(r, s, &fr, EPROTO, "half a length prefix");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    send_expect(r, s, &fr, EPROTO, "lookup without args");
    static const char *unnormalised[] = {"/a//b", "relative", "", "/a/", "/a/./b", "/a/../b",
                                         "//", "/.", "/..", "a/b", " /a"};
    for (size_t i = 0; i < sizeof unnormalised / sizeof unnormalised[0]; i++) {
        lookup_frame(&fr, r, unnormalised[i]);
        send_expect(r, s, &fr, EINVAL, "path not normalised");
    }
    {
        char longname[BFS_NAME_MAX + 3];
        longname[0] = '/';
        memset(longname + 1, 'n', BFS_NAME_MAX + 1);
        longname[BFS_NAME_MAX + 2] = '\0';
        lookup_frame(&fr, r, longname);
        send_expect(r, s, &fr, ENAMETOOLONG, "component > 255");
        static char longpath[BFS_PATH_MAX + 2];
        for (size_t i = 0; i < BFS_PATH_MAX + 1; i++)
            longpath[i] = i % 100 == 0 ? '/' : 'p';
        longpath[BFS_PATH_MAX + 1] = '\0';
        lookup_frame(&fr, r, longpath);
        send_expect(r, s, &fr, EPROTO, "path > BFS_PATH_MAX");
    }
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_strn(&fr, "/a\0b", 4);
    send_expect(r, s, &fr, EPROTO, "path containing NUL");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_strn(&fr, "/\0", 2);
    send_expect(r, s, &fr, EPROTO, "path ending in NUL");
    lookup_frame(&fr, r, "/");
    a_u8(&fr, 0);
    send_expect(r, s, &fr, EPROTO, "lookup + trailing byte");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-short-mkdir");
    a_u32(&fr, 0755);
    send_expect(r, s, &fr, EPROTO, "mkdir missing fields");
    mkdir_frame(&fr, r, "/hostile-long-mkdir");
    a_u32(&fr, 0);
    send_expect(r, s, &fr, EPROTO, "mkdir + trailing garbage");
    create_frame(&fr, r, "/hostile-create-cs0", 0644, 0);
    send_expect(r, s, &fr, EINVAL, "create chunk_size 0");
    create_frame(&fr, r, "/hostile-create-cshuge", 0644, UINT32_MAX);
    send_expect(r, s, &fr, EINVAL, "create chunk_size 4 GiB - 1");
    remove_frame(&fr, r, "/", BFS_REMOVE_DIR);
    send_expect(r, s, &fr, EBUSY, "remove /");
    remove_frame(&fr, r, "/data", 77);
    send_expect(r, s, &fr, EPROTO, "remove with kind 77");
    size_update_frame(&fr, r, "/data", file_id, 1, 9);
    send_expect(r, s, &fr, EPROTO, "size_update how 9");
    size_update_frame(&fr, r, "/data", file_id, UINT64_MAX, BFS_SIZE_SET);
    send_expect(r, s, &fr, EFBIG, "size_update 2^64-1");
    /* -- listings resumed after a name (READDIR) or a path (SUBTREE) no client could send */
    {
        char n256[BFS_NAME_MAX + 2];
        memset(n256, 'n', BFS_NAME_MAX + 1);
        n256[BFS_NAME_MAX + 1] = '\0';
        /* One component longer than BFS_NAME_MAX: not a path any client could send. */
        char p300[302];
        p300[0] = '/';
        memset(p300 + 1, 'x', 300);
        p300[301] = '\0';
        const struct {
            int op;
            const char *path, *after;
            int err;
            const char *what;
        } bad_after[] = {
            {BFS_OP_READDIR, "/", "a/b", EINVAL, "readdir after-name with '/'"},
            {BFS_OP_READDIR, "/", n256, EPROTO, "readdir after-name > 255"},
            {BFS_OP_SUBTREE, "/d", "/e/f", EINVAL, "subtree after-path outside"},
            {BFS_OP_SUBTREE, "/", p300, EINVAL, "subtree after-path name > 255"},
            {BFS_OP_SUBTREE, "/", "/a//b/", EINVAL, "subtree after-path unnormalised"},
            {BFS_OP_SUBTREE, "/", "/a//b", EINVAL, "subtree after-path with //"},
        };
        for (size_t i = 0; i < sizeof bad_after / sizeof bad_after[0]; i++) {
            listing_frame(&fr, r, bad_after[i].op, bad_after[i].path, 10);
            a_str(&fr, bad_after[i].after);
            send_expect(r, s, &fr, bad_after[i].err, bad_after[i].what);
        }
    }
    frame_init(&fr, r, BFS_OP_META_PUT);
    a_str(&fr, "/hostile-meta-put");
    a_u64(&fr, 5);
    send_expect(r, s, &fr, EPROTO, "meta_put truncated inode");
    /* -- META_PUT of inodes no reader could use (a chunk size of 0 was stored once, and
     * every reader of the file died of SIGFPE): refused, and nothing stored */
    static const struct {
        uint32_t chunk_size, mode, nlink;
        uint64_t size, fileid;
        const char *what;
    } bad_ino[] = {
        {0, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 0"},
        {1, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 1"},
        {1u << 31, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 2^31"},
        {UINT32_MAX, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 2^32-1"},
        {1u << 20, S_IFREG | 0644, 1, 1ull << 63, 5, "meta_put size 2^63"},
        {1u << 20, S_IFLNK | 0777, 1, 10, 5, "meta_put symlink mode"},
        {1u << 20, S_IFREG | 0644, 0, 10, 5, "meta_put nlink 0"},
        {1u << 20, S_IFREG | 0644, 1, 10, 0, "meta_put file id 0"},
    };
    for (size_t i = 0; i < sizeof bad_ino / sizeof bad_ino[0]; i++) {
        struct bfs_inode ino = {.fileid = bad_ino[i].fileid, .size = bad_ino[i].size,
                                .mode = bad_ino[i].mode, .chunk_size = bad_ino[i].chunk_size,
                                .nlink = bad_ino[i].nlink, .atime_ns = 1, .mtime_ns = 1,
                                .ctime_ns = 1};
        meta_put_frame(&fr, r, "/hostile-bad-inode", &ino);
        send_expect(r, s, &fr, EINVAL, bad_ino[i].what);
    }
    lookup_frame(&fr, r, "/hostile-bad-inode");
    send_expect(r, s, &fr, ENOENT, "bad inodes were not stored");
    /* -- symbolic links: a target must be 1..4095 bytes without NUL, exactly the link's size
     * when a META_PUT carries one; a link inode without its target is malformed */
    {
        static char t4096[4097];
        memset(t4096, 't', 4096);
        static const struct {
            const char *target;
            size_t len;
            uint32_t uid;
            int err;
            const char *what;
        } bad_sym[] = {
            {"", 0, 0, EINVAL, "symlink empty target"},
            {"a\0b", 3, 0, EPROTO, "symlink target with NUL"},
            {t4096, 4096, 0, EPROTO, "symlink target 4096 bytes"},
            {"x", 1, UINT32_MAX, EINVAL, "symlink uid -1"},
        };
        for (size_t i = 0; i < sizeof bad_sym / sizeof bad_sym[0]; i++) {
            symlink_frame(&fr, r, "/hostile-symlink", bad_sym[i].uid);
            a_strn(&fr, bad_sym[i].target, bad_sym[i].len);
            send_expect(r, s, &fr, bad_sym[i].err, bad_sym[i].what);
        }
        symlink_frame(&fr, r, "hostile-relative-symlink", 0);
        a_str(&fr, "x");
        send_expect(r, s, &fr, EINVAL, "symlink relative path");
        symlink_frame(&fr, r, "/hostile-symlink", 0);
        send_expect(r, s, &fr, EPROTO, "symlink without target");
        struct bfs_inode lnk = {.fileid = 5, .size = 3, .mode = S_IFLNK | 0777, .nlink = 1,
                                .atime_ns = 1, .mtime_ns = 1, .ctime_ns = 1};
        meta_put_frame(&fr, r, "/hostile-symlink", &lnk);
        send_expect(r, s, &fr, EPROTO, "meta_put link, no target");
        meta_put_frame(&fr, r, "/hostile-symlink", &lnk);
        a_str(&fr, "abcd"); /* 4 bytes, the inode says 3 */
        send_expect(r, s, &fr, EINVAL, "meta_put link, wrong size");
        lookup_frame(&fr, r, "/hostile-symlink");
        send_expect(r, s, &fr, ENOENT, "bad links were not stored");
        /* SETATTR of the old layout (no atime) is malformed now */
        setattr_frame(&fr, r, "/data", BFS_SETATTR_MTIME);
        send_expect(r, s, &fr, EPROTO, "setattr without atime");
        setattr_frame(&fr, r, "/hostile-nothing", BFS_SETATTR_ATIME);
        a_u64(&fr, (uint64_t)-5);
        send_expect(r, s, &fr, EINVAL, "setattr atime < 0");
        listing_frame(&fr, r, BFS_OP_READDIRPLUS, "/", 10);
        a_str(&fr, "a/b");
        send_expect(r, s, &fr, EINVAL, "readdirplus after-name with '/'");
    }
    static const int fixed_ops[] = {BFS_OP_CHUNK_WRITE, BFS_OP_CHUNK_READ, BFS_OP_CHUNK_TRUNCATE,
                                    BFS_OP_CHUNK_REMOVE, BFS_OP_FSYNC};
    for (size_t i = 0; i < sizeof fixed_ops / sizeof fixed_ops[0]; i++) {
        frame_init(&fr, r, fixed_ops[i]);
        a_u32(&fr, 1); /* too short for any of them */
        send_expect(r, s, &fr, EPROTO, "chunk op, short args");
        frame_init(&fr, r, fixed_ops[i]);
        memset(fr.args, 0, 64);
        fr.args_len = 64; /* too long for any of them */
        send_expect(r, s, &fr, EPROTO, "chunk op, trailing garbage");
    }
    static const int noarg_ops[] = {BFS_OP_PING, BFS_OP_STATFS, BFS_OP_STATS};
    for (size_t i = 0; i < sizeof noarg_ops / sizeof noarg_ops[0]; i++) {
        frame_init(&fr, r, noarg_ops[i]);
        a_u32(&fr, 0xdeadbeef);
        send_expect(r, s, &fr, EPROTO, "arg-less op with args");
    }

    /* -- wrong cluster key: EACCES, and nothing done */
    for (int v = 0; v < 3; v++) {
        mkdir_frame(&fr, r, "/hostile-wrong-key");
        if (v == 0)
            fr.f.key[0] ^= 1;
        else if (v == 1)
            memset(fr.f.key, 0, BFS_KEY_LEN);
        else
            fr.f.key[BFS_KEY_LEN - 1] ^= 0x80;
        send_expect(r, s, &fr, EACCES, "mkdir with a wrong key");
    }
    chunk_write_frame(&fr, r, file_id, 0, 0, file_chunk); /* overwrite the real file's data */
    fr.f.key[3] ^= 0x10;
    send_frame(r, s, &fr, g_mib, file_chunk < sizeof g_mib ? file_chunk : sizeof g_mib, 0, 1, 0,
               EXP_STATUS, EACCES, "chunk_write with a wrong key");
    frame_init(&fr, r, BFS_OP_CHUNK_REMOVE);
    a_u64(&fr, file_id);
    fr.f.key[7] ^= 0x01;
    send_expect(r, s, &fr, EACCES, "chunk_remove with a wrong key");
    remove_frame(&fr, r, "/data", BFS_REMOVE_FILE);
    memset(fr.f.key, 0xff, BFS_KEY_LEN);
    send_expect(r, s, &fr, EACCES, "remove with a wrong key");
    frame_init(&fr, r, BFS_OP_PING);
    fr.f.key[0] ^= 0xff;
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS, EACCES,
               "wrong key + 1 MiB (rendezvous)");

    /* -- no reply endpoint: dropped, nothing done */
    frame_init(&fr, r, BFS_OP_PING);
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "ping without reply flag");
    mkdir_frame(&fr, r, "/hostile-no-reply");
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "mkdir without reply flag");
    chunk_write_frame(&fr, r, file_id, 0, 0, file_chunk);
    send_frame(r, s, &fr, g_mib, file_chunk < sizeof g_mib ? file_chunk : sizeof g_mib, 0, 0,
               UCP_AM_SEND_FLAG_RNDV, EXP_NONE, 0, "chunk_write without reply flag");
    mkdir_frame(&fr, r, "/hostile-no-reply-wrong-key");
    fr.f.key[5] ^= 4;
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "wrong key without reply flag");
    lookup_frame(&fr, r, "/");
    fr.f.version = 9;
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "wrong version without reply flag");
    frame_init(&fr, r, 999);
    send_frame(r, s, &fr, g_mib, 10, 0, 0, 0, EXP_NONE, 0, "bad opcode without reply flag");
}
