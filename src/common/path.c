/* SPDX-License-Identifier: BSD-3-Clause */
#include "path.h"

#include <errno.h>
#include <string.h>

int bfs_path_normalize(const char *in, char *out)
{
    if (in == NULL || in[0] != '/')
        return -EINVAL;
    size_t o = 0; /* bytes written to out, excluding the NUL */
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - start);
        if (n > BFS_NAME_MAX)
            return -ENAMETOOLONG;
        if (n == 1 && start[0] == '.')
            continue;
        if (n == 2 && start[0] == '.' && start[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* drop the separator too */
            continue;
        }
        if (o + 1 + n >= BFS_PATH_MAX)
            return -ENAMETOOLONG;
        out[o++] = '/';
        memcpy(out + o, start, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    /* The input itself is bounded too: an over-long input is refused even if it shrinks. */
    if (strnlen(in, BFS_PATH_MAX) >= BFS_PATH_MAX)
        return -ENAMETOOLONG;
    return 0;
}

const char *bfs_path_split(const char *path, char *parent)
{
    if (strcmp(path, "/") == 0)
        return NULL;
    const char *slash = strrchr(path, '/');
    size_t plen = (size_t)(slash - path);
    if (plen == 0) {
        strcpy(parent, "/");
    } else {
        memcpy(parent, path, plen);
        parent[plen] = '\0';
    }
    return slash + 1;
}

int bfs_path_is_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return 1;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
