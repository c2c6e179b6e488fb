package controlplane_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// TestEventsNameTheirActorAndPage: every event says who did it (admin
// token, a user's personal token, the node, a portal user); the API pages
// through events and nodes with limit/cursor/next and filters events by
// actor, node and type; the portal shows words and node names.
func TestEventsNameTheirActorAndPage(t *testing.T) {
	cp := cptest.New(t)
	ctx := context.Background()
	if _, err := cptestSite(cp, "Berlin"); err != nil {
		t.Fatal(err)
	}
	if err := cp.AddUser("olga", "operator", "olga-password-1"); err != nil {
		t.Fatal(err)
	}
	_, tok, err := cp.Control().Accounts().CreateAPIToken(ctx, "olga", "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	auth := []string{"Authorization", "Bearer " + tok}
	n := newTestNode(t)
	er := n.enroll(t, cp)
	var lic api.LicenseResponse
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathActivations+er.UserCode, api.LicenseRequest{Name: "berlin-7", Site: "Berlin"}, &lic, auth...); err != nil {
		t.Fatal(err)
	}
	if _, err := poll(t, cp, er.DeviceCode, 0); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 5 {
		ids = append(ids, newTestNode(t).id)
	}
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathNodes, api.AddNodesRequest{IDs: ids}, nil, auth...); err != nil {
		t.Fatal(err)
	}

	all, err := cp.Events()
	if err != nil {
		t.Fatal(err)
	}
	actors := map[string]string{} // type -> actor
	for _, e := range all {
		if e.Actor == "" {
			t.Errorf("event %s %q has no actor", e.Type, e.Message)
		}
		actors[e.Type] = e.Actor
	}
	for typ, want := range map[string]string{
		api.EventSiteCreated: "admin-token", api.EventEnrollmentStarted: "node", api.EventActivated: "olga (token ci)",
		api.EventRegistered: "node", api.EventNodeAdded: "olga (token ci)",
	} {
		if actors[typ] != want {
			t.Errorf("%s event by %q, want %q", typ, actors[typ], want)
		}
	}

	// Pages of 2 reach every event once, newest first.
	var paged []api.Event
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("paging does not end")
		}
		var l api.EventList
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := call(t, cp.Client(), "GET", cp.URL+api.PathEvents+q, nil, &l, auth...); err != nil {
			t.Fatal(err)
		}
		if len(l.Events) > 2 {
			t.Fatalf("limit=2 gave %d events", len(l.Events))
		}
		paged = append(paged, l.Events...)
		if l.Next == "" {
			break
		}
		cursor = l.Next
	}
	if len(paged) != len(all) {
		t.Fatalf("pages gave %d events, all %d", len(paged), len(all))
	}
	for i := range paged {
		if paged[i].ID != all[i].ID || (i > 0 && paged[i].ID >= paged[i-1].ID) {
			t.Fatalf("page order differs at %d", i)
		}
	}
	// Filters, and node names beside IDs.
	var l api.EventList
	q := url.Values{"actor": {"olga (token ci)"}, "type": {api.EventActivated}, "node": {n.id}}
	if _, err := call(t, cp.Client(), "GET", cp.URL+api.PathEvents+"?"+q.Encode(), nil, &l, auth...); err != nil {
		t.Fatal(err)
	}
	if len(l.Events) != 1 || l.Events[0].NodeName != "berlin-7" || !strings.Contains(l.Events[0].Message, `site "Berlin"`) {
		t.Fatalf("filtered events = %+v", l.Events)
	}
	if _, err := call(t, cp.Client(), "GET", cp.URL+api.PathEvents+"?cursor=zz", nil, nil, auth...); cptest.ErrorCode(err) != api.CodeInvalidRequest {
		t.Fatalf("bad cursor: %v", err)
	}

	// Nodes page too.
	seen := map[string]int{}
	cursor = ""
	for {
		var nl api.NodeList
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := call(t, cp.Client(), "GET", cp.URL+api.PathNodes+q, nil, &nl, auth...); err != nil {
			t.Fatal(err)
		}
		for _, x := range nl.Nodes {
			seen[x.ID]++
		}
		if nl.Next == "" {
			break
		}
		cursor = nl.Next
	}
	if len(seen) != 6 {
		t.Fatalf("node pages reached %d nodes, want 6", len(seen))
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("node %s on %d pages", id, k)
		}
	}

	// The portal's events page: words, names, filters.
	b := newBrowser(t, cp)
	b.loginAs("olga", "olga-password-1")
	_, page := b.get("/events?node=" + n.id)
	if i := strings.Index(page, `<table id="events">`); i >= 0 {
		page = page[i:] // the table, not the filter's list of types
	}
	for _, want := range []string{"Activated", "berlin-7", "Enrollment started", "olga (token ci)"} {
		if !strings.Contains(page, want) {
			t.Errorf("events page for the node lacks %q", want)
		}
	}
	if strings.Contains(page, "enrollment_started</td>") || strings.Contains(page, "Node pre-added") {
		t.Error("events page shows an identifier, or an event of another node")
	}
	if _, page := b.get("/events?limit=2"); !strings.Contains(page, `id="older"`) {
		t.Error("events page has no link to older events")
	}
}
