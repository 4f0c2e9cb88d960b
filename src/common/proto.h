/* SPDX-License-Identifier: BSD-3-Clause */
/* proto.h — the BenchFS RPC set and the inode record.
 *
 * Argument layouts (all via the wire.h codec; "str" is u16 length + bytes):
 *
 *  op              request args                               reply args / reply data
 *  PING            -                                          u32 server id
 *  STATFS          -                                          u64 total, u64 free, u64 used
 *  STATS           -                                          data: "name value\n" text
 *  MKDIR           str path, u32 mode, u32 uid, u32 gid       inode
 *  CREATE          str path, u32 mode, u32 uid, u32 gid,      u8 created, inode
 *                  u32 chunk_size, u32 flags (EXCL)
 *  LOOKUP          str path                                   inode; data: the target
 *                                                             (symbolic links only)
 *  SETATTR         str path, u32 mask, u32 mode, u32 uid,     inode
 *                  u32 gid, u64 mtime, u64 atime
 *  SIZE_UPDATE     str path, u64 fileid, u64 size,            inode
 *                  u32 how (EXTEND|SET|RESERVE|QUERY,
 *                  | SYNC), u64 mtime
 *  REMOVE          str path, u32 kind, u64 fileid (0: any)    inode (the removed one)
 *  READDIR         str dir, u32 max, str after-name           u32 count, u8 more;
 *                                                             data: count x (u64 ino, u32 mode, str name)
 *  META_PUT        str path, inode, u32 flags (NOREPLACE)     u8 replaced, inode (the old one)
 *                  [, str target: S_IFLNK only]
 *  SUBTREE         str dir, u32 max, str after-path           u32 count, u8 more;
 *                                                             data: count x (str path, inode
 *                                                             [, str target: S_IFLNK only])
 *  CHUNK_WRITE     u64 fileid, u64 chunk, u64 offset,         u64 bytes written
 *                  u32 chunk_size; data: the bytes
 *  CHUNK_READ      u64 fileid, u64 chunk, u64 offset,         data: the bytes (short at chunk end)
 *                  u64 length, u32 chunk_size
 *  CHUNK_TRUNCATE  u64 fileid, u64 size, u32 chunk_size       -
 *  CHUNK_REMOVE    u64 fileid                                 -
 *  FSYNC           u64 fileid (0: metadata only)              -
 *  CHUNK_PREFETCH  u64 fileid, u64 chunk, u32 chunk_size      none unless malformed (a hint:
 *                                                             replies nobody waits for would
 *                                                             queue up in a client that does
 *                                                             not poll)
 *  CHUNK_DIR       -                                          bytes[16] instance nonce;
 *                                                             data: the data directory
 *                                                             (absolute; chunk_layout.h)
 *  CHUNK_RESERVE   u64 fileid, u64 chunk, u64 offset,         - (the chunk file exists and the
 *                  u64 length, u32 chunk_size                 range is allocated on disk and
 *                                                             counted: a same-host client
 *                                                             writes it itself; EOPNOTSUPP:
 *                                                             this server cannot allocate
 *                                                             ahead, use CHUNK_WRITE)
 *  CHUNK_RELEASE   as CHUNK_RESERVE                           - (punches what is allocated but
 *                                                             unwritten in the range: gives
 *                                                             back the reserve of a write
 *                                                             that failed elsewhere)
 *  HELLO           -                                          - (a no-op, kept so the opcode
 *                                                             stays taken; any argument or
 *                                                             payload is EPROTO)
 *  SYMLINK         str path, u32 uid, u32 gid, str target     inode (EEXIST if path exists)
 *  READDIRPLUS     as READDIR                                 u32 count, u8 more;
 *                                                             data: count x (str name, inode)
 *  FIND            str dir, u32 max, u32 scan, u32 cursor     u32 count, u32 scanned,
 *                  length, bytes cursor, filter               u32 examined, u8 end;
 *                  (find_filter.h)
 *                                                             data: u32 cursor length, bytes
 *                                                             cursor, count x (str path, inode)
 *                                                             (one server's share of dir and
 *                                                             below that pass the filter, at
 *                                                             most `scan` (<= BFS_FIND_SCAN)
 *                                                             records read per call; the
 *                                                             cursor is opaque)
 *  LOOKUP_DATA     str path                                   inode; data: the inline bytes
 *                                                             (inode.size of them) when the
 *                                                             inode is INLINE or MOVING, the
 *                                                             target (symbolic links only)
 *  INLINE_WRITE    str path, u64 fileid, u64 offset,          inode (EXDEV: not inline, or
 *                  u64 mtime; data: the bytes                 past BFS_INLINE_MAX: move it;
 *                                                             EAGAIN: being moved)
 *  MOVE_BEGIN      str path, u64 fileid, u64 mover            u8 copy, inode; data: the inline
 *                                                             bytes to copy to chunk 0 (copy 0:
 *                                                             chunked already, nothing to do)
 *  SYNCFS          -                                          - (everything this server has
 *                                                             stored is durable: syncfs(2))
 *  MOVE_END        str path, u64 fileid, u64 mover            inode (EAGAIN: another mover
 *                                                             took the move over)
 *  MKNOD           str path, u32 mode (S_IFIFO, S_IFSOCK,     inode (EEXIST if path exists)
 *                  S_IFCHR or S_IFBLK | 07777), u32 uid,
 *                  u32 gid, u64 rdev
 *
 * A symbolic link (S_IFLNK) is an inode whose size is the length of its target (1 to
 * BFS_SYMLINK_MAX bytes, no NUL, stored verbatim) and chunk size 0; the metadata server keeps
 * the target with the inode. Servers never follow links: clients resolve paths (DESIGN.md).
 * A special file (FIFO, socket, character or block device) is an inode alone: size 0, chunk
 * size 0, no data anywhere; its device number (st_rdev) is kept in the extent field, which
 * means nothing for a file without chunks (bfs_inode_rdev).
 *
 * Connections need no introduction: a remote client connects to the server's UCX listener
 * (the server's endpoint, with peer-failure handling, is made from the connection request),
 * a same-host client to its local socket (the kernel says who it is). Requests arriving on any
 * other UCX endpoint are refused with EPROTO.
 */
