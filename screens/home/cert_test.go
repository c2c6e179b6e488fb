package home

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestCertificateExpiryLine: a registered node shows its certificate's
// expiry; from 14 days before it a notice; once expired one line saying so
// and to use Register Node.
func TestCertificateExpiryLine(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		notAfter time.Time
		want     string
	}{
		{now.Add(60 * 24 * time.Hour), "Certificate valid until " + now.Add(60*24*time.Hour).Local().Format(time.DateOnly)},
		{now.Add(5*24*time.Hour + time.Hour), "(5 days left); renewing automatically"},
		{now.Add(-time.Hour), "Certificate expired on " + now.Add(-time.Hour).Local().Format(time.DateOnly) + ": choose Register Node"},
	} {
		m := newHome(uitest.TrueColor, nil)
		s := snapshot()
		s.Registration = nodestatus.Registration{State: regclient.Registered, NodeName: "store-42"}
		s.Certificate = &nodestatus.Certificate{NotAfter: tc.notAfter, RenewAfter: tc.notAfter.Add(-time.Hour)}
		m.Update(snapshotMsg{gen: m.gen, snap: s})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
		if v := ansi.Strip(m.View()); !strings.Contains(v, tc.want) || strings.Contains(v, "Certificate Certificate") {
			t.Errorf("notAfter %v: home lacks %q (or says Certificate twice):\n%s", tc.notAfter, tc.want, v)
		}
	}
}
