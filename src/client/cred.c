/* SPDX-License-Identifier: BSD-3-Clause */
/* cred.c — the identity a call acts with: the owner given to what it creates and the subject
 * of its permission checks. By default the process's effective uid, gid and supplementary
 * groups as they are at the call (read again at every call, so a process that changes its
 * euid acts with the new one); a thread may set its own (a FUSE daemon serving several users
 * on one context), which holds for every context until it is cleared. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static _Thread_local struct {
    int set;
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t groups[BENCHFS_MAX_GROUPS];
} thread_cred;

BFS_API int benchfs_set_thread_cred(const benchfs_cred_t *cred)
{
    if (!cred) {
        thread_cred.set = 0;
        return 0;
    }
    if (cred->ngroups < 0 || cred->ngroups > BENCHFS_MAX_GROUPS ||
        (cred->ngroups > 0 && !cred->groups))
        return bfs_fail(EINVAL, "benchfs_set_thread_cred: %d groups (0..%d, with a list)",
                        cred->ngroups, BENCHFS_MAX_GROUPS);
    if (cred->uid == (uid_t)-1 || cred->gid == (gid_t)-1)
        return bfs_fail(EINVAL, "benchfs_set_thread_cred: uid or gid -1");
    thread_cred.uid = cred->uid;
    thread_cred.gid = cred->gid;
    thread_cred.ngroups = cred->ngroups;
    if (cred->ngroups)
        memcpy(thread_cred.groups, cred->groups, (size_t)cred->ngroups * sizeof(gid_t));
    thread_cred.set = 1;
    return 0;
}

void cred_load(benchfs_t *fs)
{
    if (thread_cred.set) {
        fs->uid = thread_cred.uid;
        fs->gid = thread_cred.gid;
        fs->cred_groups = thread_cred.groups;
        fs->cred_ngroups = thread_cred.ngroups;
        fs->cred_groups_known = 1;
    } else {
        fs->uid = geteuid();
        fs->gid = getegid();
        fs->cred_groups_known = 0; /* read when a check needs them (cred_in_group) */
    }
}

/* The process's supplementary groups, into fs->groups (grown as needed). */
static void load_process_groups(benchfs_t *fs)
{
    fs->cred_groups_known = 1;
    fs->cred_groups = fs->groups;
    fs->cred_ngroups = 0;
    for (int tries = 0; tries < 4; tries++) {
        int n = getgroups(fs->ngroups_cap, fs->groups);
        if (n >= 0) {
            fs->cred_groups = fs->groups;
            fs->cred_ngroups = n;
            return;
        }
        if (errno != EINVAL)
            return;
        /* The list grew (or this is the first time): ask how long it is now. */
        n = getgroups(0, NULL);
        if (n <= 0)
            return;
        gid_t *g = realloc(fs->groups, (size_t)n * sizeof *g);
        if (!g)
            return;
        fs->groups = g;
        fs->ngroups_cap = n;
    }
}

int cred_in_group(benchfs_t *fs, gid_t gid)
{
    if (gid == fs->gid)
        return 1;
    if (!fs->cred_groups_known)
        load_process_groups(fs);
    for (int i = 0; i < fs->cred_ngroups; i++)
        if (fs->cred_groups[i] == gid)
            return 1;
    return 0;
}
