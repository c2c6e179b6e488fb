package controlplane_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// TestAdminAPIContract: the paths and JSON field names of the fixed admin
// API (DESIGN.md section 6) as literals, read from the raw answers, so
// that renaming a path or a json tag (which the api types would carry to
// both sides of every other test) breaks this test.
func TestAdminAPIContract(t *testing.T) {
	cp := cptest.New(t)
	// raw does one request (with the admin token when admin) and returns
	// the status and the answer as a JSON object.
	raw := func(method, path, body string, admin bool) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, cp.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if admin {
			req.Header.Set("Authorization", "Bearer "+cp.AdminToken)
		}
		resp, err := cp.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, data)
			}
		}
		return resp.StatusCode, m
	}
	// want checks an object's fields.
	want := func(what string, m map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q in %v", what, k, m)
			}
		}
	}
	list := func(m map[string]any, key string) []map[string]any {
		var out []map[string]any
		items, _ := m[key].([]any)
		for _, it := range items {
			if o, ok := it.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}

	n := newTestNode(t)
	er := n.enroll(t, cp)
	code, m := raw("GET", "/api/v1/activations/"+er.UserCode, "", true)
	if code != 200 {
		t.Fatalf("Find: %d %v", code, m)
	}
	want("Find", m, "nodeId", "make", "model", "sourceIp", "requestedAt", "expiresAt")
	code, m = raw("POST", "/api/v1/activations/"+er.UserCode, `{"name":"store-17","project":"retail"}`, true)
	if code != 200 || m["nodeId"] != n.id || m["name"] != "store-17" {
		t.Fatalf("License: %d %v", code, m)
	}
	if _, err := poll(t, cp, er.DeviceCode, 0); err != nil {
		t.Fatal(err)
	}

	code, m = raw("POST", "/api/v1/tokens", `{"name":"site-a","project":"retail","expiresIn":"24h","singleUse":true}`, true)
	if code != 200 && code != 201 {
		t.Fatalf("POST tokens: %d %v", code, m)
	}
	want("POST tokens", m, "id", "token")

	added := newTestNode(t).id
	code, m = raw("POST", "/api/v1/nodes", `{"ids":["`+added+`"],"tags":{"rack":"r12"},"pairingKeys":{"`+added+`":"generate"}}`, true)
	if code != 200 && code != 201 {
		t.Fatalf("Add Edge Hosts: %d %v", code, m)
	}
	if nodes := list(m, "nodes"); len(nodes) != 1 || nodes[0]["id"] != added {
		t.Errorf("Add Edge Hosts: nodes %v", m["nodes"])
	}
	if keys, _ := m["pairingKeys"].(map[string]any); keys[added] == nil {
		t.Errorf("Add Edge Hosts: no generated pairing key in %v", m)
	}

	_, m = raw("GET", "/api/v1/nodes", "", true)
	status := map[any]any{}
	for _, nd := range list(m, "nodes") {
		want("GET nodes", nd, "id", "name", "status", "project")
		status[nd["id"]] = nd["status"]
	}
	if status[n.id] != "registered" || status[added] != "pending" {
		t.Errorf("GET nodes: statuses %v", status)
	}
	_, m = raw("GET", "/api/v1/nodes?limit=1", "", true)
	if len(list(m, "nodes")) != 1 || m["next"] == nil || m["next"] == "" {
		t.Errorf("GET nodes?limit=1: %v, want one node and a next cursor", m)
	}

	_, m = raw("GET", "/api/v1/events?limit=1000", "", true)
	types := map[any]bool{}
	for _, ev := range list(m, "events") {
		want("GET events", ev, "type", "time", "actor")
		if ev["nodeId"] == n.id {
			types[ev["type"]] = true
		}
	}
	if !types["activated"] || !types["registered"] {
		t.Errorf("events of the node: %v, want activated and registered", types)
	}

	// Errors, and what answers without a token.
	code, m = raw("GET", "/api/v1/activations/AAAA-AAAA", "", true)
	if code != 404 && code != 400 {
		t.Errorf("Find of an unknown code: status %d", code)
	}
	want("error", m, "error", "message")
	if code, m = raw("GET", "/api/v1/nodes", "", false); code != 401 || m["error"] == nil {
		t.Errorf("GET nodes without a token: %d %v", code, m)
	}
	for _, p := range []string{"/healthz", "/readyz", "/api/v1/ca", "/api/v1/ca/crl", "/.well-known/oauth-authorization-server"} {
		if code, _ := raw("GET", p, "", false); code != 200 {
			t.Errorf("GET %s without a token: %d", p, code)
		}
	}
	// The node endpoints after enrollment are literal too.
	if api.PathNodeSelf != "/api/v1/node/self" || api.PathNodeDeregister != "/api/v1/node/deregister" {
		t.Errorf("node endpoints %s, %s", api.PathNodeSelf, api.PathNodeDeregister)
	}
}
