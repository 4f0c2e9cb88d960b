/* SPDX-License-Identifier: BSD-3-Clause */
/* test_hostile.c — servers against a hostile peer.
 *
 * Besides a normal client, the test opens its own raw UCX worker, connects to every server's
 * UCX listener and sends frames no real client would send: garbage AM headers (with and
 * without AM data), truncated headers, wrong magic / version / opcode, lying or oversized
 * lengths, payloads on ops that take none, HELLO with arguments or a payload (EPROTO) and
 * repeated plain HELLOs (0: a no-op that must not reset the connection), chunk requests
 * outside the chunk, malformed argument encodings, paths that are not normalised, frames with
 * a wrong cluster key and frames sent without a reply endpoint, followed by a few thousand
 * randomised frames. The same peer then talks to every server's local socket (the same
 * frames, back to back on a byte stream): garbage bytes, headers whose args_len / data_len
 * lie, truncated frames followed by a close, frames with a wrong key (EACCES, the connection
 * stays), payloads on ops that take none (EPROTO, the connection stays), args_len / data_len
 * beyond the limits (> 64 MiB: the connection is closed at once). Where the server answers,
 * the status is checked; where it must drop, that no reply came; where it must close a local
 * connection, that it did. Then a flood of tens of thousands of wrong-key and malformed
 * frames: the server logs (redirected to a file) must stay small (bfs_log_limited: a few
 * lines a second and a summary line of what was left out).
 *
 * Afterwards every server must still be alive, the normal client must still read its data
 * back and create new entries, nothing the hostile frames asked for may have happened, the
 * servers' rejected_frames / rejected_key counters must equal exactly what was sent, and the
 * logs must show the rejections (at least one line each, and the summary lines) and no
 * sanitizer report.
 *
 * "test_hostile N dying" instead runs peers (this binary re-executed) that vanish with work in
 * flight: over UCX (connected through the listener) they start rendezvous writes and big
 * reads and die without closing anything; over the local socket they send big CHUNK_READs
 * they never read the replies of and write only part of a 64 MiB CHUNK_WRITE frame, then
 * die. The same end checks follow.
 *
 * The random part is seeded from $BENCHFS_HOSTILE_SEED (default fixed) and printed. The
 * structure-aware fuzzer is test_fuzz_frames.c. This file runs the phases and the end checks;
 * the attack families are hostile_targeted.c, hostile_random.c, hostile_local.c and
 * hostile_dying.c, over the shared machinery of hostile_common.c and raw_peer.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "common/proto.h"
#include "common/util.h"
#include "hostile.h"

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--dying-peer") == 0)
        return child_main(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10),
                          (uint32_t)strtoul(argv[5], NULL, 10), argv[6]);
    int n = argc > 1 ? atoi(argv[1]) : 2;
    /* "dying": only the vanishing-peer scenario (its own ctest entry), else the barrage. */
    int dying = argc > 2 && strcmp(argv[2], "dying") == 0;
    const char *seed_env = getenv("BENCHFS_HOSTILE_SEED");
    rp_rng = seed_env ? strtoull(seed_env, NULL, 0) : 0x5eed0fb0057ull;
    if (!rp_rng)
        rp_rng = 1;
    printf("hostile: %d server(s), %s, seed %#llx\n", n, dying ? "dying peers" : "barrage",
           (unsigned long long)rp_rng);
    fflush(stdout);
    int64_t t_start = bfs_mono_ms();

    /* The servers' stderr goes to a log file, checked at the end. */
    char logpath[512];
    struct cluster c;
    if (rp_cluster_start_logged(&c, n, "hostile", logpath, sizeof logpath) != 0)
        return 2;

    benchfs_t *fs = cluster_client(&c, 5000);
    /* The file the hostile frames must not damage. */
    size_t flen = 3 * (1u << 20) + 4321;
    char *fdata = malloc(flen), *back = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        fdata[i] = (char)(i * 31 + 7);
    int fd = benchfs_open(fs, "/data", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, fdata, flen, 0) == (ssize_t)flen);
    CHECK_OK(benchfs_close(fs, fd));
    benchfs_stat_t st;
    memset(&st, 0, sizeof st);
    CHECK_OK(benchfs_stat(fs, "/data", &st));
    uint64_t file_id = st.ino;
    uint32_t file_chunk = st.chunk_size ? st.chunk_size : (1u << 20);

    struct rp_peer r;
    hostile_open(&r, &c, 1);
    printf("hostile: max AM header %zu bytes\n", r.max_am_header);
    g_big = malloc(BFS_MAX_DATA + 1); /* never touched: rendezvous the server declines */
    memset(g_mib, 0x5a, sizeof g_mib);

    uint64_t first;
    if (!dying) {
        /* Phase 1: targeted frames, every server. */
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            targeted(&r, s, file_id, file_chunk);
        drain(&r, first, 10000);
        verify(first, "targeted");
        printf("hostile: phase targeted done at %lld ms\n", (long long)(bfs_mono_ms() - t_start));

        /* Phase 2: randomised barrage, every server (about 3000 frames in all). */
        int per = 3000 / n / 3;
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            barrage(&r, s, per, per / 2, per + per / 2);
        drain(&r, first, 15000);
        verify(first, "barrage");
        printf("hostile: phase barrage done at %lld ms\n", (long long)(bfs_mono_ms() - t_start));

        /* Phase 3: read-only requests with flipped bytes. */
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            mutate(&r, s, 600 / n, file_id, file_chunk);
        drain(&r, first, 10000);
        verify(first, "mutated");
        printf("hostile: phase mutated done at %lld ms\n", (long long)(bfs_mono_ms() - t_start));

        /* Phase 4: the local sockets. */
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            targeted_local(&r, s, file_id, file_chunk);
        drain(&r, first, 5000);
        verify(first, "local");
        printf("hostile: %u frames sent after the local socket phase, %lld ms\n", g_frames_sent,
               (long long)(bfs_mono_ms() - t_start));

        /* Phase 5: a flood. The log may grow by a few lines a second per server, whatever
         * the number of frames; a summary line follows a second later (provoked by one more
         * rejected frame of each kind: the limiter writes it when the next one comes). */
        struct stat lst;
        off_t log_before = stat(logpath, &lst) == 0 ? lst.st_size : 0;
        int64_t t_flood = bfs_mono_ms();
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            flood(&r, s, 20000, 10000);
        drain(&r, first, 20000);
        verify(first, "flood");
        int64_t flood_ms = bfs_mono_ms() - t_flood;
        int64_t until = bfs_mono_ms() + 1100;
        while (bfs_mono_ms() < until)
            rp_progress(&r, 10);
        first = g_next_reqid;
        for (int s = 0; s < n; s++) {
            flood(&r, s, 1, 1);
            static struct frame fr;
            frame_init(&fr, &r, BFS_OP_PING); /* and the UCX channel still answers */
            send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "ping after the flood");
        }
        drain(&r, first, 5000);
        verify(first, "after the flood");
        off_t log_after = stat(logpath, &lst) == 0 ? lst.st_size : 0;
        printf("hostile: flood of %d wrong-key + %d malformed frames per server in %lld ms; "
               "the server log grew by %lld bytes\n",
               20000, 10000, (long long)flood_ms, (long long)(log_after - log_before));
        /* 10 lines a second per limiter and server, ~150 bytes each, plus summaries */
        long long bound = (long long)n * 2 * (flood_ms / 1000 + 2) * 12 * 200;
        if (bound > 64 * 1024 * n)
            bound = 64 * 1024 * n;
        CHECK(log_after - log_before < bound);
    } else {
        /* Peers that vanish with rendezvous transfers and chunk I/O in flight. */
        dying_peer(&c, &r, file_id, file_chunk);
    }

    /* The channel still works. */
    first = g_next_reqid;
    for (int s = 0; s < n; s++) {
        static struct frame fr;
        frame_init(&fr, &r, BFS_OP_PING);
        send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "ping at the end");
    }
    drain(&r, first, 5000);
    verify(first, "after");
    CHECK(g_stray_replies == 0);
    CHECK(r.bad_replies == 0);
    CHECK(r.send_errors == 0);
    for (int s = 0; s < n; s++)
        CHECK(!r.ucx[s].failed);
    printf("hostile: %u frames sent in %lld ms\n", g_frames_sent,
           (long long)(bfs_mono_ms() - t_start));

    /* Every server is alive; if one is not, skip to its log (the rest would just cascade). */
    if (!rp_all_alive("hostile", &c)) {
        fprintf(stderr, "FAIL: a server died; skipping the client checks, see its log below\n");
        rp_close(&r);
        goto stop;
    }

    /* Nothing the hostile frames asked for happened. */
    static const char *never[] = {"/hostile-wrong-key", "/hostile-no-reply",
                                  "/hostile-no-reply-wrong-key", "/hostile-mkdir-with-data",
                                  "/hostile-short-mkdir", "/hostile-long-mkdir",
                                  "/hostile-create-cs0", "/hostile-create-cshuge",
                                  "/hostile-meta-put", "/hostile-wrong-key-local",
                                  "/hostile-mkdir-with-data-local", "/hostile-create-cs0-local",
                                  "/hostile-symlink", "/hostile-bad-inode"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        CHECK_ERR(benchfs_stat(fs, never[i], &st), ENOENT);
    int entries = 0, only_data = 1;
    benchfs_dir_t *d = benchfs_opendir(fs, "/");
    CHECK(d != NULL);
    for (const benchfs_dirent_t *e; d && (e = benchfs_readdir(d)) != NULL; entries++)
        if (strcmp(e->name, "data") != 0) {
            only_data = 0;
            fprintf(stderr, "hostile: unexpected entry /%s\n", e->name);
        }
    if (d)
        benchfs_closedir(d);
    CHECK(entries == 1 && only_data);

    /* The normal client still works and its data is intact. */
    memset(&st, 0, sizeof st);
    CHECK_OK(benchfs_stat(fs, "/data", &st));
    CHECK(st.size == flen && st.ino == file_id);
    fd = benchfs_open(fs, "/data", O_RDONLY, 0);
    CHECK(fd >= 0);
    memset(back, 0, flen);
    CHECK(benchfs_pread(fs, fd, back, flen, 0) == (ssize_t)flen);
    CHECK(memcmp(back, fdata, flen) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_mkdir(fs, "/after", 0755));
    fd = benchfs_open(fs, "/after/f", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, fdata, 100000, 0) == 100000);
    memset(back, 0, 100000);
    CHECK(benchfs_pread(fs, fd, back, 100000, 0) == 100000);
    CHECK(memcmp(back, fdata, 100000) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/after/f", &st));
    CHECK(st.size == 100000);

    /* The counters saw exactly the frames that must be counted. */
    rp_check_counters(&r, fs, !dying);

    rp_close(&r);
    CHECK_OK(benchfs_unlink(fs, "/after/f"));
    CHECK_OK(benchfs_rmdir(fs, "/after"));
    rp_all_alive("hostile", &c);
stop:
    free(g_big);
    benchfs_term(fs);
    cluster_stop(&c); /* also checks every server exits cleanly on SIGTERM */

    /* The servers logged the rejections, and no sanitizer complained. */
    char *log = rp_slurp(logpath);
    CHECK(log != NULL);
    if (log) {
        for (int s = 0; s < n && !dying; s++) {
            /* Rate-limited: at least one line of each kind, and the summaries. */
            char needle[160];
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: rejected a malformed request", s);
            CHECK(rp_count(log, needle) > 0);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: rejected a ", s);
            int rej = rp_count(log, needle);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: closing local client pid", s);
            int closing = rp_count(log, needle);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: rejected a mkdir request with a "
                                            "wrong cluster key", s);
            CHECK(rp_count(log, needle) > 0);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: ", s);
            int summaries = 0;
            for (const char *q = log; (q = strstr(q, needle)) != NULL; q += strlen(needle)) {
                const char *eol = strchr(q, '\n');
                const char *m = strstr(q, " more rejected frames in the last ");
                if (m && (!eol || m < eol))
                    summaries |= 1;
                m = strstr(q, " more frames with a wrong key in the last ");
                if (m && (!eol || m < eol))
                    summaries |= 2;
            }
            printf("hostile: server %d logged %d rejection lines, %d local closes, summaries %s\n",
                   s, rej, closing, summaries == 3 ? "both" : summaries ? "one" : "none");
            CHECK(closing > 0 || rej > 0);
            CHECK(summaries == 3);
        }
        int asan = rp_count(log, "ERROR: AddressSanitizer") +
                   rp_count(log, "ERROR: LeakSanitizer") + rp_count(log, "runtime error") +
                   rp_count(log, "Caught signal");
        CHECK(asan == 0);
        /* Show what the servers said besides the expected rejections. */
        int shown = 0, total = 0;
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
            total++;
            if (strstr(line, "WARN: rejected a ") || strstr(line, " INFO: ") ||
                strstr(line, "WARN: closing local client pid") ||
                strstr(line, "(not logged one by one)"))
                continue;
            if (shown++ < 60 || asan)
                fprintf(stderr, "server log: %s\n", line);
        }
        printf("hostile: %d server log lines (%d unexpected shown above)\n", total, shown);
        free(log);
    }
    if (!getenv("BENCHFS_KEEP_TEST_DIR"))
        unlink(logpath);
    else
        printf("hostile: server log kept in %s\n", logpath);
    free(fdata);
    free(back);
    printf("hostile: total %lld ms\n", (long long)(bfs_mono_ms() - t_start));
    return test_finish("hostile");
}
