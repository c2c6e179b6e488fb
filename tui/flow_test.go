package tui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// waitFor waits until the program writes want; it consumes the output it
// reads, so each call sees only what came after the previous one. It never sleeps a fixed
// time: it polls the output, and the long limit only bounds a broken run.
func waitFor(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// TestFlowStartMoveOpenBackLogout drives the whole program: start, move,
// open a screen, go back, log out.
func TestFlowStartMoveOpenBackLogout(t *testing.T) {
	a := testConsole(t, uitest.TrueColor, nil)
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitFor(t, tm, "node-lab-01") // the status arrived (the menu is drawn before it)

	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown}) // to "Log out"
	tm.Send(tea.KeyPressMsg{Code: tea.KeyUp})   // back to "About this node"
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "Config file")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	waitFor(t, tm, "Menu")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))

	final := tm.FinalModel(t).(*App)
	if len(final.stack) != 1 {
		t.Errorf("stack depth = %d after going back, want 1 (home)", len(final.stack))
	}
	if !final.quitting {
		t.Error("q on home must log out")
	}
}

func TestCtrlCAsksBeforeLogout(t *testing.T) {
	a := testConsole(t, uitest.TrueColor, nil)
	load(a, 80, 24)
	a.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	if !a.confirmQuit {
		t.Fatal("ctrl+c on home must ask before logging out")
	}
	if _, cmd := a.Update(tea.KeyPressMsg{Code: 'n', Text: "n"}); cmd != nil || a.confirmQuit {
		t.Fatal("'n' must cancel the question and keep running")
	}
	a.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	_, cmd := a.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	if cmd == nil {
		t.Fatal("'y' must quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("'y' must return tea.Quit")
	}
}

func TestInertKeysAndPasteDoNothing(t *testing.T) {
	a := testConsole(t, uitest.TrueColor, nil)
	load(a, 80, 24)
	before := a.View().Content
	for _, k := range []tea.KeyPressMsg{{Code: 'z', Mod: tea.ModCtrl}, {Code: '\\', Mod: tea.ModCtrl}} {
		if _, cmd := a.Update(k); cmd != nil {
			t.Errorf("%s returned a command; it must do nothing", k)
		}
	}
	if _, cmd := a.Update(tea.PasteMsg{Content: "1q\x1b[A" + string(bytes.Repeat([]byte("q1"), 5000))}); cmd != nil {
		t.Error("a pasted blob on the home screen must be ignored")
	}
	if after := a.View().Content; after != before {
		t.Error("inert keys or a paste changed the screen")
	}
	if len(a.stack) != 1 || a.quitting {
		t.Error("inert keys or a paste navigated or quit")
	}
}
