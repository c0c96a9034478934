// Package dibconv owns the conversion of diskimage-builder invocations into
// tieplan configuration: a disk-image-create command line (split with shell
// word rules, then read with DIB's getopt option string, long-option
// abbreviations and argument permutation included), or a file of DIB's YAML
// front-end (diskimage-builder FILE.yaml: a list of image entries, merged by
// imagename as diskimage_builder.py merges them), becomes a list of Image
// values, and Generate renders those as one canonical main.tie.hcl with
// hclwrite.
//
// Everything DIB accepts is read. What tieplan can express becomes an
// attribute or block (-a arch, -o the image name and artifact paths, -t one
// artifact block per format, -u compress = false, -n skip_base, -p packages,
// --install-type, --image-size, --qemu-img-options, and the flags that are
// only DIB_* variables as env); what it cannot becomes a comment in the
// output that says so and why. Unknown options and missing option values are
// errors worded as getopt words them.
//
// Like the rest of plan/, it never prints, exits or touches the filesystem:
// cmd/tieplan's init command reads the files and the environment, writes
// the result and reports errors.
package dibconv
