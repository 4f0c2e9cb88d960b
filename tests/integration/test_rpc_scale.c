/* SPDX-License-Identifier: BSD-3-Clause */
/* test_rpc_scale — what each POSIX-level call costs in RPCs does not grow with the servers.
 *
 * Every server counts the requests it serves (benchfs_server_stats); the sum over all servers
 * of every per-op count, taken before and after a call, is exactly the RPCs that call sent.
 * For a file with fewer chunks than servers, create+write+close, stat, open+read+close,
 * fsync, truncate and unlink each send the same fixed number whatever the server count (run
 * with 2, 16 and 64 servers), and syncfs one request per server however many files were
 * written; unlink of a multi-chunk file sends REMOVE plus one CHUNK_REMOVE
 * per distinct server of the chunks below the file's reserved extent (docs/DESIGN.md,
 * "Chunk extent"), computed here from the same ring. Chunk data goes through the servers
 * (direct access to same-host chunk files would hide chunk RPCs from the counts).
 *
 * Second part: a writer killed (SIGKILL) after writing chunks far past the size it had
 * published still has every chunk removed by unlink: no chunk file is left in any server's
 * data directory. Once with the writer's data through the servers, once written directly.
 *
 * Third: a record as an older server stored it (no extent after the path) reads back as
 * "extent unknown", and its unlink frees the chunks on every server. */
#include <dirent.h>
#include <lmdb.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/ring.h"

#define CHUNK 4096u
/* Modest per-server settings, so 64 idle servers fit on a small machine. */
#define SERVER_FLAGS "--meta-map-size 64M --buffer-cache 4M --queue-depth 32 --max-open-chunks 64"

/* Per-op counts summed over every server (the STATS calls that read them excluded). */
struct counts {
    long total;
    long op[64];
    char name[64][24];
    int nops;
};

static int read_counts(benchfs_t *fs, int n, struct counts *out)
{
    static char buf[65536];
    memset(out, 0, sizeof *out);
    for (int s = 0; s < n; s++) {
        if (benchfs_server_stats(fs, s, buf, sizeof buf) < 0)
            return -1;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
            char *dot = strstr(line, ".count ");
            if (!dot || (size_t)(dot - line) >= sizeof out->name[0] ||
                strncmp(line, "stats.count", 11) == 0)
                continue;
            long v = strtol(dot + 7, NULL, 10);
            int i = 0;
            while (i < out->nops && strncmp(out->name[i], line, (size_t)(dot - line)) != 0)
                i++;
            if (i == out->nops && out->nops < 64) {
                memcpy(out->name[i], line, (size_t)(dot - line));
                out->name[i][dot - line] = '\0';
                out->nops++;
            }
            if (i < 64)
                out->op[i] += v;
            out->total += v;
        }
    }
    return 0;
}

static struct counts before_;
static benchfs_t *fs_;
static int n_;
static struct cluster *c_;
static long chunk_files(struct cluster *c);

static void start_count(void) { CHECK(read_counts(fs_, n_, &before_) == 0); }

/* RPCs since start_count(), printed by op; checks the total against `want` (-1: only print). */
static long end_count(const char *what, long want)
{
    struct counts after;
    CHECK(read_counts(fs_, n_, &after) == 0);
    long total = after.total - before_.total;
    printf("%2d servers  %-28s %3ld RPCs:", n_, what, total);
    for (int i = 0; i < after.nops; i++) {
        long was = 0;
        for (int j = 0; j < before_.nops; j++)
            if (strcmp(before_.name[j], after.name[i]) == 0)
                was = before_.op[j];
        if (after.op[i] != was)
            printf(" %s %ld", after.name[i], after.op[i] - was);
    }
    printf("\n");
    if (want >= 0 && total != want) {
        fprintf(stderr, "FAIL %s with %d servers: %ld RPCs, expected %ld\n", what, n_, total,
                want);
        test_failures++;
    }
    return total;
}

/* Distinct servers of chunks 0..k-1 of a file: what a call addressing those chunks sends. */
static long distinct_servers(uint64_t fileid, uint64_t k)
{
    struct bfs_ring ring;
    if (bfs_ring_init(&ring, (uint32_t)n_, 0) != 0)
        return -1;
    char seen[CLUSTER_MAX] = {0};
    long d = 0;
    for (uint64_t i = 0; i < k; i++) {
        uint32_t s = bfs_ring_lookup(&ring, bfs_hash_chunk(fileid, i));
        if (!seen[s]++)
            d++;
    }
    bfs_ring_free(&ring);
    return d;
}

