/* SPDX-License-Identifier: BSD-3-Clause */
/* test_proto.c — the limits every stored inode field is held to (common/proto.c).
 *
 * The servers refuse (EINVAL) a MKDIR / CREATE / SETATTR / SIZE_UPDATE / META_PUT whose
 * values fail these checks before anything is stored, and clients treat an inode that fails
 * bfs_inode_check as EIO: a chunk size of 0 planted with a raw META_PUT once made every reader
 * of the file die of SIGFPE. Chunk requests are bounded by bfs_chunk_range_check. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "common/proto.h"
#include "common/wire.h"

static struct bfs_inode good_file(void)
{
    return (struct bfs_inode){.fileid = 0x1234, .size = 10, .mode = S_IFREG | 0644,
                              .uid = 1000, .gid = 1000, .chunk_size = 4u << 20, .nlink = 1,
                              .atime_ns = 1, .mtime_ns = 2, .ctime_ns = 3};
}

static const uint32_t bad_chunk_sizes[] = {0, 1, 4095, (64u << 20) + 1, 1u << 31, UINT32_MAX};

static void chunk_sizes(void)
{
    for (size_t i = 0; i < sizeof bad_chunk_sizes / sizeof *bad_chunk_sizes; i++)
        CHECK_MSG(!bfs_chunk_size_valid(bad_chunk_sizes[i]), "chunk size %u", bad_chunk_sizes[i]);
    CHECK(bfs_chunk_size_valid(4096));
    CHECK(bfs_chunk_size_valid(4u << 20));
    CHECK(bfs_chunk_size_valid(64u << 20));
    CHECK(!bfs_chunk_size_valid(1ull << 32 | 4096)); /* no truncation to 32 bits */
}

static void chunk_ranges(void)
{
    uint32_t cs = 4u << 20;
    CHECK_EQ_INT(bfs_chunk_range_check(0, 0, cs, cs), 0);
    CHECK_EQ_INT(bfs_chunk_range_check(7, cs - 1, 1, cs), 0);
    CHECK_EQ_INT(bfs_chunk_range_check(7, cs, 0, cs), 0);
    CHECK_EQ_INT(bfs_chunk_range_check(0, 0, cs + 1, cs), -EINVAL);
    CHECK_EQ_INT(bfs_chunk_range_check(0, cs + 1, 0, cs), -EINVAL);
    CHECK_EQ_INT(bfs_chunk_range_check(0, 1, UINT64_MAX, cs), -EINVAL);
    CHECK_EQ_INT(bfs_chunk_range_check(0, UINT64_MAX, 1, cs), -EINVAL);
    for (size_t i = 0; i < sizeof bad_chunk_sizes / sizeof *bad_chunk_sizes; i++)
        CHECK_EQ_INT(bfs_chunk_range_check(0, 0, 0, bad_chunk_sizes[i]), -EINVAL);
    /* The chunk must end inside the largest file (INT64_MAX bytes). */
    uint64_t last = BFS_FILE_SIZE_MAX / cs - 1;
    CHECK_EQ_INT(bfs_chunk_range_check(last, 0, cs, cs), 0);
    CHECK_EQ_INT(bfs_chunk_range_check(last + 1, 0, 1, cs), -EINVAL);
    CHECK_EQ_INT(bfs_chunk_range_check(UINT64_MAX, 0, 1, cs), -EINVAL);
    CHECK_EQ_INT(bfs_chunk_range_check(UINT64_MAX / 4096, 0, 1, 4096), -EINVAL);
}

