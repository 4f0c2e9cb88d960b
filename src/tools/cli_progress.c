/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_progress.c — what a person watching a copy sees: a progress bar on stderr (only on a
 * terminal unless forced, redrawn a few times a second, fed by every rank's reports) and one
 * summary line at the end. Also the one-process team used by put/get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tools/cli.h"

/* ---- the team of one ---- */

static int single_bcast(struct cli_team *t, void *buf, size_t len)
{
    (void)t, (void)buf, (void)len;
    return 0;
}
static void single_barrier(struct cli_team *t) { (void)t; }
static void single_allsum(struct cli_team *t, uint64_t *v, int n) { (void)t, (void)v, (void)n; }
static void single_allmax(struct cli_team *t, double *v, int n) { (void)t, (void)v, (void)n; }
static void single_report(struct cli_team *t, uint64_t b, uint64_t f, int final)
{
    (void)t, (void)b, (void)f, (void)final;
}
static int single_collect(struct cli_team *t, uint64_t *b, uint64_t *f)
{
    (void)t, (void)b, (void)f;
    return 0;
}

void team_single(struct cli_team *t)
{
    *t = (struct cli_team){
        .rank = 0,
        .size = 1,
        .bcast = single_bcast,
        .barrier = single_barrier,
        .allsum = single_allsum,
        .allmax = single_allmax,
        .report = single_report,
        .collect = single_collect,
    };
}

/* ---- progress ---- */

#define REDRAW_S 0.25 /* often enough to look alive, rarely enough to cost nothing */

void progress_init(struct cli_progress *pg, struct cli_team *t, int want, uint64_t total_bytes,
                   uint64_t total_files)
{
    memset(pg, 0, sizeof *pg);
    pg->team = t;
    pg->total_bytes = total_bytes;
    pg->total_files = total_files;
    pg->start = pg->last = cli_now();
    /* Whether to draw is rank 0's decision (its stderr is the one a person looks at); the
     * caller has made `want` the same on every rank. */
    int on = want;
    if (on < 0)
        on = 0;
    if (t->rank == 0) {
        pg->enabled = on;
        if (on && t->size > 1) {
            pg->rank_bytes = calloc((size_t)t->size, sizeof *pg->rank_bytes);
            pg->rank_files = calloc((size_t)t->size, sizeof *pg->rank_files);
            if (!pg->rank_bytes || !pg->rank_files) {
                free(pg->rank_bytes);
                free(pg->rank_files);
                pg->rank_bytes = pg->rank_files = NULL;
            }
        }
    } else {
        pg->share = on;
    }
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

static void draw(struct cli_progress *pg, double now)
{
    uint64_t bytes = pg->bytes, files = pg->files;
    if (pg->rank_bytes) {
        pg->team->collect(pg->team, pg->rank_bytes, pg->rank_files);
        for (int r = 1; r < pg->team->size; r++) {
            bytes += pg->rank_bytes[r];
            files += pg->rank_files[r];
        }
    }
    double el = now - pg->start;
    double frac = pg->total_bytes ? (double)bytes / (double)pg->total_bytes
                  : pg->total_files ? (double)files / (double)pg->total_files
                                    : 1.0;
    if (frac > 1)
        frac = 1;
    double rate = el > 0 ? (double)bytes / el : 0;
    char eta[32] = "--:--";
    if (rate > 0 && pg->total_bytes > bytes) {
        long s = (long)((double)(pg->total_bytes - bytes) / rate);
        snprintf(eta, sizeof eta, "%ld:%02ld", s / 60, s % 60);
    } else if (frac >= 1) {
        snprintf(eta, sizeof eta, "0:00");
    }
    char hb[32], ht[32], hr[32], tail[160];
    snprintf(tail, sizeof tail, " %3d%% %s/%s %s/s files %llu/%llu ETA %s", (int)(frac * 100),
             cli_human(bytes, hb, sizeof hb), cli_human(pg->total_bytes, ht, sizeof ht),
             cli_human((uint64_t)rate, hr, sizeof hr), (unsigned long long)files,
             (unsigned long long)pg->total_files, eta);
    int width = term_width() - (int)strlen(tail) - 3;
    if (width > 50)
        width = 50;
    char bar[64];
    int fill = width > 0 ? (int)(frac * width) : 0;
    for (int i = 0; i < width && i < 63; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[width > 0 ? (width < 63 ? width : 63) : 0] = '\0';
    fprintf(stderr, "\r[%s]%s\033[K", bar, tail);
    fflush(stderr);
    pg->drawn = 1;
}

void progress_add(struct cli_progress *pg, uint64_t bytes, uint64_t files)
{
    pg->bytes += bytes;
    pg->files += files;
    if (!pg->enabled && !pg->share)
        return;
    double now = cli_now();
    if (now - pg->last < REDRAW_S)
        return;
    pg->last = now;
    if (pg->enabled)
        draw(pg, now);
    else
        pg->team->report(pg->team, pg->bytes, pg->files, 0);
}

void progress_finish(struct cli_progress *pg)
{
    if (pg->share) {
        pg->team->report(pg->team, pg->bytes, pg->files, 1);
        return;
    }
    if (!pg->enabled)
        return;
    /* Rank 0 is done with its share: keep the bar moving until everybody else is. */
    while (pg->team->size > 1 &&
           pg->team->collect(pg->team, pg->rank_bytes, pg->rank_files) < pg->team->size - 1) {
        double now = cli_now();
        if (now - pg->last >= REDRAW_S) {
            pg->last = now;
            draw(pg, now);
        }
        usleep(20000);
    }
    draw(pg, cli_now());
    fputs("\r\033[K", stderr); /* leave the line to the summary */
    fflush(stderr);
}

void progress_free(struct cli_progress *pg)
{
    free(pg->rank_bytes);
    free(pg->rank_files);
    pg->rank_bytes = pg->rank_files = NULL;
}

void print_summary(const char *cmd, uint64_t files, uint64_t dirs, uint64_t bytes, double secs,
                   int nranks, uint64_t errors)
{
    double gib = (double)bytes / (double)(1u << 30);
    char hb[32];
    printf("%s: %llu file%s, %llu director%s, %s (%llu bytes) in %.2f s, %.3f GiB/s", cmd,
           (unsigned long long)files, files == 1 ? "" : "s", (unsigned long long)dirs,
           dirs == 1 ? "y" : "ies", cli_human(bytes, hb, sizeof hb), (unsigned long long)bytes,
           secs, secs > 0 ? gib / secs : 0.0);
    if (nranks > 1)
        printf(", %d ranks", nranks);
    if (errors)
        printf(", %llu error%s", (unsigned long long)errors, errors == 1 ? "" : "s");
    printf("\n");
    fflush(stdout);
}
