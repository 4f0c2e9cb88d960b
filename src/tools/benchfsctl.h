/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfsctl.h — what the parts of benchfsctl share (docs/benchfsctl.md).
 *
 *   benchfsctl.c           main, usage, messages, option values (-t in seconds everywhere)
 *   benchfsctl_registry.c  processes, the registry directory and benchfsctl's state file
 *   benchfsctl_start.c     start: local daemons or one mpirun over a hostfile
 *   benchfsctl_stop.c      stop (SIGTERM to every server, on other hosts through the
 *                          launcher) and the internal stop-local that it runs there
 *   benchfsctl_status.c    status and wait: ask every server for its counters
 *
 * Exit status of every command: 0 success, 1 failure at run time, 2 bad usage, 3 (status) a
 * server is down. */
#ifndef BENCHFSCTL_H
#define BENCHFSCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define STATE_FILE "benchfsctl.state"
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_DOWN 3
/* A sanity bound on -n, not a cap on hosts: every table is sized at run time. */
#define MAX_NSERVERS (1L << 20)

__attribute__((format(printf, 1, 2))) void msg(const char *fmt, ...);
void usage(FILE *f);

/* ---- option values ---- */
int parse_uint(const char *s, long max, long *out);
/* -t of every command: seconds ("60", "0.5"), or with a unit: "500ms", "2s", "3m". */
int parse_timeout(const char *s, long *ms);
/* Absolute form of `in`, no trailing '/'. */
int absolute(const char *in, char *out, size_t cap);
int mkdir_p(const char *path, mode_t mode);
/* `s` quoted for a POSIX shell (as is when it needs no quoting), malloc'd. */
char *shell_quote(const char *s);
/* Split `s` at blanks into a NULL-terminated malloc'd vector (strings in *store). */
char **split_args(const char *s, char **store, int *n);

/* ---- processes ---- */
void sleep_ms(long ms);
void my_host(char *h, size_t cap);
int alive(pid_t pid);
int alive_as(pid_t pid, const char *name);
int wait_gone(const pid_t *pids, int n, int64_t deadline);
void human(uint64_t b, char *out, size_t cap);
/* This program's own path (for running it on other hosts), or "benchfsctl". */
void self_path(char *out, size_t cap);

/* ---- the registry directory ---- */
struct state {
    char mode[16]; /* "local" or "mpirun" */
    int nservers;
    pid_t mpirun_pid;
    char host[256];
    char log_dir[4096];
    char hostfile[4096];    /* mpirun mode: the hostfile (absolute) */
    char mpirun[4096];      /* mpirun mode: the launcher */
    char mpirun_args[4096]; /* mpirun mode: --mpirun-args */
    int nhosts;
    pid_t *pids; /* local mode: the servers (malloc'd) */
    int npids;
};
int state_write(const char *reg, const struct state *st);
int state_read(const char *reg, struct state *st); /* free st->pids after */
/* Ids of the server.<id> entries present, sorted, in *ids (malloc'd): the count, or -1. */
int list_entries(const char *reg, uint32_t **ids);
int cluster_size(const char *reg);
int looks_like_registry(const char *dir);
int remove_registry(const char *reg);
int clear_stale(const char *reg, char *why, size_t cap);
void print_log_tail(const char *path, int lines);
int registry_complete(const char *reg, int n, const pid_t *pids);
/* -r/BENCHFS_REGISTRY to an absolute existing registry: 0, or an exit status after a message. */
int registry_arg(const char *arg, char *reg, size_t cap, const char *cmd);
/* Where logs go when --log-dir is not given: REGISTRY.logs next to the registry. */
void default_log_dir(const char *reg, char *out, size_t cap);
/* Child side of a daemonised launch: own session, no terminal, output to `log`, exec. */
_Noreturn void exec_daemon(const char *log, char **argv);
/* Open MPI refuses to run as root without these; other launchers ignore them. */
void allow_root_mpirun(void);

int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_stop_local(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_wait(int argc, char **argv);

#endif