static void count_calls(void)
{
    static char data[4 * CHUNK];
    char buf[16];
    benchfs_stat_t st;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 1);
    CHECK_OK(benchfs_mkdir(fs_, "/d", 0755));

    start_count();
    int fd = benchfs_open(fs_, "/d/f", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs_, fd, "abc", 3) == 3);
    CHECK_OK(benchfs_close(fs_, fd));
    /* parent LOOKUP, CREATE, CHUNK_WRITE, SIZE_UPDATE */
    end_count("create+write(3)+close", 4);

    start_count();
    CHECK_OK(benchfs_stat(fs_, "/d/f", &st));
    CHECK(st.size == 3);
    end_count("stat", 1);

    start_count();
    fd = benchfs_open(fs_, "/d/f", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_read(fs_, fd, buf, 3) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK_OK(benchfs_close(fs_, fd));
    end_count("open+read+close", 2); /* LOOKUP, CHUNK_READ */
    fd = benchfs_open(fs_, "/d/f", O_RDONLY, 0);
    CHECK(fd >= 0);
    start_count();
    /* Asking past the size it knows, a reader asks the owner again (a size published since) */
    CHECK(benchfs_read(fs_, fd, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    end_count("read past the known size", 2); /* LOOKUP, CHUNK_READ */
    CHECK_OK(benchfs_close(fs_, fd));

    fd = benchfs_open(fs_, "/d/f", O_WRONLY, 0);
    CHECK(fd >= 0);
    start_count();
    CHECK_OK(benchfs_fsync(fs_, fd));
    end_count("fsync (nothing unpublished)", 2); /* SIZE_UPDATE(sync), FSYNC of chunk 0 */
    CHECK(benchfs_pwrite(fs_, fd, "de", 2, 3) == 2);
    start_count();
    CHECK_OK(benchfs_fsync(fs_, fd));
    end_count("fsync (after a write)", 2);
    start_count();
    CHECK_OK(benchfs_close(fs_, fd));
    end_count("close (published by fsync)", 0);

    start_count();
    CHECK_OK(benchfs_truncate(fs_, "/d/f", 1));
    end_count("truncate", 3); /* LOOKUP, SIZE_UPDATE(SET), CHUNK_TRUNCATE */
    CHECK_OK(benchfs_stat(fs_, "/d/f", &st));
    CHECK(st.size == 1);

    start_count();
    CHECK_OK(benchfs_unlink(fs_, "/d/f"));
    end_count("unlink", 3); /* parent LOOKUP, REMOVE, CHUNK_REMOVE */
    CHECK_ERR(benchfs_stat(fs_, "/d/f", &st), ENOENT);

    /* Four chunks in one write: the extent is raised once (to 4 chunks) first; then every
     * piece is reserved before any is written (all or nothing on ENOSPC). */
    start_count();
    fd = benchfs_open(fs_, "/d/big", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs_, fd, data, sizeof data) == (ssize_t)sizeof data);
    CHECK_OK(benchfs_close(fs_, fd));
    end_count("create+write(4 chunks)+close", 12);
    CHECK_OK(benchfs_stat(fs_, "/d/big", &st));
    long d = distinct_servers(st.ino, 4);
    start_count();
    CHECK_OK(benchfs_unlink(fs_, "/d/big"));
    end_count("unlink (4 chunks)", 2 + d);
    CHECK(chunk_files(c_) == 0);

    /* Three chunks at once: the extent must cover all three (not just twice the one). */
    fd = benchfs_open(fs_, "/d/three", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs_, fd, data, 3 * CHUNK) == (ssize_t)(3 * CHUNK));
    CHECK_OK(benchfs_close(fs_, fd));
    CHECK(chunk_files(c_) == 3);
    CHECK_OK(benchfs_unlink(fs_, "/d/three"));
    CHECK(chunk_files(c_) == 0);

    /* Writing chunk by chunk raises the extent geometrically: at chunks 1 and 2 (to 2, then
     * 4 chunks), not at chunk 3. */
    fd = benchfs_open(fs_, "/d/seq", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    start_count();
    for (int k = 0; k < 4; k++)
        CHECK(benchfs_write(fs_, fd, data, CHUNK) == (ssize_t)CHUNK);
    end_count("4 chunk-sized writes", 6);
    CHECK_OK(benchfs_close(fs_, fd));
    CHECK_OK(benchfs_unlink(fs_, "/d/seq"));

    /* syncfs: one SYNCFS per server however many files were written, after publishing the
     * size of the one still open (seen by another client then). */
    char p[32];
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "/d/s%d", i);
        fd = benchfs_open(fs_, p, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0 && benchfs_write(fs_, fd, data, 100) == 100);
        CHECK_OK(benchfs_close(fs_, fd));
    }
    fd = benchfs_open(fs_, "/d/open", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && benchfs_write(fs_, fd, data, CHUNK) == (ssize_t)CHUNK);
    start_count();
    CHECK_OK(benchfs_syncfs(fs_));
    end_count("syncfs (20 files, 1 open)", n_ + 1); /* SIZE_UPDATE, SYNCFS x servers */
    benchfs_t *other = cluster_client(c_, 10000);
    CHECK_OK(benchfs_stat(other, "/d/open", &st));
    CHECK(st.size == CHUNK);
    CHECK_OK(benchfs_term(other));
    CHECK_OK(benchfs_close(fs_, fd));
    CHECK_OK(benchfs_unlink(fs_, "/d/open"));
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "/d/s%d", i);
        CHECK_OK(benchfs_unlink(fs_, p));
    }
    CHECK_OK(benchfs_rmdir(fs_, "/d"));
}

