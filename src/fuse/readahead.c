/* SPDX-License-Identifier: BSD-3-Clause */
/* readahead.c — the kernel's read-ahead window of the mount. The kernel asks a FUSE daemon for
 * no more than the mount's read-ahead window at a time, and gives every FUSE mount 128 KiB
 * whatever max_readahead the daemon offers (it only ever lowers it). A BenchFS read costs a
 * round trip to a server, so 128 KiB requests spend more on trips than on bytes: the window is
 * raised in the mount's backing-device entry in sysfs (/sys/class/bdi/MAJOR:MINOR), which only
 * root may write. The device number is taken from /proc/self/mountinfo, not from stat(2) of
 * the mount point, which would wait for the loop that is not running yet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bfuse.h"

/* A mount point as mountinfo writes it: space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *o = s;
    for (char *i = s; *i; i++) {
        if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' &&
            i[3] >= '0' && i[3] <= '7') {
            *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
            i += 3;
        } else {
            *o++ = *i;
        }
    }
    *o = '\0';
}

/* MAJOR:MINOR of the newest mount at mountpoint into dev; 0 or -errno. */
static int mount_device(const char *mountpoint, char *dev, size_t cap)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return -errno;
    char line[4096];
    int found = -ENOENT;
    while (fgets(line, sizeof line, f)) {
        /* id parent MAJOR:MINOR root mountpoint ...: the last match is on top */
        char majmin[64], root[2048], mp[2048];
        if (sscanf(line, "%*s %*s %63s %2047s %2047s", majmin, root, mp) != 3)
            continue;
        unescape(mp);
        if (strcmp(mp, mountpoint) == 0 && strlen(majmin) < cap) {
            strcpy(dev, majmin);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

int bfuse_set_readahead(const char *mountpoint, unsigned kib)
{
    char dev[64], path[128];
    int err = mount_device(mountpoint, dev, sizeof dev);
    if (err)
        return err;
    snprintf(path, sizeof path, "/sys/class/bdi/%s/read_ahead_kb", dev);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    int ok = fprintf(f, "%u\n", kib) > 0;
    if (fclose(f) != 0 || !ok)
        return -EIO;
    return 0;
}
