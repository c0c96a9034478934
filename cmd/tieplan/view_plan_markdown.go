package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/tieplan/tieplan/plan"
)

// planMarkdownView draws the plan for a pull-request comment, the way
// dflook/terraform-github-actions does: the Plan: line first, then one
// collapsed <details> per changed image holding the human view's lines in a
// ```diff block, the symbols moved to the first column where GitHub colours
// them (= as a space, + as +, ~ as !, - as -, <= as #). A comment is
// limited to 65,536 characters: past limit the output is cut image by
// image, keeping each image's changed steps first.
type planMarkdownView struct {
	w       io.Writer
	workDir string
	// limit bounds the output, in characters as GitHub counts them (UTF-16
	// code units); 0 is markdownLimit.
	limit int
}

var _ planRenderer = (*planMarkdownView)(nil)

// htmlText escapes text for an HTML element's content.
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// markdownLimit leaves room under GitHub's 65,536 for a heading a workflow
// adds around the plan.
const markdownLimit = 60000

// maxUpToDateNamed bounds the list of up-to-date images.
const maxUpToDateNamed = 50

// markdownSymbols map the human view's symbols to the first column of a
// diff block.
var markdownSymbols = map[string]byte{
	"=": ' ', "+": '+', "~": '!', "-": '-', "<=": '#', "#": '#', "": ' ',
}

// markdownLine is a planLine as it reads in a diff block.
func markdownLine(l planLine) string {
	h := []byte(l.human())
	first := markdownSymbols[l.sym]
	if l.sym != "" {
		start := len(h) - len(strings.TrimLeft(string(h), " "))
		for i := start; i < start+len(l.sym); i++ {
			h[i] = ' '
		}
	} else if l.sign != 0 {
		first = l.sign
	}
	rest := ""
	if len(h) > 3 {
		rest = string(h[3:])
	}
	return strings.TrimRight(string(first)+rest, " ")
}

// markdownBlock is one image's <details>.
type markdownBlock struct {
	head, tail string
	// brief is the image in one line, when there is no room for more.
	brief string
	lines []planLine
	text  []string // markdownLine of each line
}

func (v *planMarkdownView) render(p *plan.Plan) {
	limit := v.limit
	if limit <= 0 {
		limit = markdownLimit
	}
	d := newPlanDrawing(p, v.workDir)
	head := planFooter(p) + "\n\n"
	var blocks []*markdownBlock
	var upToDate []string
	for _, img := range d.images {
		if img.action == imageReuse {
			name := mdCode(img.plan.Addr)
			if img.plan.Arch != "" {
				name += " (" + img.plan.Arch + ")"
			}
			upToDate = append(upToDate, name)
			continue
		}
		b := &markdownBlock{lines: img.lines}
		fence := codeFence(img.lines)
		b.head = "<details><summary>" + htmlText.Replace(img.comment) + "</summary>\n\n" + fence + "diff\n"
		b.tail = fence + "\n\n</details>\n\n"
		b.brief = markdownLine(planLine{sym: img.action.symbol(), col: colImage, text: img.comment})
		for _, l := range img.lines {
			b.text = append(b.text, markdownLine(l))
		}
		blocks = append(blocks, b)
	}
	tail := ""
	if len(upToDate) > 0 {
		if len(upToDate) > maxUpToDateNamed {
			n := len(upToDate) - maxUpToDateNamed
			upToDate = append(upToDate[:maxUpToDateNamed:maxUpToDateNamed], fmt.Sprintf("and %d more", n))
		}
		tail = "Up to date: " + strings.Join(upToDate, ", ") + ".\n\n"
	}

	var full strings.Builder
	full.WriteString(head)
	for _, b := range blocks {
		full.WriteString(b.head)
		for _, t := range b.text {
			full.WriteString(t + "\n")
		}
		full.WriteString(b.tail)
	}
	full.WriteString(tail)
	out := strings.TrimRight(full.String(), "\n") + "\n"
	total := chars(out)
	if total <= limit {
		io.WriteString(v.w, out)
		return
	}
	// The note, and the blank line before it, count too.
	out = truncateMarkdown(head, blocks, tail, limit-chars(truncationNote(total, total))-2)
	io.WriteString(v.w, out+"\n"+truncationNote(chars(out), total)+"\n")
}

func truncationNote(shown, total int) string {
	return fmt.Sprintf("_Output truncated: %d of %d characters shown; run tieplan plan locally for the full plan._", shown, total)
}

