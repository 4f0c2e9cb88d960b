/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aiori-BENCHFS.c -- IOR and mdtest backend for BenchFS.
 *
 * BenchFS is an ad-hoc distributed file system for HPC jobs; this backend drives it through
 * its client library libbenchfs (include/benchfs.h, pkg-config "benchfs").  It follows the
 * shape of upstream IOR's aiori-CHFS.c and aiori-FINCHFS.c.  This file is kept in the BenchFS
 * repository (contrib/ior/); contrib/ior/README.md says how to add it to an IOR tree.
 *
 * Usage:
 *     export BENCHFS_REGISTRY=/path/to/registry        (or --benchfs.registry=PATH)
 *     mpirun -np N ior    -a BENCHFS -o /testfile [--benchfs.chunk_size=4m] ...
 *     mpirun -np N mdtest -a BENCHFS -d /mdtest ...
 *
 * Paths: BenchFS paths are absolute inside the file system.  A relative name given to IOR or
 * mdtest (IOR's default "testFile", "./out") is taken relative to the BenchFS root, so
 * "testFile" is "/testFile".  (mdtest without -d uses the client's current working directory,
 * whose parents do not exist in BenchFS: always pass -d.)
 *
 * Options (IOR syntax: --benchfs.NAME=VALUE):
 *     --benchfs.registry=PATH    registry directory of the cluster; default $BENCHFS_REGISTRY
 *     --benchfs.chunk_size=SIZE  chunk size of the files this process creates (4k..64m, suffixes
 *                                k/m/g accepted); default $BENCHFS_CHUNK_SIZE or 4 MiB
 *
 * -e (fsync after the write phase) is only honoured by upstream ior.c for backends listed by
 * name in its parameter check (ior.c: "fsync() not supported in selected backend"); BENCHFS
 * must be added to that list, see README.md.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <benchfs.h>

#include "ior.h"
#include "aiori.h"
#include "utilities.h"

/* The block size reported by statfs; BenchFS itself counts bytes. */
#define BENCHFS_STATFS_BSIZE 4096

/************************** O P T I O N S *****************************/

typedef struct {
	char *registry;  /* --benchfs.registry; NULL: $BENCHFS_REGISTRY */
	int chunk_size;  /* --benchfs.chunk_size; 0: $BENCHFS_CHUNK_SIZE or the default */
} benchfs_ior_options_t;

option_help *BENCHFS_options(aiori_mod_opt_t **init_backend_options,
	aiori_mod_opt_t *init_values)
{
	benchfs_ior_options_t *o = malloc(sizeof(*o));

	if (o == NULL)
		ERR("out of memory allocating the BENCHFS options");
	if (init_values != NULL)
		memcpy(o, init_values, sizeof(*o));
	else
		memset(o, 0, sizeof(*o));
	*init_backend_options = (aiori_mod_opt_t *)o;

	option_help h[] = {
		{0, "benchfs.registry",
		 "Registry directory of the BenchFS cluster (default: $BENCHFS_REGISTRY)",
		 OPTION_OPTIONAL_ARGUMENT, 's', &o->registry},
		{0, "benchfs.chunk_size",
		 "Chunk size of files this process creates, e.g. 4m (default: $BENCHFS_CHUNK_SIZE or 4 MiB)",
		 OPTION_OPTIONAL_ARGUMENT, 'd', &o->chunk_size},
		LAST_OPTION
	};
	option_help *help = malloc(sizeof(h));

	if (help == NULL)
		ERR("out of memory allocating the BENCHFS option help");
	memcpy(help, h, sizeof(h));
	return help;
}

int BENCHFS_check_params(aiori_mod_opt_t *param)
{
	benchfs_ior_options_t *o = (benchfs_ior_options_t *)param;

	if (o == NULL)
		return 0;
	if (o->chunk_size != 0 &&
	    (o->chunk_size < (int)BENCHFS_MIN_CHUNK_SIZE ||
	     o->chunk_size > (int)BENCHFS_MAX_CHUNK_SIZE))
		ERRF("--benchfs.chunk_size=%d is outside %u..%u bytes", o->chunk_size,
		     BENCHFS_MIN_CHUNK_SIZE, BENCHFS_MAX_CHUNK_SIZE);
	if ((o->registry == NULL || o->registry[0] == '\0') &&
	    (getenv("BENCHFS_REGISTRY") == NULL || getenv("BENCHFS_REGISTRY")[0] == '\0'))
		ERR("BENCHFS needs a registry: pass --benchfs.registry=PATH or set BENCHFS_REGISTRY");
	return 0;
}

/************************** S T A T E *****************************/

static aiori_xfer_hint_t *hints = NULL;

void BENCHFS_fsync(aiori_fd_t *afd, aiori_mod_opt_t *param);

/* One connection per process; initialize/finalize may be called once per IOR test. */
static benchfs_t *bfs = NULL;
static int bfs_refs = 0;

/* Every open file: its dirty flag spares fsync and sync work already done. */
typedef struct benchfs_ior_file {
	int fd;
	int writable;  /* opened for writing */
	int dirty;     /* created or written since the last fsync of this handle */
	char path[PATH_MAX];
	struct benchfs_ior_file *prev, *next;
} benchfs_ior_file_t;

static benchfs_ior_file_t *open_files = NULL;

static int dry_run(void)
{
	return hints != NULL && hints->dryRun;
}

static benchfs_t *fs(void)
{
	if (bfs == NULL)
		ERR("BENCHFS backend used before its initialize()");
	return bfs;
}

/* A relative IOR/mdtest name is relative to the BenchFS root. */
static const char *bpath(const char *in, char *buf, size_t size)
{
	if (in == NULL || in[0] == '/')
		return in;
	if (snprintf(buf, size, "/%s", in) >= (int)size)
		ERRF("path \"%s\" is too long for BENCHFS", in);
	return buf;
}

/* IOR open flags to POSIX ones. IOR_DIRECT has no meaning for BenchFS and is ignored. */
static int open_flags(int iorflags)
{
	int f;

	if (iorflags & IOR_RDWR)
		f = O_RDWR;
	else if (iorflags & IOR_WRONLY)
		f = O_WRONLY;
	else
		f = O_RDONLY; /* IOR_RDONLY, or 0: mdtest's read phase passes POSIX O_RDONLY */
	if (iorflags & IOR_CREAT)
		f |= O_CREAT;
	if (iorflags & IOR_EXCL)
		f |= O_EXCL;
	if (iorflags & IOR_TRUNC)
		f |= O_TRUNC;
	if (iorflags & IOR_APPEND)
		f |= O_APPEND;
	return f;
}

static aiori_fd_t *track(int fd, int oflags, const char *path)
{
	benchfs_ior_file_t *f = malloc(sizeof(*f));

	if (f == NULL)
		ERR("out of memory allocating a BENCHFS file handle");
	f->fd = fd;
	f->writable = (oflags & O_ACCMODE) != O_RDONLY;
	f->dirty = (oflags & (O_CREAT | O_TRUNC)) != 0;
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->prev = NULL;
	f->next = open_files;
	if (open_files != NULL)
		open_files->prev = f;
	open_files = f;
	return (aiori_fd_t *)f;
}

static void untrack(benchfs_ior_file_t *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		open_files = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	free(f);
}

/************************** L I F E C Y C L E *****************************/

void BENCHFS_xfer_hints(aiori_xfer_hint_t *params)
{
	hints = params;
}

void BENCHFS_initialize(aiori_mod_opt_t *param)
{
	benchfs_ior_options_t *o = (benchfs_ior_options_t *)param;
	benchfs_options_t opts;

	if (bfs_refs++ > 0)
		return;
	memset(&opts, 0, sizeof(opts));
	if (o != NULL) {
		if (o->registry != NULL && o->registry[0] != '\0')
			opts.registry = o->registry;
		if (o->chunk_size > 0)
			opts.chunk_size = (uint32_t)o->chunk_size;
	}
	bfs = benchfs_init_opts(&opts);
	if (bfs == NULL)
		ERRF("benchfs_init(registry %s) failed: %s",
		     opts.registry ? opts.registry : "$BENCHFS_REGISTRY", benchfs_strerror());
}

void BENCHFS_finalize(aiori_mod_opt_t *param)
{
	(void)param;
	if (bfs_refs == 0 || --bfs_refs > 0)
		return;
	/* benchfs_term also closes (and publishes the sizes of) files left open. */
	while (open_files != NULL) {
		benchfs_ior_file_t *f = open_files;
		open_files = f->next;
		free(f);
	}
	if (benchfs_term(bfs) != 0)
		WARNF("benchfs_term failed: %s", benchfs_strerror());
	bfs = NULL;
}

char *BENCHFS_get_version(void)
{
	return (char *)benchfs_version();
}

/************************** F I L E S *****************************/

/*
 * create -- open a file for writing, creating it if missing.
 *
 * IOR's write phase calls create(name, IOR_WRONLY | IOR_CREAT | IOR_TRUNC) on EVERY rank.
 * With a shared file (no -F) all ranks name the same file, and nothing orders the ranks
 * between create and their first write: rank 0 may already have written its block when rank
 * 1's create arrives.  Passing O_TRUNC through would then cut rank 0's data away (BenchFS
 * truncates an existing file of non-zero published size on open, like POSIX; sizes are
 * published at close and fsync, so -Y or -E expose it: a test build passing O_TRUNC failed
 * "ior -w -W -Y -t 64k -b 4m" with 4 ranks on "Incorrect data on write").
 * Truncating on rank 0 alone does not help either, because rank 0's create is not ordered
 * before the others' writes (only a barrier inside create would do that, and create is timed
 * as part of "open").
 * IOR itself already removes the old file before the write phase (RemoveFile(): rank 0 for a
 * shared file, then a barrier), so truncation is not needed for a fresh file; and IOR's POSIX
 * backend never truncates in create either (it opens with O_CREAT | O_RDWR).  So:
 *   - shared file: never truncate (same as POSIX; with -E, useExistingTestFile, bytes beyond
 *     the new end of a longer old file survive, as they do on POSIX);
 *   - file per process (-F): each file belongs to exactly one rank, so IOR_TRUNC is honoured
 *     and a longer file left by an earlier -E run cannot spoil the size check.
 * mdtest calls create with IOR_WRONLY | IOR_CREAT and no IOR_TRUNC, so it is unaffected.
 *
 * The file is opened read-write (as the POSIX backend does) so that mdtest -X can read back
 * through the handle it wrote with.
 */
aiori_fd_t *BENCHFS_create(char *fn, int flags, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];
	const char *p = bpath(fn, buf, sizeof(buf));
	int oflags, fd;

	(void)param;
	if (dry_run())
		return NULL;
	oflags = (open_flags(flags) & ~O_ACCMODE) | O_RDWR | O_CREAT;
	if (hints == NULL || !hints->filePerProc)
		oflags &= ~O_TRUNC;
	fd = benchfs_open(fs(), p, oflags, 0664);
	if (fd < 0)
		ERRF("benchfs_open(\"%s\", O_CREAT%s) failed: %s", p,
		     (oflags & O_TRUNC) ? "|O_TRUNC" : "", benchfs_strerror());
	return track(fd, oflags, p);
}

