/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfs_find against a tree built with known matches: names, sizes, modification times and
 * types, inside a directory next to a decoy tree of the same names that must never be
 * reported. Every count is compared exactly with what the test created; small pages and scan
 * budgets force the cursor through many calls, and server ranges split the work as MPI ranks
 * would, each match reported exactly once.
 *
 * Usage: test_find NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"

#define NFILES 300
#define NEW_FROM 150 /* files NEW_FROM.. are created after the stamp */
#define NDIRS 9      /* /ft, /ft/d0..d3, /ft/dK/sub */

static int nsrv;
static uint64_t sizes[NFILES];

static uint64_t size_of(int i)
{
    if (i % 5 == 0 || i % 100 == 1)
        return 3901;
    if (i % 7 == 0)
        return 0;
    return (uint64_t)(i * 37 % 9000);
}

static void file_path(int i, char *out, size_t cap, const char *top)
{
    if (i % 3 == 0)
        snprintf(out, cap, "%s/d%d/sub/f%03d", top, i % 4, i);
    else
        snprintf(out, cap, "%s/d%d/f%03d", top, i % 4, i);
}

static int put_file(benchfs_t *fs, const char *path, uint64_t len)
{
    static char buf[9000];
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = len ? benchfs_write(fs, fd, buf, len) : 0;
    int rc = benchfs_close(fs, fd);
    return n == (ssize_t)len && rc == 0 ? 0 : -1;
}

