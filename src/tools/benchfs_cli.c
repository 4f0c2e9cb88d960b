/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfs_cli.c — `benchfs`, the shell tool: global options and the subcommand table.
 *
 *   benchfs [-r DIR | --registry DIR] COMMAND [OPTIONS] [ARGS...]
 *
 * Each subcommand lives in the file of its concern (cli_list.c, cli_ns.c, cli_copy.c,
 * cli_stage.c); only stage-in/stage-out start MPI, so every other command runs without mpirun
 * and returns as fast as one connection allows. */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"

/* The options put and get share. */
#define COPY_OPTIONS_HELP                                                                        \
    "  -r, -R            copy directories recursively\n"                                        \
    "  -q                no summary line at the end\n"                                          \
    "  -v                per rank: pieces, bytes, errors, seconds (on stderr)\n"                \
    "  --progress        draw a progress bar on stderr even if it is not a terminal\n"          \
    "  --no-progress     never draw it (default: only when stderr is a terminal)\n"             \
    "  --io-size SIZE    bytes per read/write call (default 4M)\n"

const struct cli_cmd cli_cmds[] = {
    {"ls", "ls [-l] [-d] [-h] [PATH...]",
     "List directories (sorted by name) or name files; default PATH is /.\n"
     "  -l  long format: mode, links, owner, group, size, modification time, name\n"
     "  -d  list directories themselves, not their contents\n"
     "  -h  with -l, sizes as 1.5K, 20M, 3.1G\n",
     cmd_ls},
    {"stat", "stat PATH...",
     "Show every attribute of each PATH: size, blocks, chunk size, file id, mode, owner,\n"
     "times.\n",
     cmd_stat},
    {"mkdir", "mkdir [-p] [-m MODE] PATH...",
     "Create directories (mode 0777 minus the umask, or MODE in octal).\n"
     "  -p  create missing parents too; an existing directory is no error\n",
     cmd_mkdir},
    {"rm", "rm [-r] [-f] PATH...",
     "Remove files; with -r, directories and everything below them.\n"
     "  -r, -R  recursive (needed for directories, like rm(1))\n"
     "  -f      a missing PATH is no error\n",
     cmd_rm},
    {"mv", "mv SRC... DST",
     "Rename SRC to DST; if DST is an existing directory, move each SRC into it.\n"
     "Directories move with everything below them.\n",
     cmd_mv},
    {"cat", "cat PATH...", "Write the contents of each file to standard output.\n", cmd_cat},
    {"df", "df [-h]",
     "Show the cluster's capacity (the sum over all servers): size, used, available, use%,\n"
     "and how many servers answered. Exit status 1 if any server is down.\n"
     "  -h  sizes as 1.5K, 20M, 3.1G instead of 1K blocks\n",
     cmd_df},
    {"put", "put [-r] [-q] [-v] [--progress|--no-progress] [--io-size SIZE] LOCAL... DEST",
     "Copy local files (with -r: directory trees) into BenchFS, like cp: if DEST is an\n"
     "existing directory each LOCAL goes into it under its own name, otherwise the single\n"
     "LOCAL becomes DEST. Permission bits are kept; symbolic links are followed.\n"
     COPY_OPTIONS_HELP,
     cmd_put},
    {"get", "get [-r] [-q] [-v] [--progress|--no-progress] [--io-size SIZE] SRC... LOCALDEST",
     "Copy files (with -r: directory trees) out of BenchFS to the local file system, with\n"
     "the same rules as put.\n"
     COPY_OPTIONS_HELP,
     cmd_get},
    {"stage-in", "stage-in [-q] [-v] [--progress|--no-progress] [--io-size SIZE] [--split SIZE] "
                 "SRC_LOCAL_DIR DEST",
     "MPI-parallel copy of a local directory tree (e.g. on the parallel file system) into\n"
     "BenchFS: the contents of SRC_LOCAL_DIR end up in DEST (created with its parents if\n"
     "missing). Run under mpirun/srun; works as a single process too. Rank 0 walks the tree\n"
     "and creates the directories; files are balanced over the ranks by size, and files\n"
     "larger than --split are cut into ranges copied by different ranks.\n"
     "  -q                no summary line at the end\n"
     "  -v                per rank: pieces, bytes, errors, seconds (on stderr)\n"
     "  --progress        draw a progress bar on stderr even if it is not a terminal\n"
     "  --no-progress     never draw it (default: only when stderr is a terminal; under\n"
     "                    mpirun it is a pipe, so pass --progress to see the bar)\n"
     "  --io-size SIZE    bytes per read/write call (default 4M)\n"
     "  --split SIZE      cut files larger than SIZE over ranks (default 64M, 0: never)\n",
     cmd_stage_in},
    {"stage-out", "stage-out [-q] [-v] [--progress|--no-progress] [--io-size SIZE] [--split SIZE] "
                  "SRC DEST_LOCAL_DIR",
     "MPI-parallel copy of a BenchFS directory tree to the local file system: the contents\n"
     "of SRC end up in DEST_LOCAL_DIR (created with its parents if missing). Same options\n"
     "and work distribution as stage-in (see 'benchfs stage-in --help').\n",
     cmd_stage_out},
    {"find", "find [--count] [--stats] [--mount PREFIX] DIR... [-name GLOB] [-newer FILE] "
             "[-size [+-]N[cwbkMG]] [-type f|d|l]",
     "Print the paths at or below each DIR (DIR included) that pass every test, as find(1)\n"
     "does, without walking directories: every server scans and filters its own share of\n"
     "the namespace. Under mpirun/srun the ranks split the servers between them.\n"
     "  -name GLOB        the last component matches GLOB (quote it from the shell)\n"
     "  -newer FILE       modified after FILE (a BenchFS file if it exists there, else local)\n"
     "  -size [+-]N[U]    size in units U rounded up is more (+), less (-) or exactly N;\n"
     "                    U: c bytes, w 2 bytes, b 512 (default), k KiB, M MiB, G GiB\n"
     "  -type f|d|l       regular file, directory, symbolic link (or a list: f,d)\n"
     "  --count           print only 'MATCHED <matched>/<examined>' (io500's external find)\n"
     "  --stats           entries examined, scanned and matched, time and rates, on stderr\n"
     "  --mount PREFIX    operands under PREFIX (where programs see BenchFS: preload, FUSE)\n"
     "                    are BenchFS paths without it (default $BENCHFS_MOUNT)\n"
     "Exit status 1 if a DIR does not exist or a server could not be asked.\n",
     cmd_find},
    {NULL, NULL, NULL, NULL},
};