/* Regular files below dir, recursively (chunk files left behind). */
static long count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(p);
        else if (S_ISREG(st.st_mode))
            n++;
    }
    closedir(d);
    return n;
}

static long chunk_files(struct cluster *c)
{
    long n = 0;
    for (int i = 0; i < c->n; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/chunks", c->data[i]);
        n += count_files(p);
    }
    return n;
}

/* A child publishes 3 bytes, then writes chunks far past them (sparse, as a restarting
 * checkpoint writer might), tells the parent, and waits to be killed. */
static void killed_writer(struct cluster *c, int direct)
{
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        setenv("BENCHFS_LOCAL_WRITES", direct ? "1" : "0", 1);
        benchfs_t *fs = cluster_client(c, 0);
        static char data[CHUNK];
        memset(data, 'x', sizeof data);
        int fd = benchfs_open(fs, "/victim", O_CREAT | O_RDWR, 0644);
        int ok = fd >= 0 && benchfs_write(fs, fd, "abc", 3) == 3 && benchfs_fsync(fs, fd) == 0;
        static const int chunks[] = {1, 2, 5, 17, 40, 41, 90, 200};
        for (size_t i = 0; ok && i < sizeof chunks / sizeof chunks[0]; i++)
            ok = benchfs_pwrite(fs, fd, data, sizeof data, (off_t)chunks[i] * CHUNK) ==
                 (ssize_t)sizeof data;
        char r = ok ? 'y' : 'n';
        if (write(pfd[1], &r, 1) != 1)
            _exit(3);
        for (int i = 0; i < 600; i++) /* killed long before */
            sleep(1);
        _exit(4);
    }
    close(pfd[1]);
    char r = 0;
    CHECK(read(pfd[0], &r, 1) == 1 && r == 'y');
    close(pfd[0]);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    benchfs_stat_t s;
    CHECK_OK(benchfs_stat(fs_, "/victim", &s));
    CHECK(s.size == 3); /* the chunks past it were never published */
    CHECK(chunk_files(c) >= 9);
    CHECK_OK(benchfs_unlink(fs_, "/victim"));
    long left = chunk_files(c);
    if (left != 0) {
        fprintf(stderr, "FAIL: %ld chunk files left after unlink (%s writer)\n", left,
                direct ? "direct" : "through-servers");
        test_failures++;
    }
}

/* Cut n bytes, `from` bytes after the path, out of the stored record of `path` (as an older
 * server wrote it: base inode, path, extent, flags, a link's target): on the server holding
 * it, stopped. Returns the records changed (1). */
static int strip_record(const char *meta_dir, const char *path, size_t from, size_t n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    int changed = 0;
    if (mdb_env_create(&env))
        return -1;
    mdb_env_set_mapsize(env, 64u << 20);
    if (mdb_env_open(env, meta_dir, 0, 0600) || mdb_txn_begin(env, NULL, 0, &txn)) {
        mdb_env_close(env);
        return -1;
    }
    if (mdb_dbi_open(txn, NULL, 0, &dbi) == 0 && mdb_cursor_open(txn, dbi, &cur) == 0) {
        MDB_val k, v;
        size_t plen = strlen(path), base = 60; /* the base inode record, then u16 + path */
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const unsigned char *b = v.mv_data;
            size_t at = base + 2 + plen + from;
            if (v.mv_size < at + n || v.mv_size > 600 ||
                (size_t)(b[base] | b[base + 1] << 8) != plen || memcmp(b + base + 2, path, plen))
                continue;
            unsigned char old[600];
            memcpy(old, b, at);
            memcpy(old + at, b + at + n, v.mv_size - at - n);
            MDB_val nv = {.mv_size = v.mv_size - n, .mv_data = old};
            if (mdb_cursor_put(cur, &k, &nv, MDB_CURRENT) == 0)
                changed++;
            break;
        }
        mdb_cursor_close(cur);
    }
    if (mdb_txn_commit(txn))
        changed = -1;
    mdb_env_close(env);
    return changed;
}

