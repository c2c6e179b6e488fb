package netconfig

import (
	"context"
	"slices"
	"sync"

	"github.com/nodeconsole/nodeconsole/lldp"
)

// LLDPTable holds the LLDP neighbours heard per interface, filled by a
// background listener and read with the status (WithLLDP). It is safe for
// concurrent use; the zero value is empty and ready.
type LLDPTable struct {
	mu sync.Mutex
	m  map[string][]lldp.Neighbor // interface name -> neighbours heard
}

// Set records what was heard on ifname: nbs replaces what was there (an
// empty, non-nil slice says "listened, heard nothing"). It reports whether
// that changed what the table says of ifname.
func (t *LLDPTable) Set(ifname string, nbs []lldp.Neighbor) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string][]lldp.Neighbor{}
	}
	if nbs == nil {
		nbs = []lldp.Neighbor{}
	}
	old, had := t.m[ifname]
	t.m[ifname] = slices.Clone(nbs)
	return !had || !slices.Equal(old, nbs)
}

// Get returns what was heard on ifname, nil when nothing was listened for.
func (t *LLDPTable) Get(ifname string) []lldp.Neighbor {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.m[ifname])
}

// Fill sets Interface.LLDP of every interface in st that the table knows.
func (t *LLDPTable) Fill(st *Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range st.Interfaces {
		if nbs, ok := t.m[st.Interfaces[i].Name]; ok {
			st.Interfaces[i].LLDP = slices.Clone(nbs)
		}
	}
}

// WithLLDP returns a Reader that reads r and fills in the neighbours t
// holds; a nil t returns r itself.
func WithLLDP(r Reader, t *LLDPTable) Reader {
	if t == nil {
		return r
	}
	return lldpReader{r: r, t: t}
}

type lldpReader struct {
	r Reader
	t *LLDPTable
}

// Read implements Reader.
func (l lldpReader) Read(ctx context.Context) (Status, error) {
	st, err := l.r.Read(ctx)
	l.t.Fill(&st)
	return st, err
}