static void usage_all(FILE *f)
{
    fprintf(f, "usage: benchfs [-r DIR | --registry DIR] COMMAND [OPTIONS] [ARGS...]\n\n"
               "Commands:\n");
    for (const struct cli_cmd *c = cli_cmds; c->name; c++)
        fprintf(f, "  %s\n", c->synopsis);
    fprintf(f, "\nThe cluster is found through its registry directory: -r/--registry, or\n"
               "$BENCHFS_REGISTRY. 'benchfs COMMAND --help' describes one command.\n"
               "Exit status: 0 success, 1 an operation failed, 2 bad command line.\n");
}

int main(int argc, char **argv)
{
    /* Global options stop at the first operand (the command), so "-r" of "rm -r" is the
     * command's. */
    static const struct option lo[] = {
        {"registry", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:r:hV", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            cli_g.registry = optarg;
            break;
        case 'h':
            usage_all(stdout);
            return CLI_OK;
        case 'V':
            printf("benchfs %s\n", benchfs_version());
            return CLI_OK;
        case ':':
            fprintf(stderr, "benchfs: option '%s' needs an argument\n", argv[optind - 1]);
            usage_all(stderr);
            return CLI_USAGE;
        default:
            fprintf(stderr, "benchfs: unrecognized option '%s'\n", argv[optind - 1]);
            usage_all(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        usage_all(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        if (optind + 1 < argc)
            return cli_help(argv[optind + 1]) == CLI_OK
                       ? CLI_OK
                       : (fprintf(stderr, "benchfs: unknown command '%s'\n", argv[optind + 1]),
                          CLI_USAGE);
        usage_all(stdout);
        return CLI_OK;
    }
    for (const struct cli_cmd *cmd = cli_cmds; cmd->name; cmd++) {
        if (strcmp(cmd->name, name) == 0) {
            int first = optind;
            cli_getopt_reset(); /* the command parses its own options from its argv[1] on */
            return cmd->run(argc - first, argv + first);
        }
    }
    fprintf(stderr, "benchfs: unknown command '%s'\n", name);
    usage_all(stderr);
    return CLI_USAGE;
}