/* mknod -- mdtest -k: create an empty file without keeping it open. */
int BENCHFS_mknod(char *fn)
{
	char buf[PATH_MAX];
	const char *p = bpath(fn, buf, sizeof(buf));
	int fd;

	if (dry_run())
		return 0;
	fd = benchfs_open(fs(), p, O_WRONLY | O_CREAT | O_EXCL, 0664);
	if (fd < 0) {
		WARNF("benchfs mknod \"%s\" failed: %s", p, benchfs_strerror());
		return -1;
	}
	if (benchfs_close(fs(), fd) != 0) {
		WARNF("benchfs_close(\"%s\") after mknod failed: %s", p, benchfs_strerror());
		return -1;
	}
	return 0;
}

aiori_fd_t *BENCHFS_open(char *fn, int flags, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];
	const char *p = bpath(fn, buf, sizeof(buf));
	int oflags, fd;

	(void)param;
	if (dry_run())
		return NULL;
	oflags = open_flags(flags);
	fd = benchfs_open(fs(), p, oflags, 0664);
	if (fd < 0)
		ERRF("benchfs_open(\"%s\", %#x) failed: %s", p, oflags, benchfs_strerror());
	return track(fd, oflags, p);
}

IOR_offset_t BENCHFS_xfer(int access, aiori_fd_t *afd, IOR_size_t *buffer,
	IOR_offset_t length, IOR_offset_t offset, aiori_mod_opt_t *param)
{
	benchfs_ior_file_t *f = (benchfs_ior_file_t *)afd;
	char *ptr = (char *)buffer;
	IOR_offset_t remaining = length;
	int retries = 0;

	(void)param;
	if (dry_run())
		return length;
	while (remaining > 0) {
		ssize_t rc;

		if (access == WRITE)
			rc = benchfs_pwrite(fs(), f->fd, ptr, (size_t)remaining, (off_t)offset);
		else
			rc = benchfs_pread(fs(), f->fd, ptr, (size_t)remaining, (off_t)offset);
		if (rc < 0) {
			WARNF("benchfs_%s(\"%s\", %lld bytes at %lld) failed: %s",
			      access == WRITE ? "pwrite" : "pread", f->path,
			      (long long)remaining, (long long)offset, benchfs_strerror());
			return length - remaining;
		}
		if (rc == 0 && access != WRITE) {
			WARNF("benchfs_pread(\"%s\") hit EOF at %lld, %lld bytes short", f->path,
			      (long long)offset, (long long)remaining);
			return length - remaining;
		}
		if (rc < remaining) {
			WARNF("task %d, partial %s, %lld of %lld bytes at offset %lld", rank,
			      access == WRITE ? "pwrite" : "pread", (long long)rc,
			      (long long)remaining, (long long)offset);
			if (++retries > MAX_RETRY || hints->singleXferAttempt)
				return length - remaining + rc;
		}
		remaining -= rc;
		ptr += rc;
		offset += rc;
	}
	if (access == WRITE) {
		f->dirty = 1;
		/* mdtest -y only sets this hint and relies on the backend to fsync here. */
		if (hints->fsyncPerWrite == TRUE)
			BENCHFS_fsync(afd, param);
	}
	return length;
}

