package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

func TestHints(t *testing.T) {
	enter := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "try again"))
	esc := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	off := key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "never"))
	off.SetEnabled(false)
	hidden := key.NewBinding(key.WithKeys("left")) // no help: not shown
	if got := Hints(enter, off, hidden, esc); got != "enter: try again   esc: back" {
		t.Errorf("Hints = %q", got)
	}
	if got := Hints(); got != "" {
		t.Errorf("Hints() = %q", got)
	}
}

func TestFitAndWrap(t *testing.T) {
	st := NewStyles(Profile{Color: colorprofile.Ascii, ASCII: true})
	got := Fit("a\nbbbbbbbbbb\nc\nd", 6, 3, &st)
	if got != "a\nbbb...\nc" {
		t.Errorf("Fit = %q", got)
	}
	for _, l := range Wrap("one two three four five six seven eight nine ten eleven", 12) {
		if ansi.StringWidth(l) > 12 {
			t.Errorf("Wrap line %q is wider than 12", l)
		}
	}
	if Wrap("", 20) != nil {
		t.Error("Wrap of nothing must be no lines")
	}
}

func TestMenuKeys(t *testing.T) {
	st := NewStyles(Profile{Color: colorprofile.TrueColor})
	m := NewMenu(&st, []MenuItem{{ID: "net", Label: "Network"}, {ID: "reg", Label: "Register"}, {ID: "out", Label: "Log out"}})
	press := func(k tea.KeyPressMsg) {
		m, _ = m.Update(k)
	}
	press(tea.KeyPressMsg{Code: tea.KeyUp}) // wraps to the last
	if m.Cursor != 2 {
		t.Errorf("up from the first: cursor %d, want 2", m.Cursor)
	}
	press(tea.KeyPressMsg{Code: 'j', Text: "j"}) // wraps to the first
	if m.Cursor != 0 {
		t.Errorf("j from the last: cursor %d, want 0", m.Cursor)
	}
	press(tea.KeyPressMsg{Code: '4', Text: "4"}) // no fourth item
	if _, ok := m.Chosen(); ok || m.Cursor != 0 {
		t.Errorf("4 of 3 items chose something (cursor %d)", m.Cursor)
	}
	press(tea.KeyPressMsg{Code: '2', Text: "2"})
	if id, ok := m.Chosen(); !ok || id != "reg" {
		t.Errorf("2 chose %q %v, want reg", id, ok)
	}
	press(tea.KeyPressMsg{Code: tea.KeyEnter})
	if id, ok := m.Chosen(); !ok || id != "reg" {
		t.Errorf("enter chose %q %v, want reg", id, ok)
	}
	// The selection has a marker, not only a colour.
	if v := ansi.Strip(m.View()); !strings.Contains(v, "2 "+st.Glyphs.Marker+" Register") {
		t.Errorf("no marker on the selected row:\n%s", v)
	}
}

// TestMenuDetail: an item's detail is a line of its own under the label,
// aligned with the labels.
func TestMenuDetail(t *testing.T) {
	st := NewStyles(Profile{Color: colorprofile.TrueColor})
	m := NewMenu(&st, []MenuItem{{ID: "eth0", Label: "eth0", Detail: "switch sw1 port 12"}, {ID: "eth1", Label: "eth1"}})
	got := strings.Split(ansi.Strip(m.View()), "\n")
	want := []string{" 1 " + st.Glyphs.Marker + " eth0", strings.Repeat(" ", MenuIndent) + "switch sw1 port 12", " 2   eth1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("menu rows %q, want %q", got, want)
	}
}

// TestASCIIProfileDrawsOnlyASCII: on a non-UTF-8 terminal every glyph the
// styles hand out is ASCII.
func TestASCIIProfileDrawsOnlyASCII(t *testing.T) {
	st := NewStyles(Profile{Color: colorprofile.Ascii, ASCII: true})
	g := st.Glyphs
	for _, s := range []string{g.Marker, g.Default, g.Arrow, g.Bullet, g.Ellipsis, g.Rule, g.OK, g.Fail, g.Block} {
		for _, r := range s {
			if r > 127 {
				t.Errorf("glyph %q is not ASCII", s)
			}
		}
	}
	for _, state := range []CheckState{CheckOK, CheckFail} {
		row := ansi.Strip(strings.Join(st.CheckRows(state, "dns", CheckNameW, "detail", "", 60), "\n"))
		if !strings.Contains(row, map[CheckState]string{CheckOK: "OK", CheckFail: "FAIL"}[state]) {
			t.Errorf("a check row in mono must say its state in a word: %q", row)
		}
	}
}

func TestCompose(t *testing.T) {
	title := Part{Lines: []string{"T"}, Drop: 2}
	rows := Part{Lines: []string{"r1", "r2"}, Drop: 1}
	ask := Part{Lines: []string{"q1", "q2"}}
	for _, c := range []struct {
		h    int
		want string
	}{
		{8, "T\n\nr1\nr2\n\nq1\nq2"},
		{6, "T\n\nr1\nr2\nq1\nq2"}, // the bottom gap goes first
		{5, "T\nr1\nr2\nq1\nq2"},
		{4, "r1\nr2\nq1\nq2"}, // then the highest Drop
		{3, "q1\nq2"},
		{1, "q1\nq2"}, // what must stay stays (Fit cuts it)
	} {
		if got := Compose(c.h, title, rows, ask); got != c.want {
			t.Errorf("Compose(%d) = %q, want %q", c.h, got, c.want)
		}
	}
}

// TestRunDropsOtherRuns: a result counts only in the run that asked for it,
// on the Run that asked for it; Next cancels the work in flight.
func TestRunDropsOtherRuns(t *testing.T) {
	var a, b Run
	res := a.Do(time.Minute, func(context.Context) any { return 1 })().(RunResult)
	if v, ok := a.Current(res); !ok || v != 1 {
		t.Fatalf("Current = %v, %v", v, ok)
	}
	if _, ok := b.Current(res); ok {
		t.Error("another Run took the result")
	}
	held := a.Do(time.Minute, func(ctx context.Context) any { return ctx.Err() })
	a.Next()
	late := held().(RunResult)
	if _, ok := a.Current(late); ok {
		t.Error("a result of the run before Next counted")
	}
	if late.Value != context.Canceled {
		t.Errorf("the earlier run's work saw %v, want it cancelled", late.Value)
	}
	if _, ok := a.Current(a.Tag(2)); !ok {
		t.Error("Tag is not of the current run")
	}
}

// TestCheckRowsNarrow: a wide name column at 40 columns puts the detail and
// hint under the name, whole, rather than in a sliver beside it.
func TestCheckRowsNarrow(t *testing.T) {
	st := NewStyles(Profile{Color: colorprofile.Ascii, ASCII: true})
	got := st.CheckRows(CheckFail, "Activation code", 18, "The control plane is unavailable.", "Try again later.", 40)
	want := []string{
		"  x FAIL Activation code",
		"         The control plane is",
		"         unavailable.",
		"         Try again later.",
	}
	if ansi.Strip(strings.Join(got, "\n")) != strings.Join(want, "\n") {
		t.Errorf("narrow rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Wide enough: beside the name, as before.
	if got := st.CheckRows(CheckOK, "DNS", 0, "resolves", "", 40); len(got) != 1 || !strings.HasSuffix(ansi.Strip(got[0]), "DNS      resolves") {
		t.Errorf("wide row: %q", got)
	}
}