static void inodes(void)
{
    struct bfs_inode ino = good_file();
    CHECK_EQ_INT(bfs_inode_check(&ino), 0);
    struct bfs_inode dir = ino;
    dir.mode = S_IFDIR | 0755;
    dir.chunk_size = 0; /* as MKDIR makes them */
    dir.nlink = 2;
    CHECK_EQ_INT(bfs_inode_check(&dir), 0);

    for (size_t i = 0; i < sizeof bad_chunk_sizes / sizeof *bad_chunk_sizes; i++) {
        ino = good_file();
        ino.chunk_size = bad_chunk_sizes[i];
        CHECK_MSG(bfs_inode_check(&ino) == -EINVAL, "file chunk size %u", bad_chunk_sizes[i]);
        if (bad_chunk_sizes[i]) {
            dir.chunk_size = bad_chunk_sizes[i];
            CHECK_MSG(bfs_inode_check(&dir) == -EINVAL, "dir chunk size %u", bad_chunk_sizes[i]);
        }
    }
    ino = good_file();
    ino.size = BFS_FILE_SIZE_MAX;
    CHECK_EQ_INT(bfs_inode_check(&ino), 0);
    static const uint64_t bad_sizes[] = {(uint64_t)INT64_MAX + 1, UINT64_MAX, 1ull << 63 | 5};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof *bad_sizes; i++) {
        ino.size = bad_sizes[i];
        CHECK_MSG(bfs_inode_check(&ino) == -EINVAL, "size %llu", (unsigned long long)bad_sizes[i]);
    }
    /* Special files with a file's chunk size and size: bad (below: what they may be). */
    static const uint32_t bad_modes[] = {0, 0644, S_IFCHR | 0600, S_IFIFO | 0600,
                                         S_IFSOCK | 0600, S_IFBLK | 0600, S_IFREG | 010000,
                                         UINT32_MAX, S_IFREG | 0x10000 | 0644};
    for (size_t i = 0; i < sizeof bad_modes / sizeof *bad_modes; i++) {
        ino = good_file();
        ino.mode = bad_modes[i];
        CHECK_MSG(bfs_inode_check(&ino) == -EINVAL, "mode %#o", bad_modes[i]);
    }
    ino = good_file();
    ino.mode = S_IFREG | 07777;
    CHECK_EQ_INT(bfs_inode_check(&ino), 0);
#define BAD_FIELD(field, value)                                                                  \
    do {                                                                                         \
        ino = good_file();                                                                       \
        ino.field = value;                                                                       \
        CHECK_MSG(bfs_inode_check(&ino) == -EINVAL, "%s = %s", #field, #value);                 \
    } while (0)
    BAD_FIELD(fileid, 0);
    BAD_FIELD(nlink, 0);
    BAD_FIELD(nlink, BFS_NLINK_MAX + 1);
    BAD_FIELD(uid, UINT32_MAX);
    BAD_FIELD(gid, UINT32_MAX);
    BAD_FIELD(atime_ns, -1);
    BAD_FIELD(mtime_ns, INT64_MIN);
    BAD_FIELD(ctime_ns, -1000000000);

    /* Symbolic links: no chunk size, a size that is the target's length (1..4095). */
    struct bfs_inode lnk = good_file();
    lnk.mode = S_IFLNK | 0777;
    lnk.chunk_size = 0;
    lnk.size = 7;
    CHECK_EQ_INT(bfs_inode_check(&lnk), 0);
    lnk.size = BFS_SYMLINK_MAX;
    CHECK_EQ_INT(bfs_inode_check(&lnk), 0);
    static const uint64_t bad_link_sizes[] = {0, BFS_SYMLINK_MAX + 1, 1ull << 40};
    for (size_t i = 0; i < sizeof bad_link_sizes / sizeof *bad_link_sizes; i++) {
        lnk.size = bad_link_sizes[i];
        CHECK_MSG(bfs_inode_check(&lnk) == -EINVAL, "link size %llu",
                  (unsigned long long)bad_link_sizes[i]);
    }
    lnk.size = 7;
    lnk.chunk_size = 4096; /* a link holds no chunks */
    CHECK_EQ_INT(bfs_inode_check(&lnk), -EINVAL);

    /* Special files: no size, no chunk size, no flags; the extent is the device number. */
    static const uint32_t special[] = {S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++) {
        struct bfs_inode sp = good_file();
        sp.mode = special[i] | 0640;
        sp.chunk_size = 0;
        sp.size = 0;
        sp.extent = BFS_RDEV_MAX;
        CHECK_MSG(bfs_inode_check(&sp) == 0, "special %#o", special[i]);
        CHECK_MSG(bfs_inode_chunk_span(&sp) == 0, "special %#o has chunks", special[i]);
        CHECK(bfs_inode_rdev(&sp) == BFS_RDEV_MAX);
        sp.extent = (uint64_t)BFS_RDEV_MAX + 1;
        CHECK_MSG(bfs_inode_check(&sp) == -EINVAL, "special %#o rdev past 32 bits", special[i]);
        sp.extent = 0;
        sp.size = 1;
        CHECK_MSG(bfs_inode_check(&sp) == -EINVAL, "special %#o with a size", special[i]);
        sp.size = 0;
        sp.chunk_size = 4096;
        CHECK_MSG(bfs_inode_check(&sp) == -EINVAL, "special %#o with chunks", special[i]);
        sp.chunk_size = 0;
        sp.flags = BFS_INO_INLINE;
        CHECK_MSG(bfs_inode_check(&sp) == -EINVAL, "special %#o inline", special[i]);
    }
    CHECK(bfs_inode_rdev(&lnk) == 0);

    /* What the client reads back goes through the same check after the codec. */
    uint8_t buf[BFS_INODE_WIRE_LEN];
    struct bfs_wbuf w;
    ino = good_file();
    ino.chunk_size = 0;
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_inode_put(&w, &ino);
    struct bfs_rbuf r;
    struct bfs_inode back;
    bfs_rb_init(&r, buf, w.len);
    bfs_inode_get(&r, &back);
    CHECK(bfs_rb_done(&r));
    CHECK_EQ_INT(bfs_inode_check(&back), -EINVAL);
}