/*
 * fsync -- IOR -e (once after the write phase, timed) and -Y (after every transfer).  With -Y
 * ior.c calls fsync itself after each xfer while mdtest -y only sets the fsyncPerWrite hint,
 * so xfer fsyncs for that hint and the handle's dirty flag keeps IOR -Y from paying for two
 * fsyncs per transfer: an fsync with nothing created or written since the last one on this
 * handle has nothing to make durable and sends no RPC.
 */
void BENCHFS_fsync(aiori_fd_t *afd, aiori_mod_opt_t *param)
{
	benchfs_ior_file_t *f = (benchfs_ior_file_t *)afd;

	(void)param;
	if (dry_run() || !f->dirty)
		return;
	if (benchfs_fsync(fs(), f->fd) != 0)
		WARNF("benchfs_fsync(\"%s\") failed: %s", f->path, benchfs_strerror());
	else
		f->dirty = 0;
}

/* close publishes the size this rank wrote; a failure there loses data, so it is fatal. */
void BENCHFS_close(aiori_fd_t *afd, aiori_mod_opt_t *param)
{
	benchfs_ior_file_t *f = (benchfs_ior_file_t *)afd;

	(void)param;
	if (dry_run())
		return;
	if (benchfs_close(fs(), f->fd) != 0)
		ERRF("benchfs_close(\"%s\") failed: %s", f->path, benchfs_strerror());
	untrack(f);
}

