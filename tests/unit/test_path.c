/* SPDX-License-Identifier: BSD-3-Clause */
/* test_path.c — path normalisation, limits, split and containment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/path.h"

/* Normalise through exact-size heap buffers so ASan catches any access outside them. */
static int norm(const char *in, char *result /* BFS_PATH_MAX */)
{
    char *inb = NULL;
    if (in) {
        size_t n = strlen(in) + 1;
        inb = malloc(n);
        memcpy(inb, in, n);
    }
    char *out = malloc(BFS_PATH_MAX);
    memset(out, 0x7f, BFS_PATH_MAX);
    int rc = bfs_path_normalize(inb, out);
    if (rc == 0) {
        CHECK_MSG(memchr(out, '\0', BFS_PATH_MAX) != NULL, "output of \"%.40s\" not terminated",
                  in);
        memcpy(result, out, BFS_PATH_MAX);
    }
    free(out);
    free(inb);
    return rc;
}

static void test_table(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/", "/"},
        {"//a///b/", "/a/b"},
        {"/a/./b", "/a/b"},
        {"/a/../b", "/b"},
        {"/..", "/"},
        {"/a/b/../../..", "/"},
        /* more of the same rules */
        {"//", "/"},
        {"///", "/"},
        {"/.", "/"},
        {"/./", "/"},
        {"/./.", "/"},
        {"/../..", "/"},
        {"/../a", "/a"},
        {"/a", "/a"},
        {"/a/", "/a"},
        {"/a/b", "/a/b"},
        {"/a/..", "/"},
        {"/a/../", "/"},
        {"/a/b/..", "/a"},
        {"/a/b/.", "/a/b"},
        {"/a//../b", "/b"},
        {"/a/b/c/../../d", "/a/d"},
        {"/a/./././b/./", "/a/b"},
        {"/aa/bb/../cc", "/aa/cc"},
        {"/a/b/../../c/d/../e", "/c/e"},
        /* names that only look special */
        {"/...", "/..."},
        {"/.a", "/.a"},
        {"/a.", "/a."},
        {"/..a/b..", "/..a/b.."},
        {"/a/.../..", "/a"},
        {"/ a/b c", "/ a/b c"},
    };
    char out[BFS_PATH_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 0, sizeof out);
        int rc = norm(cases[i].in, out);
        CHECK_MSG(rc == 0, "normalize(\"%s\") = %d", cases[i].in, rc);
        if (rc == 0)
            CHECK_MSG(strcmp(out, cases[i].out) == 0, "normalize(\"%s\") = \"%s\", expected \"%s\"",
                      cases[i].in, out, cases[i].out);
    }
}

static void test_invalid(void)
{
    static const char *const bad[] = {"", "a/b", "a", ".", "..", "./a", "../a", " /a", "a/"};
    char out[BFS_PATH_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = norm(bad[i], out);
        CHECK_MSG(rc == -EINVAL, "normalize(\"%s\") = %d, expected -EINVAL", bad[i], rc);
    }
    CHECK_EQ_INT(norm(NULL, out), -EINVAL);
}

/* "/" followed by `n` copies of c. */
static char *component(size_t n, char c)
{
    char *s = malloc(n + 2);
    s[0] = '/';
    memset(s + 1, c, n);
    s[n + 1] = '\0';
    return s;
}

/* A path of exactly `len` bytes made of 255-byte components (the last one shorter). */
static char *long_path(size_t len)
{
    char *s = malloc(len + 1);
    size_t o = 0;
    while (o < len) {
        s[o++] = '/';
        for (size_t k = 0; k < BFS_NAME_MAX && o < len; k++)
            s[o++] = (char)('a' + k % 26);
    }
    s[len] = '\0';
    return s;
}

