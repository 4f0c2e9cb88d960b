/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_report.c — what benchfs-bench prints (table), saves (JSON) and draws (gnuplot PNG).
 * Rank 0 only; every figure comes from struct backend_res. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "benchfs.h"

/* GiB/s for bandwidth phases, ops/s for metadata phases. */
static double rate(const struct phase_res *p, enum phase_id id)
{
    if (!p->ran || p->seconds <= 0)
        return 0;
    return phase_kind(id) == KIND_BW ? p->bytes / p->seconds / (double)(1u << 30)
                                     : p->ops / p->seconds;
}

static const char *unit(enum phase_id id) { return phase_kind(id) == KIND_BW ? "GiB/s" : "ops/s"; }

static void human(char *buf, size_t cap, uint64_t v)
{
    if (v >= (1ull << 30) && v % (1ull << 30) == 0)
        snprintf(buf, cap, "%llu GiB", (unsigned long long)(v >> 30));
    else if (v >= (1ull << 20) && v % (1ull << 20) == 0)
        snprintf(buf, cap, "%llu MiB", (unsigned long long)(v >> 20));
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(buf, cap, "%llu KiB", (unsigned long long)(v >> 10));
    else
        snprintf(buf, cap, "%llu B", (unsigned long long)v);
}

static int phase_failed(const struct phase_res *p) { return p->errors || p->verify_errors; }

