// Package store is tieplan's content-addressed cache of root filesystem
// layers, under TIEPLAN_CACHE_DIR (default ~/.cache/tieplan):
//
//	layers/<hex of the step key>/layer.json   what the layer is (created, size)
//	layers/<hex of the step key>/...          its content, written by apply
//
// A layer directory appears only by an atomic rename of a complete staging
// directory, so a layer.json that exists describes a whole layer. plan
// looks layers up to decide what to reuse; exec commits them.
package store