static void old_records(struct cluster *c)
{
    static char data[8 * CHUNK];
    memset(data, 'o', sizeof data);
    int fd = benchfs_open(fs_, "/old", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs_, fd, data, sizeof data) == (ssize_t)sizeof data);
    CHECK_OK(benchfs_close(fs_, fd));
    /* And records of the layout before the inode's flags: the extent, no flags, a link's
     * target right after the extent. */
    fd = benchfs_open(fs_, "/preflags", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs_, fd, data, 2 * CHUNK) == (ssize_t)(2 * CHUNK));
    CHECK_OK(benchfs_close(fs_, fd));
    CHECK_OK(benchfs_symlink(fs_, "preflags", "/preflags_link"));
    CHECK_OK(benchfs_term(fs_));
    long files = chunk_files(c);
    CHECK(files == 10);
    int changed = 0;
    for (int i = 0; i < c->n; i++) {
        cluster_kill(c, i, SIGTERM);
        char meta[400];
        snprintf(meta, sizeof meta, "%s/meta", c->data[i]);
        int r = strip_record(meta, "/old", 0, 12); /* neither extent nor flags */
        int r2 = strip_record(meta, "/preflags", 8, 4);
        int r3 = strip_record(meta, "/preflags_link", 8, 4);
        CHECK(r >= 0 && r2 >= 0 && r3 >= 0);
        changed += (r > 0 ? r : 0) + (r2 > 0 ? r2 : 0) + (r3 > 0 ? r3 : 0);
    }
    CHECK(changed == 3);
    for (int i = 0; i < c->n; i++)
        cluster_start_server(c, i);
    fs_ = cluster_client(c, 0);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs_, "/old", &st)); /* not EIO: an old record is a good record */
    CHECK(st.size == sizeof data);
    fd = benchfs_open(fs_, "/old", O_RDONLY, 0);
    CHECK(fd >= 0);
    static char back[8 * CHUNK];
    CHECK(benchfs_read(fs_, fd, back, sizeof back) == (ssize_t)sizeof back);
    CHECK(memcmp(back, data, sizeof data) == 0);
    CHECK_OK(benchfs_close(fs_, fd));
    char tgt[64];
    CHECK(benchfs_readlink(fs_, "/preflags_link", tgt, sizeof tgt) == 8 &&
          memcmp(tgt, "preflags", 8) == 0);
    fd = benchfs_open(fs_, "/preflags_link", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_read(fs_, fd, back, 2 * CHUNK) == (ssize_t)(2 * CHUNK));
    CHECK(memcmp(back, data, 2 * CHUNK) == 0);
    CHECK_OK(benchfs_close(fs_, fd));
    CHECK_OK(benchfs_unlink(fs_, "/preflags_link"));
    CHECK_OK(benchfs_unlink(fs_, "/preflags"));
    CHECK(chunk_files(c) == 8);
    start_count();
    CHECK_OK(benchfs_unlink(fs_, "/old"));
    end_count("unlink (record without extent)", 1 + n_); /* REMOVE; every server, as before */
    CHECK(chunk_files(c) == 0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    if (n < 1 || n > CLUSTER_MAX) {
        fprintf(stderr, "usage: test_rpc_scale NSERVERS (1..%d)\n", CLUSTER_MAX);
        return 2;
    }
    /* Each server holds a few descriptors and a few MiB; the client a socket per server. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(4 * n + 64)) {
        printf("test_rpc_scale: SKIP: %d servers need %d descriptors, the limit is %ld\n", n,
               4 * n + 64, (long)rl.rlim_cur);
        return 77;
    }
    FILE *mi = fopen("/proc/meminfo", "r");
    long avail_kb = -1;
    char line[256];
    while (mi && fgets(line, sizeof line, mi))
        if (sscanf(line, "MemAvailable: %ld kB", &avail_kb) == 1)
            break;
    if (mi)
        fclose(mi);
    if (avail_kb >= 0 && avail_kb < (long)n * 64 * 1024) {
        printf("test_rpc_scale: SKIP: %d servers want %d MiB of memory, %ld MiB available\n", n,
               n * 64, avail_kb / 1024);
        return 77;
    }
    setenv("BENCHFS_LOCAL_READS", "0", 1);
    setenv("BENCHFS_LOCAL_WRITES", "0", 1);
    /* The files here are chunked: the servers of their chunks are what is counted (small
     * files' own RPC counts: test_small_files). */
    setenv("BENCHFS_INLINE_MAX", "0", 1);
    char chunk[16];
    snprintf(chunk, sizeof chunk, "%u", CHUNK);
    setenv("BENCHFS_CHUNK_SIZE", chunk, 1);
    struct cluster c;
    cluster_start(&c, n, SERVER_FLAGS);
    n_ = n;
    c_ = &c;
    fs_ = cluster_client(&c, 0);
    count_calls();
    killed_writer(&c, 0);
    killed_writer(&c, 1);
    old_records(&c);
    CHECK_OK(benchfs_term(fs_));
    cluster_stop(&c);
    return test_finish("rpc_scale");
}