static void test_limits(void)
{
    char out[BFS_PATH_MAX];
    char *p;

    /* One component. */
    p = component(255, 'n');
    CHECK_EQ_INT(norm(p, out), 0);
    CHECK_EQ_STR(out, p);
    free(p);
    p = component(256, 'n');
    CHECK_EQ_INT(norm(p, out), -ENAMETOOLONG);
    free(p);
    p = component(1000, 'n');
    CHECK_EQ_INT(norm(p, out), -ENAMETOOLONG);
    free(p);

    /* A 256-byte component deeper down, with a trailing slash, or later undone by "..". */
    {
        char *c = component(256, 'm');
        char buf[600];
        snprintf(buf, sizeof buf, "/a/b%s/c", c);
        CHECK_EQ_INT(norm(buf, out), -ENAMETOOLONG);
        snprintf(buf, sizeof buf, "/a%s/", c);
        CHECK_EQ_INT(norm(buf, out), -ENAMETOOLONG);
        snprintf(buf, sizeof buf, "%s/..", c);
        CHECK_EQ_INT(norm(buf, out), -ENAMETOOLONG);
        free(c);
        c = component(255, 'm');
        snprintf(buf, sizeof buf, "/a/b%s/c", c);
        CHECK_EQ_INT(norm(buf, out), 0);
        CHECK_EQ_STR(out, buf);
        free(c);
    }

    /* The whole path: 4095 bytes (BFS_PATH_MAX - 1) is the longest allowed. */
    p = long_path(BFS_PATH_MAX - 1);
    CHECK_EQ_U64(strlen(p), 4095);
    CHECK_EQ_INT(norm(p, out), 0);
    CHECK_EQ_STR(out, p);
    free(p);
    p = long_path(BFS_PATH_MAX);
    CHECK_EQ_U64(strlen(p), 4096);
    CHECK_EQ_INT(norm(p, out), -ENAMETOOLONG);
    free(p);
    p = long_path(BFS_PATH_MAX + 1);
    CHECK_EQ_INT(norm(p, out), -ENAMETOOLONG);
    free(p);
    p = long_path(3 * BFS_PATH_MAX);
    CHECK_EQ_INT(norm(p, out), -ENAMETOOLONG);
    free(p);

    /* Short components too (more separators per byte). */
    {
        char *s = malloc(BFS_PATH_MAX + 2);
        for (size_t i = 0; i < BFS_PATH_MAX + 1; i++)
            s[i] = (i % 2) ? 'x' : '/';
        s[BFS_PATH_MAX - 1] = '\0'; /* 4095 bytes: "/x/x/.../x/" */
        CHECK_EQ_INT(norm(s, out), 0);
        CHECK_EQ_U64(strlen(out), BFS_PATH_MAX - 2); /* trailing slash dropped */
        s[BFS_PATH_MAX - 1] = 'x';
        s[BFS_PATH_MAX] = '\0'; /* 4096 bytes */
        CHECK_EQ_INT(norm(s, out), -ENAMETOOLONG);
        free(s);
    }

    /* An over-long input is refused even when it would normalise to something short. */
    {
        char *s = malloc(BFS_PATH_MAX + 1);
        memset(s, '/', BFS_PATH_MAX);
        s[BFS_PATH_MAX] = '\0'; /* 4096 slashes */
        CHECK_EQ_INT(norm(s, out), -ENAMETOOLONG);
        s[BFS_PATH_MAX - 1] = '\0'; /* 4095 slashes */
        CHECK_EQ_INT(norm(s, out), 0);
        CHECK_EQ_STR(out, "/");
        free(s);
    }
}

/* Reference normaliser: a stack of components. */
static int ref_normalize(const char *in, char *out)
{
    char comps[64][8];
    int depth = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 1 && s[0] == '.')
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (depth > 0)
                depth--;
            continue;
        }
        memcpy(comps[depth], s, n);
        comps[depth][n] = '\0';
        depth++;
    }
    out[0] = '\0';
    if (depth == 0)
        strcpy(out, "/");
    for (int i = 0; i < depth; i++) {
        strcat(out, "/");
        strcat(out, comps[i]);
    }
    return 0;
}