void report_table(FILE *f, const struct bench_cfg *c, const struct backend_res *r, int nr)
{
    char x[32], b[32], tot[32];
    human(x, sizeof x, c->xfer);
    human(b, sizeof b, c->block);
    human(tot, sizeof tot, c->block * c->segments * (uint64_t)c->nranks);
    fprintf(f, "\nbenchfs-bench %s: %d MPI rank(s) (%d per node)", benchfs_version(), c->nranks,
            c->ranks_per_node);
    if (c->nservers > 0)
        fprintf(f, ", %d BenchFS servers", c->nservers);
    fprintf(f, "\n");
    if (c->run_bw)
        fprintf(f,
                "  bandwidth: %s, -t %s -b %s -s %llu (%s per phase), %s%s%s\n",
                c->fpp ? "file per process (-F)" : "one shared file", x, b,
                (unsigned long long)c->segments, tot,
                c->fsync ? "fsync before close" : "no fsync",
                c->reorder ? ", reads another rank's data (-C)" : "",
                c->verify ? ", verified (-W)" : "");
    if (c->run_md)
        fprintf(f, "  metadata:  -n %llu files and directories per rank in one shared "
                   "directory, %llu bytes per file\n",
                (unsigned long long)c->files, (unsigned long long)c->md_write);
    for (int i = 0; i < nr; i++)
        fprintf(f, "  %-8s   %s%s\n", r[i].name, r[i].root,
                strcmp(r[i].key, "posix") == 0 ? " (local directory; page cache warm)" : "");
    /* ratios: every other backend against POSIX, which runs last when it runs at all */
    int base = nr >= 2 && strcmp(r[nr - 1].key, "posix") == 0 ? nr - 1 : -1;
    fprintf(f, "\n%-12s %-6s", "phase", "unit");
    for (int i = 0; i < nr; i++)
        fprintf(f, " %12s", r[i].name);
    for (int i = 0; i < base; i++) {
        char h[16];
        snprintf(h, sizeof h, "%.7s/P", r[i].name);
        fprintf(f, " %9s", nr == 2 ? "ratio" : h);
    }
    for (int i = 0; i < nr; i++) {
        char h[48];
        snprintf(h, sizeof h, "%s p50/p99 us", r[i].name);
        fprintf(f, "  %21s", h);
    }
    fprintf(f, "\n");
    for (int id = 0; id < PH_COUNT; id++) {
        if (!r[0].ph[id].ran)
            continue;
        fprintf(f, "%-12s %-6s", phase_labels[id], unit((enum phase_id)id));
        double v[2 + BENCH_MAX_VIA] = {0};
        for (int i = 0; i < nr; i++) {
            const struct phase_res *p = &r[i].ph[id];
            v[i] = rate(p, (enum phase_id)id);
            if (phase_failed(p))
                fprintf(f, " %12s", "FAILED");
            else if (phase_kind((enum phase_id)id) == KIND_BW)
                fprintf(f, " %12.3f", v[i]);
            else
                fprintf(f, " %12.0f", v[i]);
        }
        for (int i = 0; i < base; i++) {
            if (v[base] > 0 && !phase_failed(&r[i].ph[id]) && !phase_failed(&r[base].ph[id]))
                fprintf(f, " %9.2f", v[i] / v[base]);
            else
                fprintf(f, " %9s", "-");
        }
        for (int i = 0; i < nr; i++) {
            char l[48];
            snprintf(l, sizeof l, "%.1f / %.1f", r[i].ph[id].lat_p50_us, r[i].ph[id].lat_p99_us);
            fprintf(f, "  %21s", l);
        }
        fprintf(f, "\n");
    }
    if (nr == 2 && base == 1)
        fprintf(f, "ratio = %s / %s (above 1: %s is faster)\n", r[0].name, r[1].name, r[0].name);
    else if (base > 0)
        fprintf(f, "X/P = X / POSIX (above 1: X is faster than the local file system)\n");

    long errs = 0, verr = 0;
    double checked = 0;
    for (int i = 0; i < nr; i++)
        for (int id = 0; id < PH_COUNT; id++) {
            const struct phase_res *p = &r[i].ph[id];
            errs += p->errors;
            verr += p->verify_errors;
            if (id == PH_READ || id == PH_FILE_READ)
                checked += p->bytes;
            if (phase_failed(p))
                fprintf(f, "ERROR %s %s: %ld failed call(s), %ld bad byte(s); %s\n", r[i].name,
                        phase_names[id], p->errors, p->verify_errors, p->first_error);
        }
    if (c->verify)
        fprintf(f, "verification: %s (%.0f bytes read and checked)\n",
                verr ? "FAILED, data differs from what was written" : "passed", checked);
    if (errs)
        fprintf(f, "%ld I/O error(s): the figures of failed phases are not valid\n", errs);
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* {"phase": rate of backend i / rate of backend base, ...} */
static void json_ratios(FILE *f, const struct backend_res *r, int i, int base)
{
    fprintf(f, "{");
    int first = 1;
    for (int id = 0; id < PH_COUNT; id++) {
        if (!r[0].ph[id].ran)
            continue;
        double a = rate(&r[i].ph[id], (enum phase_id)id), b = rate(&r[base].ph[id], (enum phase_id)id);
        fprintf(f, "%s\"%s\": %.4f", first ? "" : ", ", phase_names[id], b > 0 ? a / b : 0.0);
        first = 0;
    }
    fprintf(f, "}");
}

int report_json(const char *path, const struct bench_cfg *c, const struct backend_res *r, int nr)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "benchfs-bench: --json %s: %s\n", path, strerror(errno));
        return -1;
    }
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    long verr = 0, errs = 0;
    fprintf(f, "{\n  \"benchmark\": \"benchfs-bench\",\n  \"version\": ");
    json_str(f, benchfs_version());
    fprintf(f, ",\n  \"time\": \"%s\",\n", when);
    fprintf(f, "  \"ranks\": %d,\n  \"ranks_per_node\": %d,\n  \"servers\": %d,\n", c->nranks,
            c->ranks_per_node, c->nservers);
    fprintf(f, "  \"config\": {\"transfer_size\": %llu, \"block_size\": %llu, \"segments\": %llu, "
               "\"file_per_process\": %s, \"fsync\": %s, \"reorder\": %s, \"verify\": %s, "
               "\"files_per_rank\": %llu, \"unique_dir\": %s, \"file_write_size\": %llu, "
               "\"chunk_size\": %u},\n",
            (unsigned long long)c->xfer, (unsigned long long)c->block,
            (unsigned long long)c->segments, c->fpp ? "true" : "false",
            c->fsync ? "true" : "false", c->reorder ? "true" : "false",
            c->verify ? "true" : "false", (unsigned long long)c->files,
            c->unique_dir ? "true" : "false", (unsigned long long)c->md_write, c->chunk_size);
    fprintf(f, "  \"backends\": [");
    for (int i = 0; i < nr; i++) {
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        json_str(f, r[i].key);
        fprintf(f, ", \"label\": ");
        json_str(f, r[i].name);
        fprintf(f, ", \"root\": ");
        json_str(f, r[i].root);
        fprintf(f, ", \"phases\": [");
        int first = 1;
        for (int id = 0; id < PH_COUNT; id++) {
            const struct phase_res *p = &r[i].ph[id];
            if (!p->ran)
                continue;
            errs += p->errors;
            verr += p->verify_errors;
            int bw = phase_kind((enum phase_id)id) == KIND_BW;
            fprintf(f, "%s\n      {\"name\": \"%s\", \"kind\": \"%s\", \"bytes\": %.0f, "
                       "\"ops\": %.0f, \"seconds\": %.6f, ",
                    first ? "" : ",", phase_names[id], bw ? "bandwidth" : "metadata", p->bytes,
                    p->ops, p->seconds);
            double secs = p->seconds > 0 ? p->seconds : 0;
            fprintf(f, "\"GiB_per_s\": %.6f, \"ops_per_s\": %.3f, ",
                    secs > 0 ? p->bytes / secs / (double)(1u << 30) : 0.0,
                    secs > 0 ? p->ops / secs : 0.0);
            fprintf(f, "\"latency_us\": {\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f}, ",
                    p->lat_p50_us, p->lat_p99_us, p->lat_max_us);
            fprintf(f, "\"errors\": %ld, \"verify_errors\": %ld", p->errors, p->verify_errors);
            if (p->first_error[0]) {
                fprintf(f, ", \"first_error\": ");
                json_str(f, p->first_error);
            }
            fprintf(f, "}");
            first = 0;
        }
        fprintf(f, "\n    ]}");
    }
    fprintf(f, "\n  ],\n");
    /* "ratio": the first backend (BenchFS) against POSIX; "ratio_to_posix": every one, when
     * there are ways in besides the library (--via) */
    int base = nr >= 2 && strcmp(r[nr - 1].key, "posix") == 0 ? nr - 1 : -1;
    if (base > 0) {
        fprintf(f, "  \"ratio\": ");
        json_ratios(f, r, 0, base);
        fprintf(f, ",\n");
    }
    if (base > 1) {
        fprintf(f, "  \"ratio_to_posix\": {");
        for (int i = 0; i < base; i++) {
            fprintf(f, "%s\n    ", i ? "," : "");
            json_str(f, r[i].key);
            fprintf(f, ": ");
            json_ratios(f, r, i, base);
        }
        fprintf(f, "\n  },\n");
    }
    fprintf(f, "  \"errors\": %ld,\n  \"verify_errors\": %ld,\n  \"ok\": %s\n}\n", errs, verr,
            errs || verr ? "false" : "true");
    if (f == stdout)
        return fflush(f) == 0 ? 0 : -1;
    if (fclose(f) != 0) {
        fprintf(stderr, "benchfs-bench: --json %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- gnuplot ---- */

int report_have_gnuplot(void)
{
    return system("gnuplot --version >/dev/null 2>&1") == 0;
}

static void plot_block(FILE *g, const char *name, enum phase_kind kind,
                       const struct backend_res *r, int nr)
{
    fprintf(g, "$%s << EOD\n", name);
    for (int id = 0; id < PH_COUNT; id++) {
        if (phase_kind((enum phase_id)id) != kind || !r[0].ph[id].ran)
            continue;
        fprintf(g, "\"%s\"", phase_labels[id]);
        for (int i = 0; i < nr; i++)
            fprintf(g, " %.6g", rate(&r[i].ph[id], (enum phase_id)id));
        fprintf(g, "\n");
    }
    fprintf(g, "EOD\n");
}

/* Bars that span more than two decades are unreadable on a linear axis: go logarithmic. */
static void plot_scale(FILE *g, enum phase_kind kind, const struct backend_res *r, int nr)
{
    double lo = 0, hi = 0;
    for (int id = 0; id < PH_COUNT; id++)
        for (int i = 0; i < nr; i++) {
            double v = phase_kind((enum phase_id)id) == kind ? rate(&r[i].ph[id], (enum phase_id)id) : 0;
            if (v <= 0)
                continue;
            lo = lo == 0 || v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    const char *u = kind == KIND_BW ? "GiB/s" : "ops/s";
    if (lo > 0 && hi / lo > 30)
        fprintf(g, "set logscale y\nset yrange [%g:*]\nset ylabel '%s (log scale)'\n", lo / 2, u);
    else
        fprintf(g, "unset logscale y\nset yrange [0:*]\nset ylabel '%s'\n", u);
}

static void plot_cmd(FILE *g, const char *block, const struct backend_res *r, int nr)
{
    fprintf(g, "plot $%s using 2:xtic(1) title '%s'", block, r[0].name);
    for (int i = 1; i < nr; i++)
        fprintf(g, ", '' using %d title '%s'", i + 2, r[i].name);
    fprintf(g, "\n");
}

int report_plot(const char *path, const struct bench_cfg *c, const struct backend_res *r, int nr)
{
    if (strchr(path, '\'') || strchr(path, '\n')) {
        fprintf(stderr, "benchfs-bench: --plot: file name must not contain quotes\n");
        return -1;
    }
    FILE *g = popen("gnuplot", "w");
    if (!g) {
        fprintf(stderr, "benchfs-bench: --plot: cannot run gnuplot: %s\n", strerror(errno));
        return -1;
    }
    int panels = (c->run_bw ? 1 : 0) + (c->run_md ? 1 : 0);
    fprintf(g, "set terminal pngcairo size %d,500 noenhanced font 'sans,10'\n",
            panels > 1 ? 1200 : 650);
    fprintf(g, "set output '%s'\n", path);
    plot_block(g, "bw", KIND_BW, r, nr);
    plot_block(g, "md", KIND_MD, r, nr);
    fprintf(g, "set style data histograms\nset style histogram clustered gap 1\n"
               "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
               "set grid ytics\nset key top right\nset xtics rotate by -30\n");
    fprintf(g, "set multiplot layout 1,%d title 'benchfs-bench: %d ranks%s'\n", panels,
            c->nranks, c->fpp ? ", file per process" : ", shared file");
    if (c->run_bw) {
        fprintf(g, "set title 'Bandwidth (higher is better)'\n");
        plot_scale(g, KIND_BW, r, nr);
        plot_cmd(g, "bw", r, nr);
    }
    if (c->run_md) {
        fprintf(g, "set title 'Metadata (higher is better)'\n");
        plot_scale(g, KIND_MD, r, nr);
        plot_cmd(g, "md", r, nr);
    }
    fprintf(g, "unset multiplot\n");
    int st = pclose(g);
    if (st != 0) {
        fprintf(stderr, "benchfs-bench: --plot %s: gnuplot failed (status %d)\n", path, st);
        return -1;
    }
    return 0;
}
