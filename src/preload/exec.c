/* SPDX-License-Identifier: BSD-3-Clause */
/* exec.c — what a program under libbenchfs-preload.so hands to the programs it executes.
 * The kernel keeps the working directory and descriptors across exec, but the virtual
 * working directory and the descriptor table live in our memory: the exec calls add two
 * variables to the new program's environment, BENCHFS_PRELOAD_CWD (the BenchFS working
 * directory, tied to the kernel's directory of that moment so a stale copy is ignored) and
 * BENCHFS_PRELOAD_FDS (each BenchFS descriptor without FD_CLOEXEC: number, flags, offset,
 * path), and the library in the new program takes them over at start. The new program gets
 * its own open of each file at the same offset (the offset is no longer shared). A program
 * run without the library finds O_PATH descriptors there: read and write fail with EBADF. */
#include "preload.h"

#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define CWD_VAR "BENCHFS_PRELOAD_CWD"
#define FDS_VAR "BENCHFS_PRELOAD_FDS"

/* "dev:ino:" of the kernel's working directory, into buf. */
static int kernel_cwd_id(char *buf, size_t size)
{
    struct stat st;
    if (REAL(stat)(".", &st) != 0)
        return -1;
    snprintf(buf, size, "%llu:%llu:", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    return 0;
}

/* The value of BENCHFS_PRELOAD_CWD now, or NULL when the working directory is not ours. */
static char *cwd_value(void)
{
    char path[PATH_MAX], id[64];
    if (!pl_vcwd_get(path, sizeof path) || kernel_cwd_id(id, sizeof id) != 0)
        return NULL;
    size_t n = strlen(id) + strlen(path) + 1;
    char *v = malloc(n);
    if (v)
        snprintf(v, n, "%s%s", id, path);
    return v;
}

void pl_exec_cwd_changed(void)
{
    /* For children started through environ behind our back (system, popen). */
    char *v = cwd_value();
    if (v)
        setenv(CWD_VAR, v, 1);
    else
        unsetenv(CWD_VAR);
    free(v);
}

/* BENCHFS_PRELOAD_FDS's value: "fd:flags:offset:isdir:len:path;" per inherited descriptor. */
static char *fds_value(void)
{
    size_t cap = 0, len = 0;
    char *v = NULL;
    benchfs_t *fs = NULL;
    for (int fd = 0; fd < PL_MAX_FDS; fd++) {
        struct pl_file *f = pl_file(fd);
        if (!f)
            continue;
        int fdfl = REAL(fcntl)(fd, F_GETFD);
        if (fdfl < 0 || (fdfl & FD_CLOEXEC))
            continue;
        long long off = 0;
        if (f->bfd >= 0 && (fs || (fs = pl_fs())))
            off = benchfs_lseek(fs, f->bfd, 0, SEEK_CUR);
        size_t need = len + strlen(f->path) + 96;
        if (need > cap) {
            cap = need * 2;
            char *n = realloc(v, cap);
            if (!n) {
                free(v);
                return NULL;
            }
            v = n;
        }
        len += (size_t)snprintf(v + len, cap - len, "%d:%d:%lld:%d:%zu:%s;", fd, f->flags,
                                off < 0 ? 0 : off, f->is_dir == 1, strlen(f->path), f->path);
    }
    return v;
}

/* envp without our two variables, plus their current values. NULL: out of memory. */
static char **child_env(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    char **out = malloc((n + 3) * sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], CWD_VAR "=", sizeof CWD_VAR) != 0 &&
            strncmp(envp[i], FDS_VAR "=", sizeof FDS_VAR) != 0)
            out[k++] = envp[i];
    char *cwd = cwd_value(), *fds = fds_value();
    if (cwd) {
        size_t m = strlen(cwd) + sizeof CWD_VAR + 1;
        if ((out[k] = malloc(m)))
            snprintf(out[k++], m, CWD_VAR "=%s", cwd);
    }
    if (fds) {
        size_t m = strlen(fds) + sizeof FDS_VAR + 1;
        if ((out[k] = malloc(m)))
            snprintf(out[k++], m, FDS_VAR "=%s", fds);
    }
    free(cwd);
    free(fds);
    out[k] = NULL;
    return out;
}

/* exec returned: it failed; nothing of ours may leak into a retry. */
static void free_env(char **env, char *const orig[])
{
    if (!env)
        return;
    for (size_t i = 0; env[i]; i++) {
        int mine = 1;
        for (size_t j = 0; orig && orig[j]; j++)
            if (orig[j] == env[i])
                mine = 0;
        if (mine)
            free(env[i]);
    }
    free(env);
}

/* Something of ours to pass on? The plain exec path costs one look at the table count. */
static int have_state(char *const envp[])
{
    if (atomic_load(&pl_vcwd_on))
        return 1;
    if (pl_fd_count() > 0)
        return 1;
    for (size_t i = 0; envp && envp[i]; i++) /* a stale copy to drop */
        if (strncmp(envp[i], "BENCHFS_PRELOAD_", 16) == 0)
            return 1;
    return 0;
}

#define WITH_ENV(envp, call_with_env)                                                          \
    do {                                                                                       \
        if (!have_state(envp)) {                                                               \
            char *const *env_ = (envp);                                                        \
            return call_with_env;                                                              \
        }                                                                                      \
        char **mine_ = child_env(envp);                                                        \
        if (!mine_)                                                                            \
            return pl_err(ENOMEM);                                                             \
        char *const *env_ = mine_;                                                             \
        int r_ = call_with_env;                                                                \
        int e_ = errno;                                                                        \
        free_env(mine_, (envp));                                                               \
        errno = e_;                                                                            \
        return r_;                                                                             \
    } while (0)

