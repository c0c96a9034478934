#!/usr/bin/env bash
# fuzz.sh runs each of tieplan's fuzz targets for FUZZTIME (default 60s),
# one after another, and prints a Markdown table of what each found. It
# keeps going after a failure and exits non-zero if any target failed.
# `make fuzz` calls it: make fuzz FUZZTIME=10s.
#
# A failing input is written by go test to the package's
# testdata/fuzz/<target>/; once the bug is fixed, commit it there as a
# regression seed (plain go test runs it).
set -u

FUZZTIME=${FUZZTIME:-60s}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

# target package, in the order they run; FUZZ_TARGETS replaces the list.
TARGETS=${FUZZ_TARGETS:-"
FuzzLoadHCL ./plan/
FuzzLoadJSON ./plan/
FuzzVarFile ./plan/
FuzzElementTree ./plan/
FuzzRead ./plan/planfile/
FuzzReadEntries ./plan/planfile/
FuzzDecode ./plan/state/
FuzzParse ./plan/blockdev/
FuzzParsePackageInstalls ./plan/pkgs/
FuzzParseV1 ./plan/pkgs/
FuzzParseSourceRepositories ./plan/pkgs/
FuzzLess ./plan/runparts/
"}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
rows=""
failed=0
while read -r target pkg; do
	[ -n "$target" ] || continue
	log="$logs/$target.log"
	echo "== $target ($pkg, $FUZZTIME)" >&2
	"$GO" test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg" >"$log" 2>&1
	rc=$?
	# The last progress line has the total: "fuzz: elapsed: 60s, execs: 123456 (2057/sec), ...".
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*')
	found=0
	if [ "$rc" -ne 0 ]; then
		failed=1
		found=1
		tail -n 40 "$log" >&2
		# "Failing input written to testdata/fuzz/FuzzX/abcdef"
		input=$(sed -n 's/.*Failing input written to \(testdata[^ ]*\).*/\1/p' "$log" | tail -n 1)
		if [ -n "$input" ]; then
			found="1 (${pkg#./}${input})"
		else
			found="1 (no input written: see the log above)"
		fi
	else
		tail -n 1 "$log" >&2
	fi
	rows="$rows| $target | ${pkg#./} | ${execs:-0} | $found | 0 |
"
done <<<"$TARGETS"

echo
echo "Fuzzing for $FUZZTIME per target. Leftovers (stray processes, mounts, temporary files) are what make test-faults counts; fuzzing starts none, so that column is always 0."
echo
echo "| target | package | executions | failures found | leftovers found |"
echo "|---|---|---|---|---|"
printf '%s' "$rows"
exit "$failed"