/* The opcodes added for links and listings with attributes keep the earlier ones' numbers
 * (a server and a client of one build agree anyway; the numbers show in captures and logs). */
static void opcodes(void)
{
    CHECK_EQ_INT(BFS_OP_CHUNK_RELEASE, 22);
    CHECK_EQ_INT(BFS_OP_SYMLINK, 23);
    CHECK_EQ_INT(BFS_OP_READDIRPLUS, 24);
    CHECK(strcmp(bfs_op_name(BFS_OP_SYMLINK), "symlink") == 0);
    CHECK(strcmp(bfs_op_name(BFS_OP_READDIRPLUS), "readdirplus") == 0);
    for (int op = 1; op < BFS_OP__COUNT; op++)
        CHECK_MSG(bfs_op_name(op) != NULL && strcmp(bfs_op_name(op), "invalid") != 0,
                  "op %d has a name", op);
    CHECK(strcmp(bfs_op_name(BFS_OP__COUNT), "invalid") == 0);
}

static void requests(void)
{
    /* MKDIR / CREATE */
    CHECK_EQ_INT(bfs_create_check(1, 0644, 1000, 1000, 4u << 20, BFS_CREATE_EXCL), 0);
    CHECK_EQ_INT(bfs_create_check(0, 0755, 0, 0, 0, 0), 0); /* mkdir: no chunk size */
    for (size_t i = 0; i < sizeof bad_chunk_sizes / sizeof *bad_chunk_sizes; i++)
        CHECK_EQ_INT(bfs_create_check(1, 0644, 0, 0, bad_chunk_sizes[i], 0), -EINVAL);
    CHECK_EQ_INT(bfs_create_check(1, S_IFREG | 0644, 0, 0, 4096, 0), -EINVAL);
    CHECK_EQ_INT(bfs_create_check(0, UINT32_MAX, 0, 0, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_create_check(1, 0644, UINT32_MAX, 0, 4096, 0), -EINVAL);
    CHECK_EQ_INT(bfs_create_check(0, 0755, 0, UINT32_MAX, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_create_check(1, 0644, 0, 0, 4096, 0x80), -EINVAL);

    /* SETATTR: only the fields its mask stores are looked at. */
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_MODE, 0755, UINT32_MAX, UINT32_MAX, -1, -1), 0);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_MODE, 0170755, 0, 0, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_UID, 0, UINT32_MAX, 0, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_GID, 0, 0, UINT32_MAX, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_MTIME, 0, 0, 0, -5, 0), -EINVAL);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_MTIME, 0, 0, 0, INT64_MAX, -1), 0);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_ATIME, 0, 0, 0, -1, -5), -EINVAL);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_ATIME, 0, 0, 0, -1, INT64_MAX), 0);
    CHECK_EQ_INT(bfs_setattr_check(BFS_SETATTR_ATIME | BFS_SETATTR_MTIME, 0, 0, 0, 1, 2), 0);
    CHECK_EQ_INT(bfs_setattr_check(0x20, 0, 0, 0, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_setattr_check(UINT32_MAX, 0644, 1, 1, 1, 1), -EINVAL);

    /* SYMLINK targets: 1..4095 bytes, no NUL. */
    char t[BFS_SYMLINK_MAX + 2];
    memset(t, 'x', sizeof t);
    CHECK_EQ_INT(bfs_symlink_target_check(t, 1), 0);
    CHECK_EQ_INT(bfs_symlink_target_check(t, BFS_SYMLINK_MAX), 0);
    CHECK_EQ_INT(bfs_symlink_target_check(t, BFS_SYMLINK_MAX + 1), -ENAMETOOLONG);
    CHECK_EQ_INT(bfs_symlink_target_check(t, 0), -EINVAL);
    t[3] = '\0';
    CHECK_EQ_INT(bfs_symlink_target_check(t, 5), -EINVAL);

    /* SIZE_UPDATE */
    CHECK_EQ_INT(bfs_size_update_check(BFS_FILE_SIZE_MAX, BFS_SIZE_SET, 0), 0);
    CHECK_EQ_INT(bfs_size_update_check((uint64_t)INT64_MAX + 1, BFS_SIZE_SET, 0), -EFBIG);
    CHECK_EQ_INT(bfs_size_update_check(UINT64_MAX, BFS_SIZE_EXTEND, 0), -EFBIG);
    CHECK_EQ_INT(bfs_size_update_check(0, BFS_SIZE_RESERVE, 0), 0);
    CHECK_EQ_INT(bfs_size_update_check(0, BFS_SIZE_QUERY | BFS_SIZE_SYNC, 0), 0);
    CHECK_EQ_INT(bfs_size_update_check(0, BFS_SIZE_EXTEND | BFS_SIZE_SYNC, 0), 0);
    CHECK_EQ_INT(bfs_size_update_check(0, 4, 0), -EINVAL);
    CHECK_EQ_INT(bfs_size_update_check(0, 0x200, 0), -EINVAL);
    CHECK_EQ_INT(bfs_size_update_check(BFS_FILE_SIZE_MAX + 1, BFS_SIZE_RESERVE, 0), -EFBIG);
    CHECK_EQ_INT(bfs_size_update_check(0, BFS_SIZE_EXTEND, -1), -EINVAL);
}

