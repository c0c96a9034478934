// Package runparts owns diskimage-builder's dib-run-parts rules: which
// entries of a phase directory (install.d, post-install.d, ...) are run, in
// which order, and which environment.d files are sourced before them, in
// which order.
//
// The reference is DIB's lib/dib-run-parts (bash). Its rules, as confirmed
// against diskimage-builder 3.13 with GNU findutils 4.9, grep 3.8 and
// coreutils 9.1:
//
//   - Scripts: `find DIR -maxdepth 1 -xtype f -executable -printf '%f\n' |
//     grep -E "^[0-9A-Za-z_-]+$" | LANG=C sort -n`. An entry is a candidate
//     when it is a regular file or a symlink to one (no recursion), and
//     executable for the caller. tieplan runs as root, and for root
//     access(2) X_OK on a regular file succeeds when ANY of the three
//     execute bits is set (0100, 0010 and 0001 all qualify; 0644 and 4644
//     do not). Names must match ^[0-9A-Za-z_-]+$, so no dots.
//   - Order: GNU `sort -n` in the C locale (disk-image-create exports
//     LC_ALL=C, so the LANG=C in the script is moot): compare the leading
//     numbers (optional blanks, optional '-', digits, optional '.'
//     fraction; no thousands separator in C; arbitrary length, never
//     overflowing; no number means 0), and break ties by comparing the
//     whole lines byte by byte. See Compare.
//   - environment.d: `find DIR/../environment.d -maxdepth 1 -xtype f |
//     grep -E "/[0-9A-Za-z_\.-]+$" | LANG=C sort -n`. No execute bit is
//     needed. The grep is applied to the full path and is anchored on the
//     last '/' and at the end, so it is effectively anchored on the whole
//     name: every byte of the name must be in [0-9A-Za-z_.-] or be a
//     backslash (inside a POSIX bracket expression `\.` means backslash and
//     dot). Dot files such as ".hidden" qualify. The sort runs on full
//     paths, which share their directory prefix, so the order is plain
//     byte order of the names.
//
// Known behaviour of the script that this package does not model, because
// it cannot be expressed in its results:
//
//   - If environment.d exists but holds no matching file, grep exits 1 and,
//     under `set -e -o pipefail`, dib-run-parts exits 1 before running any
//     script. disk-image-create always writes
//     environment.d/11-dib-install-type.bash, so this never happens in a
//     real build. A symlink loop in environment.d makes find fail and
//     aborts the same way; in the phase directory it is only reported
//     (the script has `|| echo ""` there).
//   - find's -executable is access(2): a file on a noexec mount is not
//     executable even for root. Entry carries only mode bits.
//   - Names containing a newline are split into several "names" by the
//     line-oriented grep and sort; here such a name simply does not match.
//
// Neighbours: plan/element lists an element set's phase directories and
// hands their entries here; exec runs the scripts in the order returned.
package runparts
