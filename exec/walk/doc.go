// Package walk carries out a plan: it walks every image's chain of steps,
// images in parallel, and for each step either finds its layer in the
// cache or has it executed and committed. A step shared by several images
// (the same key) is built once: the first walker to take the key's lock
// builds it, the others find it committed when they get the lock.
//
// Steps that read the host (extra-data.d) are always executed; their
// result is digested and becomes part of their key, so every later key is
// recomputed from it: an unchanged result reuses everything after it, a
// changed one rebuilds it.
//
// The walk owns no mounts and no files: an Executor runs a step on top of
// its ancestors' layers (exec/runner), a Store keeps layers (exec/store).
// Its neighbours are plan (the steps) and cmd/tieplan (events to views).
package walk