// truncateMarkdown fits the blocks into budget characters. Images are
// drawn in full detail in order while their outlines (comment, braces) and
// changed steps fit, the images after them as one line each in a last
// block (the first image, if too big for the room, drawn with what of
// its changed steps fits); what is left is shared out evenly among the detailed images, one
// needing less than its share leaving the remainder to the others, for
// their script diffs first, then their reused steps, each in order until
// one does not fit.
func truncateMarkdown(head string, blocks []*markdownBlock, tail string, budget int) string {
	budget -= chars(head) + chars(tail)
	// marker stands for the lines an image lost.
	marker := func(n int) string {
		return markdownLine(planLine{sym: "#", col: colStep, text: fmt.Sprintf("… %s not shown", plural(n, "line"))}) + "\n"
	}
	type fit struct {
		base     int   // the outline, with the widest marker
		units    []int // units in the order they are kept
		cost     map[int]int
		prio     map[int]int
		changed  int // cost of the changed steps
		brief    int // cost of the image as one line
		keep     map[int]bool
		detailed bool
	}
	fits := make([]*fit, len(blocks))
	for i, b := range blocks {
		f := &fit{cost: map[int]int{}, prio: map[int]int{}, keep: map[int]bool{}}
		f.base = chars(b.head) + chars(b.tail) + chars(marker(len(b.lines)))
		f.brief = chars(b.brief) + 1
		for j, l := range b.lines {
			n := chars(b.text[j]) + 1
			if l.prio == prioAlways {
				f.base += n
				continue
			}
			if _, ok := f.cost[l.unit]; !ok {
				f.units = append(f.units, l.unit)
				f.prio[l.unit] = l.prio
			}
			f.cost[l.unit] += n
			if l.prio == prioChanged {
				f.changed += n
			}
		}
		sort.SliceStable(f.units, func(x, y int) bool { return f.prio[f.units[x]] < f.prio[f.units[y]] })
		fits[i] = f
	}
	// The images after the detailed ones, one line each.
	briefHead := func(n int) string {
		what := "more changed image"
		if n == len(fits) {
			what = "changed image"
		}
		return "<details><summary>" + plural(n, what) + "</summary>\n\n```diff\n"
	}
	const briefTail = "```\n\n</details>\n\n"
	briefCost := func(from int) int {
		if from == len(fits) {
			return 0
		}
		n := chars(briefHead(len(fits)-from)) + chars(briefTail)
		for _, f := range fits[from:] {
			n += f.brief
		}
		return n
	}
	// The most images that fit in detail with all their changed steps.
	detailed, used := 0, 0
	for detailed < len(fits) {
		f := fits[detailed]
		if used+f.base+f.changed+briefCost(detailed+1) > budget {
			break
		}
		used += f.base + f.changed
		f.detailed = true
		for _, u := range f.units {
			if f.prio[u] == prioChanged {
				f.keep[u] = true
			}
		}
		detailed++
	}
	// When not even the first image fits in full, it is drawn with what
	// of its changed steps fits.
	if detailed == 0 && len(fits) > 0 {
		if f := fits[detailed]; used+f.base+briefCost(detailed+1) < budget {
			f.detailed = true
			used += f.base
			detailed++
		}
	}
	budget -= used + briefCost(detailed)
	// Share out the rest, smallest demand first.
	var order []int
	demand := map[int]int{}
	for i, f := range fits[:detailed] {
		order = append(order, i)
		for _, u := range f.units {
			if !f.keep[u] {
				demand[i] += f.cost[u]
			}
		}
	}
	sort.SliceStable(order, func(x, y int) bool { return demand[order[x]] < demand[order[y]] })
	for k, i := range order {
		share := min(demand[i], max(budget, 0)/(len(order)-k))
		f := fits[i]
		spent := 0
		for _, u := range f.units {
			if f.keep[u] {
				continue
			}
			if spent+f.cost[u] > share {
				break
			}
			spent += f.cost[u]
			f.keep[u] = true
		}
		budget -= spent
	}

	var b strings.Builder
	b.WriteString(head)
	for i, blk := range blocks[:detailed] {
		f := fits[i]
		b.WriteString(blk.head)
		dropped := 0
		for _, l := range blk.lines {
			if l.prio != prioAlways && !f.keep[l.unit] {
				dropped++
			}
		}
		for j, l := range blk.lines {
			if l.prio == prioAlways || f.keep[l.unit] {
				if dropped > 0 && j == len(blk.lines)-1 {
					b.WriteString(marker(dropped))
				}
				text := blk.text[j]
				if l.diff != 0 && !f.keep[l.diff] {
					// "script changed:" with nothing under it.
					text = strings.TrimSuffix(text, ":")
				}
				b.WriteString(text + "\n")
			}
		}
		b.WriteString(blk.tail)
	}
	if detailed < len(blocks) {
		// Past the room for even one line per image, the rest is counted.
		room := budget + briefCost(detailed)
		rest := len(blocks) - detailed
		b.WriteString(briefHead(rest))
		room -= chars(briefHead(rest)) + chars(briefTail)
		more := func(n int) string {
			return markdownLine(planLine{sym: "#", col: colImage, text: fmt.Sprintf("… %s not shown", plural(n, "more image"))}) + "\n"
		}
		for i, blk := range blocks[detailed:] {
			need := fits[detailed+i].brief
			if left := rest - i - 1; left > 0 {
				need += chars(more(left))
			}
			if room < need {
				b.WriteString(more(rest - i))
				break
			}
			b.WriteString(blk.brief + "\n")
			room -= fits[detailed+i].brief
		}
		b.WriteString(briefTail)
	}
	b.WriteString(tail)
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// chars counts s the way GitHub limits a comment: in UTF-16 code units.
func chars(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// codeFence is a fence longer than any run of backticks in the lines.
func codeFence(lines []planLine) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l.text {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdCode is s as inline code.
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if fence != "`" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
