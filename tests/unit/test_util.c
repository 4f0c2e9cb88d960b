/* SPDX-License-Identifier: BSD-3-Clause */
/* test_util.c — size parsing, environment sizes, clocks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/util.h"

static void test_parse_ok(void)
{
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"4096", 4096},
        {"64K", 64ll << 10},
        {"4M", 4ll << 20},
        {"2G", 2ll << 30},
        {"1T", 1ll << 40},
        {"4MiB", 4ll << 20},
        {"4MB", 4ll << 20},
        {"0", 0},
        {"1", 1},
        {"0K", 0},
        {"1K", 1024},
        {"64KiB", 64ll << 10},
        {"64KB", 64ll << 10},
        {"2GiB", 2ll << 30},
        {"1TB", 1ll << 40},
        {"4m", 4ll << 20}, /* units are case-insensitive */
        {"4mib", 4ll << 20},
        {"4mb", 4ll << 20},
        {"007", 7},
        {"9223372036854775807", INT64_MAX},
        {"8388607T", 8388607ll << 40},       /* largest T that fits in int64_t */
        {"8589934591G", 8589934591ll << 30}, /* largest G */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t got = bfs_parse_size(ok[i].in);
        CHECK_MSG(got == ok[i].want, "bfs_parse_size(\"%s\") = %lld, expected %lld", ok[i].in,
                  (long long)got, (long long)ok[i].want);
    }
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "", "x", "4Q", "-1", "4MXX", "K", "M4", "+4", " 4", "4 ", "4 M", "4K ", "4.5M", "0x10",
        "4MiBx", "4Mi", "4iB", "4B", "4KK", "4MBB", "4Mb!", "4\n", "1e3",
        "9223372036854775808",      /* INT64_MAX + 1 */
        "18446744073709551616",     /* over unsigned long long */
        "99999999999999999999999", "8388608T", /* 2^63 */
        "8589934592G",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = bfs_parse_size(bad[i]);
        CHECK_MSG(got == -1, "bfs_parse_size(\"%s\") = %lld, expected -1", bad[i],
                  (long long)got);
    }
    CHECK_EQ_INT(bfs_parse_size(NULL), -1);
}

static void test_env(void)
{
    const char *name = "BENCHFS_UNIT_TEST_ENV";
    int64_t v = 0;
    int b = -1;
    unsetenv(name);
    CHECK_EQ_INT(bfs_env_bytes(name, 123, 0, INT64_MAX, &v), 0);
    CHECK_EQ_INT(v, 123);
    setenv(name, "", 1);
    CHECK_EQ_INT(bfs_env_bytes(name, 123, 0, INT64_MAX, &v), 0);
    CHECK_EQ_INT(v, 123);
    setenv(name, "8K", 1);
    CHECK_EQ_INT(bfs_env_bytes(name, 123, 0, INT64_MAX, &v), 0);
    CHECK_EQ_INT(v, 8192);
    CHECK_EQ_INT(bfs_env_bytes(name, 123, 0, 4096, &v), -EINVAL); /* above max */
    CHECK_EQ_INT(bfs_env_int(name, 5, 0, 100, &v), -EINVAL);      /* no units for ints */
    setenv(name, "77", 1);
    CHECK_EQ_INT(bfs_env_int(name, 5, 0, 100, &v), 0);
    CHECK_EQ_INT(v, 77);
    setenv(name, "junk", 1);
    v = 9;
    CHECK_EQ_INT(bfs_env_bytes(name, 123, 0, INT64_MAX, &v), -EINVAL);
    CHECK_EQ_INT(bfs_env_int(name, 5, 0, 100, &v), -EINVAL);
    CHECK_EQ_INT(v, 9); /* untouched */
    CHECK_EQ_INT(bfs_env_bool(name, 1, &b), -EINVAL);
    CHECK(!bfs_env_off(name)); /* malformed is not "off" */
    setenv(name, "-5", 1);
    CHECK_EQ_INT(bfs_env_int(name, 5, 0, 100, &v), -EINVAL);
    CHECK_EQ_INT(bfs_env_bytes(name, 123, 0, INT64_MAX, &v), -EINVAL);
    static const char *const off[] = {"0", "no", "FALSE", "off"};
    static const char *const on[] = {"1", "Yes", "true", "ON"};
    for (int i = 0; i < 4; i++) {
        setenv(name, off[i], 1);
        CHECK(bfs_env_bool(name, 1, &b) == 0 && b == 0);
        CHECK(bfs_env_off(name));
        setenv(name, on[i], 1);
        CHECK(bfs_env_bool(name, 0, &b) == 0 && b == 1);
        CHECK(!bfs_env_off(name));
    }
    unsetenv(name);
    CHECK(!bfs_env_off(name));
}

static void test_clocks(void)
{
    /* Wall clock after 2020-01-01, monotonic clocks never go backwards and agree in units. */
    CHECK(bfs_now_ns() > 1577836800ll * 1000000000ll);
    int64_t a = bfs_mono_ns(), am = bfs_mono_ms();
    int64_t b = bfs_mono_ns(), bm = bfs_mono_ms();
    CHECK(b >= a);
    CHECK(bm >= am);
    CHECK(am >= a / 1000000 && am <= b / 1000000 + 1);
}

int main(void)
{
    test_parse_ok();
    test_parse_bad();
    test_env();
    test_clocks();
    return check_report("test_util");
}