PL_API int execve(const char *path, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, REAL(execve)(path, argv, env_));
}
PL_API int execv(const char *path, char *const argv[])
{
    WITH_ENV(environ, REAL(execve)(path, argv, env_));
}
PL_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, REAL(execvpe)(file, argv, env_));
}
PL_API int execvp(const char *file, char *const argv[])
{
    WITH_ENV(environ, REAL(execvpe)(file, argv, env_));
}
PL_API int fexecve(int fd, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, REAL(fexecve)(fd, argv, env_));
}
PL_API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                    int flags)
{
    WITH_ENV(envp, REAL(execveat)(dirfd, path, argv, env_, flags));
}
PL_API int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, REAL(posix_spawn)(pid, path, fa, attr, argv, env_));
}
PL_API int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, REAL(posix_spawnp)(pid, file, fa, attr, argv, env_));
}

/* The execl family: their arguments as an argv (and envp for execle). */
static char **collect(const char *arg0, va_list ap, char ***envp)
{
    va_list c;
    va_copy(c, ap);
    size_t n = 1;
    while (va_arg(c, char *))
        n++;
    va_end(c);
    char **argv = malloc((n + 1) * sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *); /* the last is the NULL */
    if (envp)
        *envp = va_arg(ap, char **);
    return argv;
}

enum exec_how { EXEC_V, EXEC_VP, EXEC_VE };

/* Run a collected argv through our execv, execvp or execve (which hand BenchFS state over);
 * the argv is freed if the exec returns. */
static int exec_collected(enum exec_how how, const char *name, char **argv, char **envp)
{
    if (!argv)
        return pl_err(ENOMEM);
    int r = how == EXEC_VP ? execvp(name, argv)
          : how == EXEC_VE ? execve(name, argv, envp)
                           : execv(name, argv);
    int e = errno;
    free(argv);
    errno = e;
    return r;
}

PL_API int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = collect(arg, ap, NULL);
    va_end(ap);
    return exec_collected(EXEC_V, path, argv, NULL);
}
PL_API int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = collect(arg, ap, NULL);
    va_end(ap);
    return exec_collected(EXEC_VP, file, argv, NULL);
}
PL_API int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **envp = NULL;
    char **argv = collect(arg, ap, &envp);
    va_end(ap);
    return exec_collected(EXEC_VE, path, argv, envp);
}

/* ---- the receiving side ---- */

static void import_cwd(const char *v)
{
    char id[64];
    size_t n;
    const char *p = strchr(v, ':');
    p = p ? strchr(p + 1, ':') : NULL;
    if (!p || kernel_cwd_id(id, sizeof id) != 0)
        return;
    n = (size_t)(p - v) + 1;
    /* Only if the kernel's directory is still the one it was left in: a program without us
     * in between may have changed it. */
    if (strlen(id) == n && strncmp(id, v, n) == 0 && p[1] == '/')
        pl_vcwd_set(p + 1);
}

static void import_fds(const char *v)
{
    benchfs_t *fs = NULL;
    while (*v) {
        char *end;
        long fd = strtol(v, &end, 10);
        if (*end != ':')
            return;
        int flags = (int)strtol(end + 1, &end, 10);
        if (*end != ':')
            return;
        long long off = strtoll(end + 1, &end, 10);
        if (*end != ':')
            return;
        int isdir = (int)strtol(end + 1, &end, 10);
        if (*end != ':')
            return;
        size_t len = strtoul(end + 1, &end, 10);
        if (*end != ':' || strlen(end + 1) < len + 1 || len >= PATH_MAX)
            return;
        char path[PATH_MAX];
        memcpy(path, end + 1, len);
        path[len] = '\0';
        v = end + 1 + len + 1;
        if (fd < 0 || fd >= PL_MAX_FDS)
            continue;
        int kfl = REAL(fcntl)((int)fd, F_GETFL);
        if (kfl < 0 || !(kfl & O_PATH) || pl_file((int)fd))
            continue; /* not our placeholder any more */
        struct pl_file *f = pl_file_new(path, flags);
        if (!f)
            return;
        f->is_dir = isdir ? 1 : -1;
        if (!isdir && !(flags & O_PATH)) {
            if (!fs && !(fs = pl_fs())) {
                free(f);
                return;
            }
            f->bfd = benchfs_open(fs, path, flags & (O_ACCMODE | O_APPEND), 0);
            if (f->bfd < 0 || benchfs_lseek(fs, f->bfd, off, SEEK_SET) < 0) {
                fprintf(stderr, "benchfs-preload: descriptor %ld (%s%s) is lost across exec: "
                                "%s\n", fd, pl_prefix, path, benchfs_strerror());
                if (f->bfd >= 0)
                    benchfs_close(fs, f->bfd);
                free(f);
                continue;
            }
        }
        pl_fd_adopt((int)fd, f);
    }
}

__attribute__((constructor)) static void exec_import(void)
{
    const char *cwd = getenv(CWD_VAR), *fds = getenv(FDS_VAR);
    if (!cwd && !fds)
        return;
    pl_configure();
    if (cwd)
        import_cwd(cwd);
    if (fds)
        import_fds(fds);
    unsetenv(FDS_VAR); /* these numbers mean nothing to our own children */
}
