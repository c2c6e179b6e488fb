package register

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

func TestZZScratch(t *testing.T) {
	show := func(name string, d *uitest.Driver) { fmt.Printf("=== %s\n%s\n", name, d.Text()) }
	small := tea.WindowSizeMsg{Width: 40, Height: 10}
	d, _ := newDriver(t, uitest.MonoASCII, newFake())
	d.Send(small)
	show("confirm", d)
	f := newFake()
	f.outcomes = []Outcome{{Kind: Registered, NodeName: "store-17", Project: "retail"}}
	d, _ = newDriver(t, uitest.MonoASCII, f)
	d.Send(small)
	d.Keys("enter")
	show("activated", d)
	d.Keys("esc")
	show("activated-later", d)
	f = newFake()
	f.startErr = &regclient.Error{Op: "enroll", Status: 503, Message: "the control plane is unavailable"}
	d, _ = newDriver(t, uitest.MonoASCII, f)
	d.Send(small)
	d.Keys("enter")
	show("failed", d)
	f = newFake()
	f.checks[2] = Check{Name: "TLS", Detail: "x509: certificate signed by unknown authority (possibly because of a long chain)", Hint: "Add the control plane's CA to site.caCerts in the config file."}
	d, _ = newDriver(t, uitest.MonoASCII, f)
	d.Send(small)
	d.Keys("enter")
	show("failed-conn", d)
	f = newFake()
	f.outcomes = []Outcome{{Kind: Retrying, RetryIn: 5 * time.Second}}
	d, _ = newDriver(t, uitest.MonoASCII, &parked{fakeFlow: f})
	d.Send(small)
	d.Keys("enter")
	show("code", d)
	d.Keys("esc")
	show("asking", d)
	d.Keys("y")
	d.Drain()
	show("cancelled", d)
}