#ifndef BFS_PROTO_H
#define BFS_PROTO_H

#include <stdint.h>

#include "wire.h"

enum bfs_op {
    BFS_OP_PING = 1,
    BFS_OP_STATFS,
    BFS_OP_STATS,
    BFS_OP_MKDIR,
    BFS_OP_CREATE,
    BFS_OP_LOOKUP,
    BFS_OP_SETATTR,
    BFS_OP_SIZE_UPDATE,
    BFS_OP_REMOVE,
    BFS_OP_READDIR,
    BFS_OP_META_PUT,
    BFS_OP_SUBTREE,
    BFS_OP_CHUNK_WRITE,
    BFS_OP_CHUNK_READ,
    BFS_OP_CHUNK_TRUNCATE,
    BFS_OP_CHUNK_REMOVE,
    BFS_OP_FSYNC,
    BFS_OP_HELLO,
    BFS_OP_CHUNK_PREFETCH,
    BFS_OP_CHUNK_DIR,
    BFS_OP_CHUNK_RESERVE,
    BFS_OP_CHUNK_RELEASE,
    BFS_OP_SYMLINK,
    BFS_OP_READDIRPLUS,
    BFS_OP_FIND,
    BFS_OP_LOOKUP_DATA, /* small files kept in the metadata record (DESIGN.md, Small files) */
    BFS_OP_INLINE_WRITE,
    BFS_OP_MOVE_BEGIN,
    BFS_OP_MOVE_END,
    BFS_OP_SYNCFS, /* syncfs(2) of the whole server: io500's and mdtest's -Y */
    BFS_OP_MKNOD, /* special files: FIFOs, sockets, device nodes (metadata only) */
    BFS_OP__COUNT
};

const char *bfs_op_name(int op);

/* CREATE flags */
#define BFS_CREATE_EXCL 1u
#define BFS_CREATE_INLINE 2u /* the new file keeps its data in its metadata record */
/* SETATTR mask */
#define BFS_SETATTR_MODE 1u
#define BFS_SETATTR_UID 2u
#define BFS_SETATTR_GID 4u
#define BFS_SETATTR_MTIME 8u
#define BFS_SETATTR_ATIME 16u
/* SIZE_UPDATE how: one of these, optionally | BFS_SIZE_SYNC */
#define BFS_SIZE_EXTEND 0u  /* size = max(size, new): concurrent writers of one file */
#define BFS_SIZE_SET 1u     /* size = new: truncate */
#define BFS_SIZE_RESERVE 2u /* extent = max(extent, new); size and mtime unchanged */
#define BFS_SIZE_QUERY 3u   /* nothing changes: the inode, as LOOKUP, checked against fileid */
#define BFS_SIZE_SYNC 0x100u /* the metadata store is durable before the reply (fsync) */
/* REMOVE kind */
#define BFS_REMOVE_FILE 1u
#define BFS_REMOVE_DIR 2u
/* META_PUT flags */
#define BFS_PUT_NOREPLACE 1u
/* FIND: records one call reads at most (so one call holds the server's single loop for a few
 * milliseconds at most), matches one page returns at most, and the cursor's longest form. */
#define BFS_FIND_SCAN 16384u
#define BFS_FIND_PAGE 4096u
#define BFS_FIND_CURSOR_MAX (8 + 255)

