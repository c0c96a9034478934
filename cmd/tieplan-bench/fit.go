package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// fitPoint is one size of the plan scaling series.
type fitPoint struct {
	Images   int           `json:"images"`
	Wall     time.Duration `json:"wall_ns"`
	MaxRSS   int64         `json:"max_rss_bytes"`
	PerImage time.Duration `json:"per_image_ns"`
}

// scalingFit is P5's verdict on how plan's time grows with the number of
// images, from the medians of plan-10, plan-100 and plan-1000.
type scalingFit struct {
	Points []fitPoint `json:"points"`
	// Growth is wall(1000) / wall(100): 10 for linear time.
	Growth float64 `json:"growth"`
	// Exponent is b of wall = a·n^b between 100 and 1000 images: 1 for
	// linear, 2 for quadratic.
	Exponent float64 `json:"exponent"`
	// RSSPerImage is the peak RSS added per image from 100 to 1000.
	RSSPerImage int64 `json:"rss_per_image_bytes"`
	Linear      bool  `json:"linear"`
}

// Linear growth allows ±20 % around 10×: the fixed start-up cost
// (≈ 20 ms) pulls the ratio below 10 and a loaded machine's noise is
// about that size; n·log n would give 15×, quadratic 100×.
const (
	linearGrowthMin = 8
	linearGrowthMax = 12
)

// fitPlanScaling fits the plan-N results among rs; ok is false unless
// plan-100 and plan-1000 both measured.
func fitPlanScaling(rs []*workloadResult) (scalingFit, bool) {
	var f scalingFit
	byN := map[int]fitPoint{}
	for _, n := range []int{10, 100, 1000} {
		for _, r := range rs {
			if r.Name != fmt.Sprintf("plan-%d", n) || r.Verdict == verdictError || len(r.Sides) == 0 || r.Sides[0].Median.Wall <= 0 {
				continue
			}
			m := r.Sides[0].Median
			p := fitPoint{Images: n, Wall: m.Wall, MaxRSS: m.MaxRSS, PerImage: m.Wall / time.Duration(n)}
			f.Points = append(f.Points, p)
			byN[n] = p
		}
	}
	small, ok1 := byN[100]
	large, ok2 := byN[1000]
	if !ok1 || !ok2 {
		return f, false
	}
	f.Growth = float64(large.Wall) / float64(small.Wall)
	f.Exponent = math.Log(f.Growth) / math.Log(10)
	f.RSSPerImage = (large.MaxRSS - small.MaxRSS) / 900
	f.Linear = f.Growth >= linearGrowthMin && f.Growth <= linearGrowthMax
	return f, true
}

func (f scalingFit) String() string {
	var pts []string
	for _, p := range f.Points {
		pts = append(pts, fmt.Sprintf("%d images %s (%s per image, peak RSS %s)", p.Images, formatDuration(p.Wall), formatDuration(p.PerImage), formatBytes(p.MaxRSS)))
	}
	verdict := "linear"
	if !f.Linear {
		verdict = "not linear"
	}
	return fmt.Sprintf("P5 fit: %s; 100 → 1000 images: %.1f× the time (exponent %.2f), %s: %s; peak RSS +%s per image",
		strings.Join(pts, ", "), f.Growth, f.Exponent, verdict,
		fmt.Sprintf("within [%d, %d]× of 10×", linearGrowthMin, linearGrowthMax), formatBytes(f.RSSPerImage))
}

// planFitAfter is plan-1000's after hook: the fit over the series, and
// for scale DIB's own resolver on the seed's elements (elements-seed),
// since Debian's diskimage-builder ships no element-info command.
func planFitAfter(done []*workloadResult, r *workloadResult, _ string) error {
	f, ok := fitPlanScaling(append(done, r))
	if !ok {
		addNote(r.Name, "P5 fit: needs plan-100 and plan-1000 in the same run (-only plan-10,plan-100,plan-1000)")
		return nil
	}
	r.Fit = &f
	addNote(r.Name, f.String())
	for _, d := range done {
		if d.Name == "elements-seed" && len(d.Sides) == 2 && d.Verdict != verdictError {
			addNote(r.Name, fmt.Sprintf("for scale: DIB's element resolver alone (element_dependencies, what its element-info runs) takes %s on the seed's elements (elements-seed)",
				formatDuration(d.Sides[1].Median.Wall)))
		}
	}
	return nil
}

// linearGrowth: plan's time grew linearly from 100 to 1000 images.
func linearGrowth() check {
	return check{
		text: fmt.Sprintf("growth 100→1000 images in [%d, %d]×", linearGrowthMin, linearGrowthMax),
		met:  func(r *workloadResult) bool { return r.Fit != nil && r.Fit.Linear },
	}
}
