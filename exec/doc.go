// Package exec carries out what plan produces: the DAG walk, the isolated
// step runner (chroot and namespaces), overlay layers, the content-addressed
// store, the remote cache and the output formats. Its sub-packages each own
// one of those; plan is its only input, and it writes state back through
// plan/state.
package exec