void BENCHFS_remove(char *fn, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];
	const char *p = bpath(fn, buf, sizeof(buf));

	(void)param;
	if (dry_run())
		return;
	if (benchfs_unlink(fs(), p) != 0)
		WARNF("[RANK %03d]: benchfs_unlink(\"%s\") failed: %s", rank, p,
		      benchfs_strerror());
}

IOR_offset_t BENCHFS_get_file_size(aiori_mod_opt_t *param, char *fn)
{
	char buf[PATH_MAX];
	const char *p = bpath(fn, buf, sizeof(buf));
	benchfs_stat_t st;

	(void)param;
	if (dry_run())
		return 0;
	if (benchfs_stat(fs(), p, &st) != 0)
		ERRF("benchfs_stat(\"%s\") failed: %s", p, benchfs_strerror());
	return (IOR_offset_t)st.size;
}

/*
 * sync -- mdtest -Y ("call the sync command after each phase", timed): make everything written
 * durable, as sync(1) does for the POSIX backend.  benchfs_syncfs publishes the sizes of this
 * process's open files and has every server sync its metadata store and chunk files: one call
 * per server, whatever the number of files the phase wrote.
 */
void BENCHFS_sync(aiori_mod_opt_t *param)
{
	(void)param;
	if (dry_run())
		return;
	if (benchfs_syncfs(fs()) != 0)
		WARNF("benchfs_syncfs failed: %s", benchfs_strerror());
	for (benchfs_ior_file_t *f = open_files; f != NULL; f = f->next)
		f->dirty = 0; /* durable now: a later fsync of the handle has nothing to do */
}

/************************** N A M E S P A C E *****************************/

/*
 * statfs -- BenchFS counts bytes over all servers.  It has no inode table of fixed size
 * (metadata lives in LMDB next to the data), so the inode figures mdtest prints are an
 * estimate: one inode per 4 KiB block.
 */
