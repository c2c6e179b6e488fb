package netconfig

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/lldp"
)

// fakeLLDP hears one switch port per NIC at once, then waits for the end
// of the listen.
type fakeLLDP struct{ index int }

func (f fakeLLDP) Listen(ctx context.Context, _ time.Duration, heard func([]lldp.Neighbor)) ([]lldp.Neighbor, error) {
	nbs := []lldp.Neighbor{{ChassisID: "sw-1", PortID: fmt.Sprintf("Gi1/0/%d", f.index), VLAN: 100}}
	heard(nbs)
	<-ctx.Done()
	return nbs, nil
}
func (fakeLLDP) Close() error { return nil }

// TestLLDPListenerListensAndRestarts: at Start the listener listens on the
// Ethernet NICs that are up (eth0, mgmt0; not eth1 without carrier, not
// wg0), puts what it hears in the table at once, and starts again on a NIC
// that comes up; Close ends every listen.
func TestLLDPListenerListensAndRestarts(t *testing.T) {
	opened := make(chan int, 10)
	var tab LLDPTable
	changed := make(chan struct{}, 100)
	l := &LLDPListener{Table: &tab, Reader: NewSimulated(), Open: func(i int) (LLDPConn, error) {
		opened <- i
		return fakeLLDP{i}, nil
	}}
	l.LinkUp(2) // before Start: nothing
	l.Start(func() { changed <- struct{}{} })
	got := map[int]int{}
	got[<-opened]++
	got[<-opened]++
	if got[2] != 1 || got[4] != 1 {
		t.Errorf("listened on interfaces %v, want 2 (eth0) and 4 (mgmt0)", got)
	}
	l.LinkUp(2) // eth0's cable plugged in again
	if i := <-opened; i != 2 {
		t.Errorf("LinkUp(2) listened on %d", i)
	}
	for len(tab.Get("eth0")) == 0 || len(tab.Get("mgmt0")) == 0 {
		<-changed
	}
	l.Close()
	select {
	case i := <-opened:
		t.Errorf("also listened on %d", i)
	default:
	}
	if nb := tab.Get("eth0"); len(nb) != 1 || nb[0].PortID != "Gi1/0/2" || nb[0].VLAN != 100 {
		t.Errorf("eth0: %+v", nb)
	}
	if nb := tab.Get("eth1"); nb != nil {
		t.Errorf("eth1 (no carrier): %+v, want not listened (nil)", nb)
	}
	l.LinkUp(2) // after Close: nothing
}

// TestLLDPListenerWithoutCapability: without CAP_NET_RAW the listener logs
// one line, fills in nothing and stops trying.
func TestLLDPListenerWithoutCapability(t *testing.T) {
	var log bytes.Buffer
	opened := make(chan int, 10)
	var tab LLDPTable
	l := &LLDPListener{Table: &tab, Reader: NewSimulated(), Log: slog.New(slog.NewTextHandler(&log, nil)),
		Open: func(i int) (LLDPConn, error) {
			opened <- i
			return nil, fmt.Errorf("lldp: open a packet socket (needs CAP_NET_RAW): %w", syscall.EPERM)
		}}
	l.Start(func() { t.Error("the table changed") })
	<-opened
	<-opened // eth0 and mgmt0 were tried at once
	for disabled := false; !disabled; runtime.Gosched() {
		l.mu.Lock()
		disabled = l.disabled
		l.mu.Unlock()
	}
	l.LinkUp(2) // disabled: not tried again
	l.Close()   // waits for the scans and the failed listens
	opens := 2 + len(opened)
	if n := strings.Count(log.String(), "\n"); n != 1 || !strings.Contains(log.String(), "CAP_NET_RAW") {
		t.Errorf("log (%d lines): %s", n, log.String())
	}
	if tab.Get("eth0") != nil || opens != 2 {
		t.Errorf("eth0 %+v after %d opens", tab.Get("eth0"), opens)
	}
}

// silentLLDP hears nothing: the listen ends without a frame.
type silentLLDP struct{}

func (silentLLDP) Listen(context.Context, time.Duration, func([]lldp.Neighbor)) ([]lldp.Neighbor, error) {
	return nil, nil
}
func (silentLLDP) Close() error { return nil }

// TestLLDPListenerSilentNotifiesOnce: a listen that hears nothing is
// announced when it changes the table (the NIC's first "no switch
// heard"), so that an open Network screen shows it, and not again when a
// later listen hears nothing either.
func TestLLDPListenerSilentNotifiesOnce(t *testing.T) {
	opened := make(chan int, 10)
	changed := make(chan struct{}, 10)
	var tab LLDPTable
	l := &LLDPListener{Table: &tab, Reader: NewSimulated(), Open: func(i int) (LLDPConn, error) {
		opened <- i
		return silentLLDP{}, nil
	}}
	l.Start(func() { changed <- struct{}{} })
	<-changed
	<-changed // eth0 and mgmt0: nothing heard, announced
	if nb := tab.Get("eth0"); nb == nil || len(nb) != 0 {
		t.Errorf("eth0: %+v, want listened, nothing heard", nb)
	}
	<-opened
	<-opened
	l.LinkUp(2)
	<-opened
	l.Close()
	if n := len(changed); n != 0 {
		t.Errorf("a second silent listen was announced %d times", n)
	}
}