static void make_tree(benchfs_t *fs, const char *top, int from, int to)
{
    char p[256];
    if (from == 0) {
        CHECK_OK(benchfs_mkdir(fs, top, 0755));
        for (int d = 0; d < 4; d++) {
            snprintf(p, sizeof p, "%s/d%d", top, d);
            CHECK_OK(benchfs_mkdir(fs, p, 0755));
            snprintf(p, sizeof p, "%s/d%d/sub", top, d);
            CHECK_OK(benchfs_mkdir(fs, p, 0755));
        }
    }
    for (int i = from; i < to; i++) {
        file_path(i, p, sizeof p, top);
        CHECK_OK(put_file(fs, p, size_of(i)));
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What a find saw: how many, and that no file came twice or from outside /ft. */
struct seen {
    unsigned char files[NFILES];
    int dirs, files_n, dup, stray, bad_attr;
    int stop_after; /* > 0: ask to stop after this many */
    int calls;
};

static int on_match(const char *path, const benchfs_stat_t *st, void *arg)
{
    struct seen *s = arg;
    s->calls++;
    if (strncmp(path, "/ft", 3) != 0 || (path[3] != '\0' && path[3] != '/')) {
        s->stray++;
    } else if (S_ISDIR(st->mode)) {
        s->dirs++;
    } else {
        const char *f = strrchr(path, '/');
        int i = -1;
        if (f && sscanf(f, "/f%d", &i) == 1 && i >= 0 && i < NFILES) {
            if (s->files[i]++)
                s->dup++;
            if (st->size != sizes[i])
                s->bad_attr++;
        } else {
            s->stray++;
        }
        s->files_n++;
    }
    return s->stop_after > 0 && s->calls >= s->stop_after;
}

/* Run one find over all servers with the given page/scan, check the counts. */
static void expect(benchfs_t *fs, benchfs_find_spec_t spec, int want_files, int want_dirs,
                   const char *what)
{
    static const uint32_t pages[][2] = {{0, 0}, {3, 7}, {1, 1}};
    for (size_t k = 0; k < sizeof pages / sizeof pages[0]; k++) {
        spec.page = pages[k][0];
        spec.scan = pages[k][1];
        struct seen s = {0};
        benchfs_find_stats_t st;
        int before = test_failures;
        CHECK_OK(benchfs_find(fs, "/ft", &spec, 0, nsrv, on_match, &s, &st));
        CHECK(s.files_n == want_files);
        CHECK(s.dirs == want_dirs);
        CHECK(s.dup == 0 && s.stray == 0 && s.bad_attr == 0);
        CHECK(st.matched == (uint64_t)(want_files + want_dirs));
        CHECK(st.examined == NFILES + NDIRS); /* find's "total files": the tree under /ft */
        CHECK(st.scanned >= st.examined);
        if (spec.scan == 1)
            CHECK(st.rpcs >= st.scanned); /* one record per call: the cursor did the work */
        if (test_failures != before)
            fprintf(stderr, "  in: %s (page %u scan %u): files %d/%d dirs %d/%d dup %d stray "
                            "%d attr %d matched %llu examined %llu\n",
                    what, spec.page, spec.scan, s.files_n, want_files, s.dirs, want_dirs, s.dup,
                    s.stray, s.bad_attr, (unsigned long long)st.matched,
                    (unsigned long long)st.examined);
    }
    /* Split over the servers, one share at a time, as the ranks of an MPI job would. */
    struct seen s = {0};
    uint64_t total = 0;
    for (int lo = 0; lo < nsrv; lo++) {
        benchfs_find_stats_t st;
        CHECK_OK(benchfs_find(fs, "/ft", &spec, lo, lo + 1, on_match, &s, &st));
        total += st.matched;
    }
    CHECK(s.files_n == want_files && s.dirs == want_dirs && s.dup == 0 && s.stray == 0);
    CHECK(total == (uint64_t)(want_files + want_dirs));
}

int main(int argc, char **argv)
{
    nsrv = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, nsrv, NULL);
    benchfs_t *fs = cluster_client(&c, 0);
    for (int i = 0; i < NFILES; i++)
        sizes[i] = size_of(i);

    /* The decoy: same names outside /ft (and a sibling whose name extends it). */
    make_tree(fs, "/ftx", 0, 40);
    make_tree(fs, "/ft", 0, NEW_FROM);
    sleep_ms(30);
    CHECK_OK(put_file(fs, "/stamp", 1));
    benchfs_stat_t stamp;
    CHECK_OK(benchfs_stat(fs, "/stamp", &stamp));
    sleep_ms(30);
    make_tree(fs, "/ft", NEW_FROM, NFILES);

    /* The expected counts, from what was created. */
    int n01 = 0, n3901 = 0, nio500 = 0, nempty = 0, nbig = 0, nblk8 = 0, nnew = 0;
    for (int i = 0; i < NFILES; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%03d", i);
        int has01 = strstr(name, "01") != NULL;
        n01 += has01;
        n3901 += sizes[i] == 3901;
        nempty += sizes[i] == 0;
        nbig += sizes[i] > 4096;                  /* -size +4k */
        nblk8 += (sizes[i] + 511) / 512 == 8;     /* -size 8 (512-byte blocks, rounded up) */
        nnew += i >= NEW_FROM;
        nio500 += i >= NEW_FROM && sizes[i] == 3901 && has01;
    }
    CHECK(nio500 > 0 && n01 > nio500 && nempty > 0 && nbig > 0 && nblk8 > 0 && n3901 > nio500);

    benchfs_find_spec_t all = {0};
    expect(fs, all, NFILES, NDIRS, "everything");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_TYPE, .types = BENCHFS_FIND_FILE},
           NFILES, 0, "-type f");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_TYPE, .types = BENCHFS_FIND_DIR}, 0,
           NDIRS, "-type d");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_NAME, .name = "*01*"}, n01, 0,
           "-name *01*");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_NAME, .name = "sub"}, 0, 4,
           "-name sub");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_NAME, .name = "f[0-9][0-9]7"},
           NFILES / 10, 0, "-name f[0-9][0-9]7");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_SIZE, .size = 3901, .size_unit = 1},
           n3901, 0, "-size 3901c");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_SIZE | BENCHFS_FIND_TYPE,
                                     .size = 1, .size_unit = 1024, .size_cmp = -1,
                                     .types = BENCHFS_FIND_FILE},
           nempty, 0, "-type f -size -1k");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_SIZE, .size = 4, .size_unit = 1024,
                                     .size_cmp = 1},
           nbig, 0, "-size +4k");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_SIZE, .size = 8, .size_unit = 512},
           nblk8, 0, "-size 8");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_NEWER | BENCHFS_FIND_TYPE,
                                     .newer_ns = stamp.mtime_ns, .types = BENCHFS_FIND_FILE},
           nnew, 0, "-type f -newer /stamp");
    expect(fs, (benchfs_find_spec_t){.flags = BENCHFS_FIND_NEWER | BENCHFS_FIND_SIZE |
                                              BENCHFS_FIND_NAME,
                                     .newer_ns = stamp.mtime_ns, .size = 3901, .size_unit = 1,
                                     .name = "*01*"},
           nio500, 0, "io500: -newer -size 3901c -name *01*");

    /* A subtree, and a file as the starting point (it is tested itself, as find does). */
    struct seen s = {0};
    benchfs_find_stats_t st;
    CHECK_OK(benchfs_find(fs, "/ft/d0/sub", NULL, 0, nsrv, on_match, &s, &st));
    int want0 = 0;
    for (int i = 0; i < NFILES; i++)
        want0 += i % 3 == 0 && i % 4 == 0;
    CHECK(s.files_n == want0 && s.dirs == 1 && st.examined == (uint64_t)want0 + 1);
    memset(&s, 0, sizeof s);
    CHECK_OK(benchfs_find(fs, "/ft/d1/f001", NULL, 0, nsrv, on_match, &s, &st));
    CHECK(s.files_n == 1 && s.files[1] == 1 && st.matched == 1);
    /* A trailing slash and "." are the same directory. */
    memset(&s, 0, sizeof s);
    CHECK_OK(benchfs_find(fs, "/ft/./", &all, 0, nsrv, on_match, &s, &st));
    CHECK(s.files_n == NFILES && s.dirs == NDIRS);

    /* Stopping early: the callback's non-zero return ends the find, which succeeds. */
    memset(&s, 0, sizeof s);
    s.stop_after = 5;
    CHECK_OK(benchfs_find(fs, "/ft", &(benchfs_find_spec_t){.page = 2}, 0, nsrv, on_match, &s,
                          &st));
    CHECK(s.calls == 5 && st.matched == 5);

    /* Bad input: clear errors, nothing reported. */
    memset(&s, 0, sizeof s);
    CHECK_ERR(benchfs_find(fs, "/nope", NULL, 0, nsrv, on_match, &s, NULL), ENOENT);
    CHECK_ERR(benchfs_find(fs, "/ft/d1/f001/x", NULL, 0, nsrv, on_match, &s, NULL), ENOTDIR);
    CHECK_ERR(benchfs_find(fs, "relative", NULL, 0, nsrv, on_match, &s, NULL), EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", &(benchfs_find_spec_t){.flags = 0x100}, 0, nsrv, on_match,
                           &s, NULL),
              EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", &(benchfs_find_spec_t){.flags = BENCHFS_FIND_TYPE}, 0,
                           nsrv, on_match, &s, NULL),
              EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", &(benchfs_find_spec_t){.flags = BENCHFS_FIND_SIZE, .size = 1},
                           0, nsrv, on_match, &s, NULL),
              EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", &(benchfs_find_spec_t){.flags = BENCHFS_FIND_NAME}, 0,
                           nsrv, on_match, &s, NULL),
              EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", NULL, 0, nsrv + 1, on_match, &s, NULL), EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", NULL, 1, 0, on_match, &s, NULL), EINVAL);
    CHECK_ERR(benchfs_find(fs, "/ft", NULL, -1, 1, on_match, &s, NULL), EINVAL);
    CHECK_ERR(benchfs_find(NULL, "/ft", NULL, 0, 1, on_match, &s, NULL), EINVAL);
    CHECK(s.calls == 0);
    /* An empty range asks nobody; a NULL callback only counts. */
    CHECK_OK(benchfs_find(fs, "/ft", NULL, 1, 1, on_match, &s, &st));
    CHECK(s.calls == 0 && st.rpcs == 0);
    CHECK_OK(benchfs_find(fs, "/ft", NULL, 0, nsrv, NULL, NULL, &st));
    CHECK(st.matched == NFILES + NDIRS);

    /* The servers counted the calls. */
    CHECK(cluster_counter(fs, nsrv, "find.count") > 0);

    benchfs_term(fs);
    cluster_stop(&c);
    return test_finish("test_find");
}
