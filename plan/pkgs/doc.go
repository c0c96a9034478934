// Package pkgs owns diskimage-builder's (DIB's) declarative package files —
// parsing them and the squash/filter semantics of the scripts that consume
// them — so that plan can show, per phase, which packages an image's
// elements will install and uninstall.
//
// The reference is Debian's DIB 3.13 (python3-diskimage-builder):
//
//   - package-installs.{json,yaml}: ParsePackageInstalls and Squash reproduce
//     elements/package-installs/bin/package-installs-squash, including the
//     way json.load / yaml.safe_load type their values (Value) and how the
//     python code then behaves on those types. Squashed.JSON is
//     byte-identical to the file the script writes.
//   - pkg-map: ParsePkgMap and PkgMap.Map reproduce elements/pkg-map/bin/pkg-map.
//   - {pre-install,install,post-install}.d/package-installs-<element> (v1):
//     ParseV1 reproduces bin/package-installs and bin/package-uninstalls.
//   - source-repository-<name>: ParseSourceRepositories reproduces the read
//     loop of source-repositories/extra-data.d/98-source-repositories,
//     without evaluating anything.
//
// Where DIB behaves oddly this package does the same and says so in a
// comment naming the script line. It never runs element code and never
// exits; errors are returned as values (*Error for package-installs).
//
// Neighbours: plan/element provides the elements and their paths (the
// ElementFiles given to Squash, see FindElementFiles); exec does not use
// this package — DIB's own scripts install the packages at apply.
package pkgs