/* The chunk extent: which chunks can exist (unlink, truncate and fsync address only their
 * servers), and which extents an inode may carry. */
static void extents(void)
{
    struct bfs_inode ino = good_file();
    ino.chunk_size = 4096;
    ino.extent = 0;
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), 1); /* chunk 0 is written without raising */
    ino.extent = 1;
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), 1);
    ino.extent = 4096;
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), 1);
    ino.extent = 4097;
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), 2);
    ino.extent = BFS_FILE_SIZE_MAX;
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), BFS_FILE_SIZE_MAX / 4096 + 1);
    CHECK_EQ_INT(bfs_inode_check(&ino), 0);
    ino.extent = BFS_EXTENT_UNKNOWN; /* a record from an older data directory */
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), UINT64_MAX);
    CHECK_EQ_INT(bfs_inode_check(&ino), 0);
    ino.extent = BFS_FILE_SIZE_MAX + 1;
    CHECK_EQ_INT(bfs_inode_check(&ino), -EINVAL);
    ino.extent = UINT64_MAX - 1;
    CHECK_EQ_INT(bfs_inode_check(&ino), -EINVAL);
    ino.extent = 8192;
    ino.chunk_size = 0; /* never divides by it */
    CHECK_EQ_U64(bfs_inode_chunk_span(&ino), UINT64_MAX);
}

int main(void)
{
    extents();
    chunk_sizes();
    chunk_ranges();
    inodes();
    requests();
    opcodes();
    return check_report("proto");
}
