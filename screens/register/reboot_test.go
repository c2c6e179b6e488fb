package register

import (
	"context"
	"strings"
	"testing"
)

// TestRebootIsTheMenusReboot: "reboot now" after activation runs the
// menu's Reboot (in --demo the simulated one, which ends the "reboot to
// finish registration" note), and says so plainly when none is configured
// (it used to claim a demo simulation on a real node).
func TestRebootIsTheMenusReboot(t *testing.T) {
	ran := 0
	f := NewFlow(FlowDeps{Reboot: func(context.Context) (string, error) { ran++; return "Simulated (demo)", nil }})
	if got, err := f.Reboot(context.Background()); err != nil || got != "Simulated (demo)" || ran != 1 {
		t.Errorf("Reboot = %q, %v; ran %d", got, err, ran)
	}
	got, err := NewFlow(FlowDeps{}).Reboot(context.Background())
	if err != nil || !strings.Contains(got, "No reboot command is configured") || strings.Contains(got, "demo") {
		t.Errorf("no reboot command: %q, %v", got, err)
	}
}
