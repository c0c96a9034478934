// Package remote keeps tieplan's shared cache in one OCI repository of a
// registry: the layers index (which step keys have a layer there, and the
// layers themselves), the state document, and the state lock. It speaks
// the registry protocol through go-containerregistry and works on
// registries without the referrers API, such as Distribution 2.8.
//
// Neighbours: exec/store owns the local layer files that PushLayer reads
// and PullLayer's consumer writes; plan/state owns the state document and
// the Backend interface that StateBackend implements; cmd/tieplan wires a
// Remote in from the configuration and decides what to do on errors
// (fall back to the local cache when IsUnreachable, for one).
//
// # Layout
//
// Every entry is a tag pointing at an OCI image manifest (schemaVersion 2,
// application/vnd.oci.image.manifest.v1+json) whose config and layers are
// tieplan's own media types:
//
//	layer-<64 hex>   one per layer key sha256:<64 hex>
//	  config         layer.json          application/vnd.tieplan.layer.config.v1+json
//	  layers[0]      the tree as tar     application/vnd.tieplan.layer.v1.tar+zstd
//	                                     (or .tar+gzip, or .tar uncompressed)
//	  layers[1]      manifest.json       application/vnd.tieplan.layer.manifest.v1+json
//	  layers[2]      mounts.json, if any application/vnd.tieplan.layer.mounts.v1+json
//	  annotation     org.opencontainers.image.created = layer.json's created
//	state            config  {serial, lineage, who, written_at, tieplan_version}
//	                         application/vnd.tieplan.state.config.v1+json
//	                 layers[0] state.Encode's document
//	                         application/vnd.tieplan.state.v1+json
//	lock             config  state.LockInfo while held, {} once released
//	                         application/vnd.tieplan.lock.v1+json; no layers
//
// Distribution 2.8 stores these: for OCI manifests it checks only that
// every referenced blob exists in the repository, whatever its media type,
// and accepts a manifest with no layers.
//
// # Crash safety
//
// A layer's blobs all go up before its manifest, and the manifest PUT is
// what creates the tag, the index entry. The registry refuses a manifest
// whose blobs it lacks, so a push that dies midway leaves at most blobs no
// manifest names (registry garbage collection removes them), never an
// entry pointing at a missing blob. The compressed tar is staged in a temp
// file first so its digest and size are known before the upload starts.
//
// Pulls trust nothing: the manifest's shape and media types are checked,
// small blobs are read whole and checked against their descriptors, and
// the tar blob is checked as it streams, so a tampered or truncated blob
// ends in a *VerifyError (callers discard what they made of it and
// rebuild).
//
// # State and lock
//
// Registries have no compare-and-swap on tags. StateBackend.Write moves
// the state tag only if it still points at the manifest its Read saw
// (checked before and again just before the PUT), and the lock is taken
// by PUT-then-read-back; together they narrow the window for a lost update
// to about a round trip but cannot fully close it. See lock.go.
//
// The package never prints. Failures a user can act on are typed:
// *UnreachableError, *AuthError (naming the credential source tried),
// *VerifyError, and plan/state's *ConflictError, *LockedError and
// *CorruptError.
package remote
