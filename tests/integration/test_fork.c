/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fork — a process forks while it holds a BenchFS context, and parent and child both go
 * on using that same context at the same time.
 *
 * The child inherits the parent's sockets to the same-host servers: if it read or wrote them
 * it would take the parent's replies or cut into its frames, and the parent's calls would
 * time out. The library must let the child's copies go and connect anew. Both sides stat,
 * create, write and read for a while; every call must succeed, and promptly.
 *
 * usage: test_fork NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/util.h"

#define RUN_MS 800
#define SLOW_MS 1000 /* far above a same-host round trip, far below the 3 s deadline */

/* Create, write, read back and stat files named <prefix><i> until RUN_MS pass. Returns the
 * number of failures (printed). */
static int churn(benchfs_t *fs, const char *prefix, int *done)
{
    int bad = 0;
    char buf[4096], back[4096];
    int64_t end = bfs_mono_ms() + RUN_MS;
    for (int i = 0; bfs_mono_ms() < end && bad < 5; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s%d", prefix, i);
        memset(buf, i & 0xff, sizeof buf);
        int64_t t0 = bfs_mono_ms();
        int fd = benchfs_open(fs, p, O_CREAT | O_RDWR, 0644);
        int ok = fd >= 0 && benchfs_pwrite(fs, fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf &&
                 benchfs_pread(fs, fd, back, sizeof back, 0) == (ssize_t)sizeof back &&
                 memcmp(buf, back, sizeof buf) == 0;
        if (fd >= 0 && benchfs_close(fs, fd) != 0)
            ok = 0;
        benchfs_stat_t st;
        ok = ok && benchfs_stat(fs, p, &st) == 0 && st.size == sizeof buf;
        int64_t dt = bfs_mono_ms() - t0;
        if (!ok || dt > SLOW_MS) {
            fprintf(stderr, "FAIL %s (pid %ld): %s after %lld ms: %s\n", p, (long)getpid(),
                    ok ? "slow" : "failed", (long long)dt, benchfs_strerror());
            bad++;
        }
        *done = i + 1;
    }
    return bad;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, NULL);
    benchfs_t *fs = cluster_client(&c, 3000);
    CHECK_OK(benchfs_mkdir(fs, "/p", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/c", 0755));
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/p", &st)); /* the parent's sockets are open before the fork */

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int done = 0;
        int bad = churn(fs, "/c/f", &done);
        printf("fork: child made %d files, %d failures\n", done, bad);
        fflush(NULL);
        _exit(bad ? 1 : 0); /* no benchfs_term: the parent's context is the parent's */
    }
    CHECK(pid > 0);
    int done = 0;
    int bad = churn(fs, "/p/f", &done);
    printf("fork: parent made %d files, %d failures\n", done, bad);
    CHECK(bad == 0);
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    /* The child's files are there for the parent too. */
    CHECK_OK(benchfs_stat(fs, "/c/f0", &st));
    CHECK(st.size == 4096);
    benchfs_term(fs);
    cluster_stop(&c);
    return test_finish("fork");
}