int BENCHFS_statfs(const char *fn, ior_aiori_statfs_t *stat_buf, aiori_mod_opt_t *param)
{
	benchfs_statfs_t st;

	(void)fn;
	(void)param;
	if (dry_run())
		return 0;
	if (benchfs_statfs(fs(), &st) != 0)
		return -1;
	if (st.nservers_up < st.nservers)
		WARNF("BENCHFS: only %u of %u servers are up", st.nservers_up, st.nservers);
	stat_buf->f_bsize = BENCHFS_STATFS_BSIZE;
	stat_buf->f_blocks = st.total_bytes / BENCHFS_STATFS_BSIZE;
	stat_buf->f_bfree = st.free_bytes / BENCHFS_STATFS_BSIZE;
	stat_buf->f_bavail = st.free_bytes / BENCHFS_STATFS_BSIZE;
	stat_buf->f_files = stat_buf->f_blocks;
	stat_buf->f_ffree = stat_buf->f_bfree;
	return 0;
}

int BENCHFS_mkdir(const char *fn, mode_t mode, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];

	(void)param;
	if (dry_run())
		return 0;
	return benchfs_mkdir(fs(), bpath(fn, buf, sizeof(buf)), mode) == 0 ? 0 : -1;
}

int BENCHFS_rmdir(const char *fn, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];

	(void)param;
	if (dry_run())
		return 0;
	return benchfs_rmdir(fs(), bpath(fn, buf, sizeof(buf))) == 0 ? 0 : -1;
}

int BENCHFS_access(const char *fn, int mode, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];

	(void)param;
	if (dry_run())
		return 0;
	return benchfs_access(fs(), bpath(fn, buf, sizeof(buf)), mode) == 0 ? 0 : -1;
}

int BENCHFS_stat(const char *fn, struct stat *sb, aiori_mod_opt_t *param)
{
	char buf[PATH_MAX];
	benchfs_stat_t st;

	(void)param;
	if (dry_run())
		return 0;
	if (benchfs_stat(fs(), bpath(fn, buf, sizeof(buf)), &st) != 0)
		return -1;
	memset(sb, 0, sizeof(*sb));
	sb->st_ino = (ino_t)st.ino;
	sb->st_mode = (mode_t)st.mode;
	sb->st_nlink = (nlink_t)st.nlink;
	sb->st_uid = (uid_t)st.uid;
	sb->st_gid = (gid_t)st.gid;
	sb->st_size = (off_t)st.size;
	sb->st_blksize = (blksize_t)st.blksize;
	sb->st_blocks = (blkcnt_t)st.blocks;
	sb->st_atim.tv_sec = (time_t)(st.atime_ns / 1000000000);
	sb->st_atim.tv_nsec = (long)(st.atime_ns % 1000000000);
	sb->st_mtim.tv_sec = (time_t)(st.mtime_ns / 1000000000);
	sb->st_mtim.tv_nsec = (long)(st.mtime_ns % 1000000000);
	sb->st_ctim.tv_sec = (time_t)(st.ctime_ns / 1000000000);
	sb->st_ctim.tv_nsec = (long)(st.ctime_ns % 1000000000);
	return 0;
}

int BENCHFS_rename(const char *oldfile, const char *newfile, aiori_mod_opt_t *param)
{
	char obuf[PATH_MAX], nbuf[PATH_MAX];

	(void)param;
	if (dry_run())
		return 0;
	if (benchfs_rename(fs(), bpath(oldfile, obuf, sizeof(obuf)),
			   bpath(newfile, nbuf, sizeof(nbuf))) != 0) {
		WARNF("[RANK %03d]: benchfs_rename(\"%s\", \"%s\") failed: %s", rank, oldfile,
		      newfile, benchfs_strerror());
		return -1;
	}
	return 0;
}

/************************** T H E   B A C K E N D *****************************/

ior_aiori_t benchfs_aiori = {
	.name = "BENCHFS",
	.name_legacy = NULL,
	.create = BENCHFS_create,
	.mknod = BENCHFS_mknod,
	.open = BENCHFS_open,
	.xfer_hints = BENCHFS_xfer_hints,
	.xfer = BENCHFS_xfer,
	.close = BENCHFS_close,
	.remove = BENCHFS_remove,
	.get_version = BENCHFS_get_version,
	.fsync = BENCHFS_fsync,
	.get_file_size = BENCHFS_get_file_size,
	.statfs = BENCHFS_statfs,
	.mkdir = BENCHFS_mkdir,
	.rmdir = BENCHFS_rmdir,
	.access = BENCHFS_access,
	.stat = BENCHFS_stat,
	.initialize = BENCHFS_initialize,
	.finalize = BENCHFS_finalize,
	.rename = BENCHFS_rename,
	.get_options = BENCHFS_options,
	.check_params = BENCHFS_check_params,
	.sync = BENCHFS_sync,
	.enable_mdtest = true,
};