/* The attributes of one file or directory, as stored and as sent. */
struct bfs_inode {
    uint64_t fileid; /* chunks are keyed by this, so rename never moves data */
    uint64_t size;
    uint32_t mode; /* S_IFREG / S_IFDIR / S_IFLNK | permission bits */
    uint32_t uid, gid;
    uint32_t chunk_size;
    uint32_t nlink;
    int64_t atime_ns, mtime_ns, ctime_ns;
    /* Chunk extent, bytes: no chunk at or past max(1, ceil(extent / chunk_size)) exists. A
     * writer raises it (SIZE_UPDATE RESERVE) before it first writes a chunk past it, so it
     * also covers writers that never published their size; it never shrinks. Unlink,
     * truncate and fsync address the servers of the chunks below it only. */
    uint64_t extent;
    uint32_t flags; /* BFS_INO_*: where a file's data lives */
};
/* The extent of a record an older server stored (without it): any chunk may exist. */
#define BFS_EXTENT_UNKNOWN UINT64_MAX
#define BFS_INODE_WIRE_LEN 72      /* as sent: the base record, u64 extent, u32 flags */
#define BFS_INODE_BASE_LEN 60      /* the base record: what metadata stores kept before */

/* inode.flags. Neither: the data is in chunks. INLINE: the data (inode.size bytes, at most
 * BFS_INLINE_MAX) is in the metadata server's store next to the inode, and there are no
 * chunks. MOVING: as INLINE, frozen while one client copies it to chunk 0. */
#define BFS_INO_INLINE 1u
#define BFS_INO_MOVING 2u
#define BFS_INO_FLAGS_KNOWN (BFS_INO_INLINE | BFS_INO_MOVING)
/* The most data a metadata server keeps inline (a client's own threshold may be lower). */
#define BFS_INLINE_MAX (64u << 10)

void bfs_inode_put(struct bfs_wbuf *w, const struct bfs_inode *ino);
void bfs_inode_get(struct bfs_rbuf *r, struct bfs_inode *ino);
/* The base record alone (every field but the extent and the flags); get leaves those as they
 * are. */
void bfs_inode_put_base(struct bfs_wbuf *w, const struct bfs_inode *ino);
void bfs_inode_get_base(struct bfs_rbuf *r, struct bfs_inode *ino);
/* Chunks 0..n-1 of a file may exist: n = max(1, ceil(extent / chunk_size)), UINT64_MAX when
 * the extent is unknown; 0 for a special file. chunk_size must be valid otherwise. */
uint64_t bfs_inode_chunk_span(const struct bfs_inode *ino);

/* Limits of what may be stored or asked for. Every value a request would store is checked
 * by the server against these before it is stored (EINVAL), and every inode a client reads
 * back is checked again (EIO): a hostile key holder must not be able to plant a chunk size
 * of 0 (a division by zero in every reader) or a size no offset can reach. */
#define BFS_CHUNK_SIZE_MIN 4096u
#define BFS_CHUNK_SIZE_MAX (64u << 20)
#define BFS_FILE_SIZE_MAX ((uint64_t)INT64_MAX) /* the largest off_t */
#define BFS_NLINK_MAX 65535u
#define BFS_SYMLINK_MAX 4095u /* bytes of a symbolic link's target */

/* FIFOs, sockets and device nodes: S_IFIFO, S_IFSOCK, S_IFCHR or S_IFBLK. */
int bfs_mode_is_special(uint32_t mode);
/* A special file's device number (st_rdev) is stored in its extent; 0 for anything else. */
static inline uint64_t bfs_inode_rdev(const struct bfs_inode *ino)
{
    return bfs_mode_is_special(ino->mode) ? ino->extent : 0;
}
/* The largest device number: Linux's (a 12-bit major, a 20-bit minor) fit 32 bits. */
#define BFS_RDEV_MAX UINT32_MAX

int bfs_chunk_size_valid(uint64_t chunk_size);
/* [off, off+len) of chunk `index`: inside the chunk, and inside the largest file. 0 or -EINVAL */
int bfs_chunk_range_check(uint64_t index, uint64_t off, uint64_t len, uint64_t chunk_size);
/* A whole inode, as META_PUT stores it and as clients read it back: 0 or -EINVAL. */
int bfs_inode_check(const struct bfs_inode *ino);
/* The fields of a MKDIR / CREATE (chunk_size ignored for MKDIR): 0 or -EINVAL. */
int bfs_create_check(int is_create, uint32_t mode, uint32_t uid, uint32_t gid,
                     uint32_t chunk_size, uint32_t flags);
/* The fields of a SETATTR that its mask says will be stored: 0 or -EINVAL. */
int bfs_setattr_check(uint32_t mask, uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime,
                      int64_t atime);
/* A symbolic link's target as stored: 1..BFS_SYMLINK_MAX bytes, no NUL. 0 or -EINVAL
 * (-ENAMETOOLONG when too long). */
int bfs_symlink_target_check(const char *target, size_t len);
/* SIZE_UPDATE: -EINVAL (how, mtime), -EFBIG (size), or 0. mtime 0 means "now". A RESERVE's
 * size is the extent asked for. */
int bfs_size_update_check(uint64_t size, uint32_t how, int64_t mtime);

#endif
