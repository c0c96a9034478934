// Package store is tieplan's content-addressed cache of root filesystem
// layers, under TIEPLAN_CACHE_DIR (default ~/.cache/tieplan). A layer is
// the overlayfs upper directory one step produced, keyed by the step's
// cache key "sha256:<hex>":
//
//	layers/<hex>/layer.json     LayerInfo: key, created, size, manifest digest;
//	                            written last, so its presence means complete
//	layers/<hex>/manifest.json  every path of the tree, sorted by path: type
//	                            (file, dir, symlink, whiteout, char, block,
//	                            fifo, socket), mode, uid, gid, and the size and
//	                            sha256 of files, target of symlinks, opaque
//	                            for directories with trusted.overlay.opaque=y;
//	                            no mtimes
//	layers/<hex>/mounts.json    Mounts: host directories the step left bound
//	                            under the root (package caches), bound again
//	                            for later steps; absent if none; its digest
//	                            is in layer.json
//	layers/<hex>/tree/          the content, as overlayfs made it: whiteouts
//	                            stay character devices 0:0, opaque directories
//	                            keep their xattr
//	layers/<hex>/used           its mtime is the layer's last Use (for GC)
//	staging/stage-*/            commits in progress (Stage); tree/ inside
//	staging/rm-*/               layers being deleted (Remove, GC)
//	locks/<hex>.lock            build lock of a key (LockKey)
//	locks/<hex>.use             use lock of a layer: shared by Use,
//	                            exclusive for Remove and GC
//	locks/path-<sha256>.lock    lock of a host directory bound into steps
//	                            (a package cache), held while one runs
//	inputs/                     step texts, kept by package plan
//	.apply-*/                   an apply's scratch (Scratch): flocked while
//	                            it lives; the next Scratch deletes those
//	                            of killed applies
//
// plan looks layers up to decide what to reuse; apply builds a step under
// LockKey into a Stage directory, Commits it, and holds the layers it reads
// with Use. For a remote cache, WriteArchive and Files export a layer as a
// PAX tar of its tree with its JSON files beside it; ImportArchive extracts
// such an untrusted archive into a staging directory, never writing outside
// it, and commits it only if the tree matches the pushed manifest.
//
// # Crash safety
//
// A layer directory appears under layers/ only by rename(2) of a complete
// staging directory, and rename is the commit point. Before it, Commit
// fsyncs every file and directory of the tree, writes manifest.json and
// then layer.json, each fsynced, and fsyncs the staging directory; after
// it, it fsyncs layers/ and staging/. A crash before the rename leaves only
// a directory in staging/, which GC deletes once it is an hour old and no
// live process holds its flock; a crash after it leaves a whole layer.
// Lookup treats a layer.json that is missing or unreadable as a miss, so
// nothing half-written is ever reused. The rename uses RENAME_NOREPLACE, so
// a committed layer is never overwritten: when two applies commit the same
// key, the second finds the first's layer and discards its own. Removal is
// the commit point in reverse: the layer is renamed into staging/ and only
// then deleted, so a reader sees a whole layer or none, and a crash
// mid-delete leaves a staging leftover for GC.
//
// Locks are flock(2)s, released by the kernel when their holder dies, so no
// lock is ever stale. Lock files are never deleted (unlinking a lock file
// others may hold would let two holders lock different inodes of one
// name). The store relies on flock and rename being coherent, so it must
// not be shared over a network file system.
package store
