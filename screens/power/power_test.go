package power

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// fake records whether Run ran.
type fake struct {
	ran  int
	text string
	err  error
}

func (f *fake) run(context.Context) (string, error) { f.ran++; return f.text, f.err }

func newScreen(p ui.Profile, a Action, f *fake, w, h int) *Model {
	m := New(Deps{Styles: uitest.Styles(p), Action: a, Run: f.run})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// press sends a key and runs what it returns (one level, as the shell would
// for the screen's own messages).
func press(m *Model, k tea.KeyPressMsg) tea.Msg {
	_, cmd := m.Update(k)
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if r := c(); r != nil {
				if _, ok := r.(doneMsg); ok {
					m.Update(r)
				}
			}
		}
		return nil
	}
	return msg
}

var (
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
	yes   = tea.KeyPressMsg{Code: 'y', Text: "y"}
)

// Enter on the first screen cancels: the safe button is the selected one.
func TestEnterCancelsByDefault(t *testing.T) {
	f := &fake{}
	m := newScreen(uitest.TrueColor, Reboot, f, 80, 20)
	if msg := press(m, enter); msg != (ui.BackMsg{}) || f.ran != 0 {
		t.Fatalf("Enter: %v, ran %d; want back without running", msg, f.ran)
	}
}

func TestConfirmRuns(t *testing.T) {
	for _, how := range []string{"y", "tab+enter"} {
		f := &fake{text: "Started."}
		m := newScreen(uitest.TrueColor, Poweroff, f, 80, 20)
		if how == "y" {
			press(m, yes)
		} else {
			press(m, tab)
			press(m, enter)
		}
		if f.ran != 1 || !strings.Contains(ansi.Strip(m.View()), "Started.") {
			t.Errorf("%s: ran %d\n%s", how, f.ran, ansi.Strip(m.View()))
		}
	}
}

func TestFailureIsOneSentence(t *testing.T) {
	f := &fake{err: errors.New("exec: systemctl: permission denied")}
	m := newScreen(uitest.TrueColor, Reboot, f, 80, 20)
	press(m, yes)
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "It did not start: Reboot failed.") || strings.Contains(v, "systemctl") {
		t.Errorf("view:\n%s", v)
	}
}

func TestGolden(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 22}, {40, 10}} {
		for _, p := range []struct {
			name string
			p    ui.Profile
		}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
			for _, a := range []Action{Reboot, Poweroff} {
				name := fmt.Sprintf("%s_%s_%dx%d", map[Action]string{Reboot: "reboot", Poweroff: "poweroff"}[a], p.name, sz.w, sz.h)
				t.Run(name, func(t *testing.T) {
					m := newScreen(p.p, a, &fake{}, sz.w, sz.h)
					v := m.View()
					for i, l := range strings.Split(v, "\n") {
						if ansi.StringWidth(l) > sz.w {
							t.Errorf("line %d is %d cells wide", i+1, ansi.StringWidth(l))
						}
					}
					golden.RequireEqual(t, uitest.Render(v, p.p.Color))
				})
			}
		}
	}
}
