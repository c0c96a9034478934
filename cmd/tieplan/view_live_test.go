package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tieplan/tieplan/exec/walk"
)

func TestLiveView(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := newLiveView(&out, []string{"image.a", "image.b"}, 80)
	v.now = func() time.Time { return now }
	v.event(walk.Event{Type: walk.EventStepStart, Image: "image.a", Step: `image.a.step["install.d/50-user"]`})
	now = now.Add(12 * time.Second)
	v.line("image.a", "Setting up sudo")
	v.event(walk.Event{Type: walk.EventStepComplete, Image: "image.b", Step: `image.b.step["root.d/10-x"]`, Cached: true})
	got := v.render("image.a", now)
	for _, want := range []string{"image.a", "install.d/50-user", "12s", "Setting up sudo"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
	if !strings.Contains(v.render("image.b", now), "1 reused") {
		t.Errorf("image.b: %q", v.render("image.b", now))
	}
	// Redraws move the cursor back up over the previous block.
	if !strings.Contains(out.String(), "\x1b[2A") {
		t.Errorf("no redraw in place:\n%q", out.String())
	}
	long := newLiveView(&out, []string{"image.a"}, 20)
	if r := long.render("image.a", now); len([]rune(r)) > 19 {
		t.Errorf("not cut to the width: %q", r)
	}
}
