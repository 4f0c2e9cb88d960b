/* SPDX-License-Identifier: BSD-3-Clause */
/* test_find_filter.c — the FIND filter: find(1)'s -size rounding and comparisons, -name
 * globbing of the last component, -newer, -type, and the wire form's checks (a filter that
 * means nothing is refused, never guessed at). */
#include <errno.h>
#include <sys/stat.h>

#include "check.h"
#include "common/find_filter.h"

static struct bfs_inode file_of(uint64_t size, int64_t mtime)
{
    struct bfs_inode ino = {.fileid = 1, .size = size, .mode = S_IFREG | 0644,
                            .chunk_size = 4096, .nlink = 1, .mtime_ns = mtime};
    return ino;
}

static void test_size(void)
{
    /* Rounded up to whole units, as find does: 1 byte is one 512-byte block, and "-size -1k"
     * matches only empty files. */
    CHECK(bfs_find_size_match(3901, 3901, 1, BFS_FIND_SIZE_EQ));
    CHECK(!bfs_find_size_match(3900, 3901, 1, BFS_FIND_SIZE_EQ));
    CHECK(bfs_find_size_match(1, 1, 512, BFS_FIND_SIZE_EQ));
    CHECK(bfs_find_size_match(512, 1, 512, BFS_FIND_SIZE_EQ));
    CHECK(!bfs_find_size_match(513, 1, 512, BFS_FIND_SIZE_EQ));
    CHECK(bfs_find_size_match(0, 0, 512, BFS_FIND_SIZE_EQ));
    CHECK(bfs_find_size_match(0, 1, 1024, BFS_FIND_SIZE_LT));
    CHECK(!bfs_find_size_match(1, 1, 1024, BFS_FIND_SIZE_LT));
    CHECK(!bfs_find_size_match(4096, 4, 1024, BFS_FIND_SIZE_GT));
    CHECK(bfs_find_size_match(4097, 4, 1024, BFS_FIND_SIZE_GT));
    CHECK(bfs_find_size_match(UINT64_MAX, 1, 1, BFS_FIND_SIZE_GT));
    CHECK(bfs_find_size_match(UINT64_MAX, UINT64_MAX / 512 + 1, 512, BFS_FIND_SIZE_EQ));
}

static void test_match(void)
{
    struct bfs_find_filter f = {.flags = BFS_FIND_NAME};
    struct bfs_inode a = file_of(3901, 100);
    strcpy(f.name, "*01*");
    CHECK(bfs_find_match(&f, "file.01.txt", &a));
    CHECK(!bfs_find_match(&f, "file.0.1", &a));
    strcpy(f.name, "*");
    CHECK(bfs_find_match(&f, ".hidden", &a)); /* GNU find: wildcards match a leading dot */
    strcpy(f.name, "f[0-9]?");
    CHECK(bfs_find_match(&f, "f1x", &a));
    CHECK(!bfs_find_match(&f, "fx1", &a));

    f = (struct bfs_find_filter){.flags = BFS_FIND_NEWER, .newer_ns = 100};
    CHECK(!bfs_find_match(&f, "x", &a)); /* strictly newer */
    a.mtime_ns = 101;
    CHECK(bfs_find_match(&f, "x", &a));

    f = (struct bfs_find_filter){.flags = BFS_FIND_TYPE, .types = BFS_FIND_T_DIR};
    CHECK(!bfs_find_match(&f, "x", &a));
    struct bfs_inode d = a;
    d.mode = S_IFDIR | 0755;
    CHECK(bfs_find_match(&f, "x", &d));
    f.types = BFS_FIND_T_FILE | BFS_FIND_T_DIR;
    CHECK(bfs_find_match(&f, "x", &a) && bfs_find_match(&f, "x", &d));

    /* Every test must hold. */
    f = (struct bfs_find_filter){.flags = BFS_FIND_ALL, .newer_ns = 50, .size = 3901,
                                 .size_unit = 1, .types = BFS_FIND_T_FILE};
    strcpy(f.name, "*01*");
    a.size = 3901;
    CHECK(bfs_find_match(&f, "f01", &a));
    CHECK(!bfs_find_match(&f, "f02", &a));
    a.size = 3902;
    CHECK(!bfs_find_match(&f, "f01", &a));
    f.flags = 0;
    CHECK(bfs_find_match(&f, "anything", &a));
}

static void test_wire(void)
{
    struct bfs_find_filter f = {.flags = BFS_FIND_ALL, .newer_ns = -5, .size = 7,
                                .size_unit = 1024, .size_cmp = BFS_FIND_SIZE_LT,
                                .types = BFS_FIND_T_DIR};
    strcpy(f.name, "a*b");
    uint8_t buf[2048];
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_find_filter_put(&w, &f);
    CHECK(!w.err);
    struct bfs_find_filter g;
    struct bfs_rbuf r;
    bfs_rb_init(&r, buf, w.len);
    CHECK_EQ_INT(bfs_find_filter_get(&r, &g), 0);
    CHECK(bfs_rb_done(&r));
    CHECK_EQ_STR(g.name, "a*b");
    CHECK(g.flags == f.flags && g.newer_ns == -5 && g.size == 7 && g.size_unit == 1024 &&
          g.size_cmp == BFS_FIND_SIZE_LT && g.types == BFS_FIND_T_DIR);
    /* Short: EPROTO at every cut. */
    for (size_t cut = 0; cut < w.len; cut++) {
        bfs_rb_init(&r, buf, cut);
        CHECK_EQ_INT(bfs_find_filter_get(&r, &g), -EPROTO);
    }
    /* Meaningless filters are refused. */
    struct bfs_find_filter bad[] = {
        {.flags = 16},
        {.flags = BFS_FIND_SIZE, .size_unit = 0},
        {.flags = BFS_FIND_SIZE, .size_unit = 1, .size_cmp = 3},
        {.flags = BFS_FIND_TYPE, .types = 0},
        {.flags = BFS_FIND_TYPE, .types = 8},
        {.flags = BFS_FIND_NAME}, /* empty pattern */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(bfs_find_filter_check(&bad[i]), -EINVAL);
        bfs_wb_init(&w, buf, sizeof buf);
        bfs_find_filter_put(&w, &bad[i]);
        bfs_rb_init(&r, buf, w.len);
        CHECK_EQ_INT(bfs_find_filter_get(&r, &g), -EINVAL);
    }
    /* Unused fields do not matter when their test is off. */
    struct bfs_find_filter loose = {.flags = BFS_FIND_NAME, .size_unit = 0, .types = 99};
    strcpy(loose.name, "x");
    CHECK_EQ_INT(bfs_find_filter_check(&loose), 0);
}

int main(void)
{
    test_size();
    test_match();
    test_wire();
    return check_report("test_find_filter");
}
