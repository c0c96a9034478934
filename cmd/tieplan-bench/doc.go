// Command tieplan-bench is tieplan's benchmark harness, run by `make bench`
// (after `make build`) as `go run ./cmd/tieplan-bench`.
//
// It owns cmd/tieplan-bench/: the table of workloads (workloads.go), the
// generators of the configurations they measure (gen.go), the measurement of
// runs (measure.go), the statistics (stats.go) and the report (report.go); and
// the description of the workloads and the latest results in
// examples/bench/README.md. Nothing else in the repository imports it.
//
// Every measured run is a whole process started with os/exec. Its wall time is
// taken around Start and Wait; its CPU time (user + system) and peak resident
// set size come from the rusage the kernel returns when the process is
// reaped (on Linux the peak RSS of the process or of the largest of its
// waited-for descendants). TIEPLAN_* variables are removed from the
// environment of the runs, so a TIEPLAN_LOG or TIEPLAN_VAR_ set in the shell
// does not change what is measured.
//
// A workload has one side (tieplan alone) or two (tieplan against another
// tool). One side: a warm-up run, then -runs runs (default 5). Two sides: the
// runs alternate A B A B ..., at least 3 pairs when a run takes under a minute
// and 1 pair otherwise (or -runs pairs when given). The report gives the
// median of each metric and, for two sides, the median of the pairwise ratios
// A/B, as a Markdown table on stdout and as JSON in -json-out, with the machine
// and the tieplan and DIB versions. Each workload's goal is a list of checks
// on those medians and on what its after hook derives (P5's fit, P6's cache
// size); its verdict is met, missed, or error when a run failed. The exit
// status is 1 when a workload could not be measured, 0 otherwise — a missed
// goal is reported, not a failure of the harness. Opt-in workloads (the
// multicloud pair) run only with -all or -only, so that make bench fits in
// 40 minutes on 2 cores.
//
// Adding a workload is adding an entry to the workloads table: a name, a
// setup func that writes its inputs into an empty directory, one or two
// sides (each a command built from the harness settings and that directory),
// and the goal.
package main
