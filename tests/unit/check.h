/* SPDX-License-Identifier: BSD-3-Clause */
/* check.h — a minimal assertion kit for the BenchFS unit tests (no framework).
 *
 * Every CHECK prints file:line, the expression and the values involved when it fails, counts
 * the failure and carries on, so one run reports every broken case. A test's main() ends with
 * `return check_report("name");`, which is non-zero when anything failed. */
#ifndef BFS_TEST_CHECK_H
#define BFS_TEST_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK_FAIL_(...)                                                                     \
    do {                                                                                     \
        check_failures++;                                                                    \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
    } while (0)

/* A boolean condition. */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        check_count++;                                                                       \
        if (!(cond))                                                                         \
            CHECK_FAIL_("%s", #cond);                                                        \
    } while (0)

/* A boolean condition with a printf-style explanation. */
#define CHECK_MSG(cond, ...)                                                                 \
    do {                                                                                     \
        check_count++;                                                                       \
        if (!(cond)) {                                                                       \
            CHECK_FAIL_("%s", #cond);                                                        \
            fprintf(stderr, "    ");                                                         \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

/* Signed integers (return codes, errnos). */
#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        check_count++;                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                                  \
        if (a_ != b_)                                                                        \
            CHECK_FAIL_("%s == %s: got %lld, expected %lld", #a, #b, a_, b_);                \
    } while (0)

/* Unsigned integers (hashes, fields, lengths). */
#define CHECK_EQ_U64(a, b)                                                                   \
    do {                                                                                     \
        check_count++;                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                     \
        if (a_ != b_)                                                                        \
            CHECK_FAIL_("%s == %s: got %" PRIu64 " (0x%" PRIx64 "), expected %" PRIu64       \
                        " (0x%" PRIx64 ")",                                                  \
                        #a, #b, a_, a_, b_, b_);                                             \
    } while (0)

/* NUL-terminated strings; NULL prints as (null). */
#define CHECK_EQ_STR(a, b)                                                                   \
    do {                                                                                     \
        check_count++;                                                                       \
        const char *a_ = (a), *b_ = (b);                                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                               \
            CHECK_FAIL_("%s == %s: got \"%s\", expected \"%s\"", #a, #b,                     \
                        a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
    } while (0)

/* Byte ranges. */
#define CHECK_EQ_MEM(a, b, n)                                                                \
    do {                                                                                     \
        check_count++;                                                                       \
        if (memcmp((a), (b), (n)) != 0)                                                      \
            CHECK_FAIL_("memcmp(%s, %s, %s) != 0", #a, #b, #n);                              \
    } while (0)

static inline int check_report(const char *name)
{
    if (check_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, check_count);
    return 0;
}

/* splitmix64: a small deterministic PRNG so every run (and every host) sees the same inputs. */
static inline uint64_t check_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