static void test_random(void)
{
    static const char *const parts[] = {"a", "bc", ".", "..", "", "...", "x.y"};
    uint64_t rng = 7;
    char in[512], out[BFS_PATH_MAX], again[BFS_PATH_MAX], ref[512];
    int bad = 0;
    for (int it = 0; it < 20000 && bad < 5; it++) {
        size_t o = 0;
        int n = (int)(check_rand(&rng) % 12);
        in[o++] = '/';
        for (int k = 0; k < n; k++) {
            const char *part = parts[check_rand(&rng) % 7];
            size_t l = strlen(part);
            memcpy(in + o, part, l);
            o += l;
            in[o++] = '/';
        }
        if (check_rand(&rng) & 1)
            o--; /* drop the trailing slash (leaves "" for the bare root: restore it) */
        if (o == 0)
            o = 1;
        in[o] = '\0';
        ref_normalize(in, ref);
        int rc = norm(in, out);
        if (rc != 0 || strcmp(out, ref) != 0) {
            bad++;
            CHECK_MSG(0, "normalize(\"%s\") = %d \"%s\", expected \"%s\"", in, rc,
                      rc ? "" : out, ref);
            continue;
        }
        /* Idempotent. */
        rc = norm(out, again);
        CHECK_MSG(rc == 0 && strcmp(again, out) == 0, "normalize not idempotent on \"%s\"", out);
    }
}

static void test_split(void)
{
    char parent[BFS_PATH_MAX];
    const char *path, *name;

    path = "/a";
    memset(parent, 'x', sizeof parent);
    name = bfs_path_split(path, parent);
    CHECK_EQ_STR(parent, "/");
    CHECK_EQ_STR(name, "a");
    CHECK(name == path + 1); /* points into the path */

    path = "/a/b/c";
    memset(parent, 'x', sizeof parent);
    name = bfs_path_split(path, parent);
    CHECK_EQ_STR(parent, "/a/b");
    CHECK_EQ_STR(name, "c");
    CHECK(name == path + 5);

    path = "/abc/def";
    name = bfs_path_split(path, parent);
    CHECK_EQ_STR(parent, "/abc");
    CHECK_EQ_STR(name, "def");

    path = "/";
    memset(parent, 'x', sizeof parent);
    name = bfs_path_split(path, parent);
    CHECK(name == NULL);

    /* The longest path splits too. */
    char *p = long_path(BFS_PATH_MAX - 1);
    name = bfs_path_split(p, parent);
    CHECK(name != NULL);
    if (name) {
        CHECK_EQ_U64(strlen(parent) + 1 + strlen(name), BFS_PATH_MAX - 1);
        CHECK(strncmp(parent, p, strlen(parent)) == 0);
    }
    free(p);
}

static void test_within(void)
{
    static const struct {
        const char *path, *dir;
        int want;
    } cases[] = {
        {"/a/b", "/a", 1},  {"/a", "/a", 1},      {"/a/b/c", "/a", 1},  {"/a/b/c", "/a/b", 1},
        {"/ab", "/a", 0},   {"/a", "/ab", 0},     {"/a", "/a/b", 0},    {"/b", "/a", 0},
        {"/a/bc", "/a/b", 0}, {"/ab/c", "/a", 0}, {"/", "/a", 0},
        {"/", "/", 1},      {"/a", "/", 1},       {"/a/b/c", "/", 1},   {"/ab", "/", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = bfs_path_is_within(cases[i].path, cases[i].dir) != 0;
        CHECK_MSG(got == cases[i].want, "is_within(\"%s\", \"%s\") = %d, expected %d",
                  cases[i].path, cases[i].dir, got, cases[i].want);
    }
}

int main(void)
{
    test_table();
    test_invalid();
    test_limits();
    test_random();
    test_split();
    test_within();
    return check_report("test_path");
}
