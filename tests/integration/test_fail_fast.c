/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fail_fast — benchfs_init says at once what is wrong, with the errno it is:
 *   a registry that does not exist (ENOENT), is not a directory (ENOTDIR) or is not ours to
 *   read (EACCES: uid 65534 against a 0700 registry, and a mode 000 one) fails within a
 *   second, not after the wait; a registry that exists but is still empty is waited for;
 *   a malformed BENCHFS_* variable is EINVAL naming the variable, never the default in
 *   silence; well-formed spellings (no/off/64K) are accepted. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* benchfs_init on `reg` with a 10 s wait: expect NULL with errno `want`, within a second,
 * and a message naming the registry. */
static void expect_fast(const char *reg, int want)
{
    benchfs_options_t o = {.registry = reg, .wait_ms = 10000};
    double t0 = now_s();
    errno = 0;
    benchfs_t *fs = benchfs_init_opts(&o);
    double took = now_s() - t0;
    int err = errno;
    if (fs || err != want || took > 1.0 || !strstr(benchfs_strerror(), reg)) {
        fprintf(stderr, "FAIL: benchfs_init(%s): %p errno %d (%s), want %d, %.2f s: %s\n", reg,
                (void *)fs, err, strerror(err), want, took, benchfs_strerror());
        test_failures++;
    }
    if (fs)
        benchfs_term(fs);
}

/* The same check in a child running as uid/gid 65534 (nobody): exit 0 if it held. */
static void expect_fast_as_nobody(const char *reg, int want)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        test_failures = 0;
        expect_fast(reg, want);
        _exit(test_failures ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "FAIL: as uid 65534 against %s (status %d)\n", reg, st);
        test_failures++;
    }
}

/* With `name`=`value` set, benchfs_init fails with EINVAL naming the variable. */
static void expect_bad_env(const char *reg, const char *name, const char *value)
{
    setenv(name, value, 1);
    errno = 0;
    benchfs_t *fs = benchfs_init(reg);
    int err = errno;
    if (fs || err != EINVAL || !strstr(benchfs_strerror(), name)) {
        fprintf(stderr, "FAIL: %s=%s: %p errno %d: %s\n", name, value, (void *)fs, err,
                benchfs_strerror());
        test_failures++;
    }
    if (fs)
        benchfs_term(fs);
    unsetenv(name);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct cluster c;
    cluster_start(&c, 1, NULL);
    char path[600];

    /* --- the registry */
    snprintf(path, sizeof path, "%s/no-such-registry", c.root);
    expect_fast(path, ENOENT);
    snprintf(path, sizeof path, "%s/plain-file", c.root);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    expect_fast(path, ENOTDIR);
    snprintf(path, sizeof path, "%s/plain-file/registry", c.root);
    expect_fast(path, ENOTDIR);

    /* Another user's registry: the real one (0700 under a 0700 root) ... */
    if (geteuid() == 0) {
        chmod(c.root, 0755); /* let nobody reach it; the registry itself stays 0700 */
        expect_fast_as_nobody(c.registry, EACCES);
        chmod(c.root, 0700);
    }
    /* ... and one with mode 000 (root reads anything, so as nobody when we are root). */
    snprintf(path, sizeof path, "%s/locked", c.root);
    mkdir(path, 0000);
    if (geteuid() == 0) {
        chmod(c.root, 0755);
        expect_fast_as_nobody(path, EACCES);
        chmod(c.root, 0700);
    } else {
        expect_fast(path, EACCES);
    }

    /* A registry that exists but is still empty (servers starting): waited for. */
    snprintf(path, sizeof path, "%s/filling", c.root);
    mkdir(path, 0700);
    benchfs_options_t o = {.registry = path, .wait_ms = 1200};
    double t0 = now_s();
    errno = 0;
    benchfs_t *fs = benchfs_init_opts(&o);
    CHECK(fs == NULL && errno == ETIMEDOUT && now_s() - t0 >= 1.1);

    /* --- malformed BENCHFS_* variables */
    static const char *const bad[][2] = {
        {"BENCHFS_RPC_TIMEOUT_MS", "abc"}, {"BENCHFS_RPC_TIMEOUT_MS", "100x"},
        {"BENCHFS_RPC_TIMEOUT_MS", "-5"},  {"BENCHFS_WAIT_MS", "1e3"},
        {"BENCHFS_CHUNK_SIZE", "12Q"},     {"BENCHFS_CHUNK_SIZE", "1K"}, /* below 4K */
        {"BENCHFS_EAGER_THRESHOLD", "lots"}, {"BENCHFS_SAME_HOST", "maybe"},
        {"BENCHFS_LOCAL_READS", "2"},      {"BENCHFS_LOCAL_WRITES", "nope"},
        {"BENCHFS_WRITE_BEHIND", "of"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad_env(c.registry, bad[i][0], bad[i][1]);

    /* Well-formed spellings work, and empty means unset. */
    setenv("BENCHFS_SAME_HOST", "yes", 1);
    setenv("BENCHFS_LOCAL_READS", "off", 1);
    setenv("BENCHFS_WRITE_BEHIND", "FALSE", 1);
    setenv("BENCHFS_CHUNK_SIZE", "64K", 1);
    setenv("BENCHFS_RPC_TIMEOUT_MS", "", 1);
    fs = benchfs_init(c.registry);
    CHECK(fs != NULL);
    if (fs) {
        int f = benchfs_create(fs, "/ok", 0644);
        CHECK(f >= 0);
        if (f >= 0)
            CHECK_OK(benchfs_close(fs, f));
        benchfs_term(fs);
    }
    cluster_stop(&c);
    return test_finish("test_fail_fast");
}
