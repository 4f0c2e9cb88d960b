/* SPDX-License-Identifier: BSD-3-Clause */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int64_t bfs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bfs_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bfs_mono_ms(void) { return bfs_mono_ns() / 1000000; }

int64_t bfs_parse_size(const char *s)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return -1;
    }
    if (*end && end[1] != '\0' && !(toupper((unsigned char)end[1]) == 'I' && toupper((unsigned char)end[2]) == 'B' && end[3] == '\0') &&
        !(toupper((unsigned char)end[1]) == 'B' && end[2] == '\0'))
        return -1;
    if (v > (unsigned long long)INT64_MAX >> shift)
        return -1;
    return (int64_t)(v << shift);
}


int bfs_env_int(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    const char *p = v;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    errno = 0;
    char *end;
    long long r = strtoll(v, &end, 10);
    if (errno || *end || r < min || r > max)
        return -EINVAL;
    *out = r;
    return 0;
}

int bfs_env_bytes(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    int64_t r = bfs_parse_size(v);
    if (r < 0 || r < min || r > max)
        return -EINVAL;
    *out = r;
    return 0;
}

int bfs_env_bool(const char *name, int def, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -EINVAL;
}

void bfs_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int bfs_hex_decode(const char *hex, size_t hexlen, uint8_t *out)
{
    for (size_t i = 0; i < hexlen / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

int bfs_write_file_atomic(const char *dir, const char *name, const char *text, int exclusive)
{
    char tmp[4200], final[4200];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int err = (n == (ssize_t)len) ? 0 : (n < 0 ? -errno : -EIO);
    if (!err && fsync(fd) != 0)
        err = -errno;
    close(fd);
    if (!err) {
        if (exclusive)
            err = link(tmp, final) == 0 ? 0 : -errno;
        else
            err = rename(tmp, final) == 0 ? 0 : -errno;
    }
    unlink(tmp); /* no-op after a successful rename */
    return err;
}

int bfs_read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, cap - 1);
    int err = n < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    buf[n] = '\0';
    return (int)n;
}

int bfs_env_off(const char *name)
{
    int on = 1;
    return bfs_env_bool(name, 1, &on) == 0 && !on;
}
