/* SPDX-License-Identifier: BSD-3-Clause */
/* chunk_layout.h — where a server keeps its chunk files, written down once.
 *
 * Chunk k of file F lives in <data>/chunks/<F mod 256 as 2 hex>/<F as 16 hex>/<k>. The
 * server (server/chunk_store.c) creates and serves these files; a client on the same host
 * reads them directly (client/local_read.c says when that is safe), so both must agree.
 * <data>/instance holds the running server's nonce: a client that finds the nonce the server
 * told it knows that it sees the server's own directory (not a same-named one elsewhere). */
#ifndef BFS_CHUNK_LAYOUT_H
#define BFS_CHUNK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define BFS_CHUNK_SUBDIR "chunks"
#define BFS_INSTANCE_FILE "instance"
#define BFS_INSTANCE_LEN 16 /* bytes of nonce; the file holds them as hex */

/* <root>/<xx>/<fileid>: the directory of one file's chunks (root = <data>/chunks). */
int bfs_chunk_dir(char *out, size_t cap, const char *root, uint64_t fileid);
/* <root>/<xx>/<fileid>/<index>. Both return the length, or -1 if it does not fit. */
int bfs_chunk_path(char *out, size_t cap, const char *root, uint64_t fileid, uint64_t index);

#endif
