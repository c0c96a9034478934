package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tieplan/tieplan/exec/walk"
)

// liveView is apply's progress on a terminal: one line per image with its
// current step, how long it has run and its last line of output, redrawn
// in place. Callers serialise calls.
type liveView struct {
	w      io.Writer
	order  []string
	status map[string]*liveStatus
	width  int
	drawn  int
	last   time.Time
	now    func() time.Time
}

type liveStatus struct {
	step     string
	started  time.Time
	line     string
	executed int
	reused   int
	failed   bool
}

func newLiveView(w io.Writer, images []string, width int) *liveView {
	if width <= 0 {
		width = 100
	}
	v := &liveView{w: w, order: images, status: map[string]*liveStatus{}, width: width, now: time.Now}
	for _, img := range images {
		v.status[img] = &liveStatus{step: "waiting"}
	}
	return v
}

func (v *liveView) event(e walk.Event) {
	s := v.status[e.Image]
	if s == nil {
		return
	}
	switch e.Type {
	case walk.EventStepStart:
		s.step, s.started, s.line = stepLabel(e.Image, e.Step), v.now(), ""
	case walk.EventStepComplete:
		if e.Cached {
			s.reused++
		} else {
			s.executed++
		}
		s.step = "done with " + stepLabel(e.Image, e.Step)
	case walk.EventStepFailed:
		s.failed, s.step = true, "FAILED at "+stepLabel(e.Image, e.Step)
	}
	v.draw(e.Type != walk.EventStepComplete)
}

func (v *liveView) line(image, line string) {
	if s := v.status[image]; s != nil {
		s.line = line
		v.draw(false)
	}
}

// draw redraws every image's line; without force at most ten times a
// second, so chatty steps do not flood the terminal.
func (v *liveView) draw(force bool) {
	now := v.now()
	if !force && now.Sub(v.last) < 100*time.Millisecond {
		return
	}
	v.last = now
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	for _, img := range v.order {
		b.WriteString("\x1b[2K")
		b.WriteString(v.render(img, now))
		b.WriteByte('\n')
	}
	v.drawn = len(v.order)
	io.WriteString(v.w, b.String())
}

// render is one image's line, cut to the terminal's width.
func (v *liveView) render(img string, now time.Time) string {
	s := v.status[img]
	elapsed := ""
	if !s.started.IsZero() && !strings.HasPrefix(s.step, "done") {
		elapsed = now.Sub(s.started).Round(time.Second).String()
	}
	text := fmt.Sprintf("%s  %s  %s  [%d run, %d reused]  %s", img, s.step, elapsed, s.executed, s.reused, s.line)
	if r := []rune(text); len(r) > v.width-1 {
		text = string(r[:v.width-1])
	}
	return text
}

// finish leaves the final state on screen.
func (v *liveView) finish() {
	v.draw(true)
}
