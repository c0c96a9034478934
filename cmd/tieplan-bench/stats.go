package main

import (
	"slices"
	"time"
)

// number is what the statistics are computed on.
type number interface {
	~int | ~int64 | ~float64
}

// median is the middle value of xs, or the mean of the two middle values when
// there is an even number of them; 0 for no values. xs is not modified.
func median[T number](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// pairwiseRatios is a[i]/b[i] for each pair, leaving out pairs whose b is 0
// (no ratio). a and b are paired by index; the extra values of the longer one
// are ignored.
func pairwiseRatios[T number](a, b []T) []float64 {
	n := min(len(a), len(b))
	var r []float64
	for i := 0; i < n; i++ {
		if b[i] == 0 {
			continue
		}
		r = append(r, float64(a[i])/float64(b[i]))
	}
	return r
}

// medianRatio is the median of the pairwise ratios a[i]/b[i]; ok is false
// when there is no ratio (no pair, or every b is 0).
func medianRatio[T number](a, b []T) (ratio float64, ok bool) {
	r := pairwiseRatios(a, b)
	if len(r) == 0 {
		return 0, false
	}
	return median(r), true
}

// summarize is the median of each metric of runs.
func summarize(runs []measurement) measurement {
	var wall, cpu []time.Duration
	var rss []int64
	for _, m := range runs {
		wall = append(wall, m.Wall)
		cpu = append(cpu, m.CPU)
		rss = append(rss, m.MaxRSS)
	}
	return measurement{Wall: median(wall), CPU: median(cpu), MaxRSS: median(rss)}
}

// ratiosOf is the median pairwise ratio A/B of each metric; nil when any
// metric has no ratio.
func ratiosOf(a, b []measurement) *ratios {
	metric := func(f func(measurement) float64) (float64, bool) {
		var x, y []float64
		for i := range min(len(a), len(b)) {
			x = append(x, f(a[i]))
			y = append(y, f(b[i]))
		}
		return medianRatio(x, y)
	}
	wall, ok1 := metric(func(m measurement) float64 { return float64(m.Wall) })
	cpu, ok2 := metric(func(m measurement) float64 { return float64(m.CPU) })
	rss, ok3 := metric(func(m measurement) float64 { return float64(m.MaxRSS) })
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	return &ratios{Wall: wall, CPU: cpu, MaxRSS: rss}
}
