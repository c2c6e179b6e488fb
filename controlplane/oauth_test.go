package controlplane_test

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// postForm posts a form and decodes the JSON answer into a map.
func postForm(t *testing.T, cp *cptest.Server, path string, v url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := cp.Client().PostForm(cp.URL+path, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("POST %s: %s: not JSON: %q", path, resp.Status, body)
	}
	return resp.StatusCode, out
}

// TestStockDeviceFlowClient: golang.org/x/oauth2, unmodified, discovers
// nothing but the two endpoints, runs DeviceAuth and DeviceAccessToken,
// and ends with an access token and the certificate in Token.Extra; the
// token works on /api/v1/node/self without a client certificate, and stops
// working when the node is deregistered.
func TestStockDeviceFlowClient(t *testing.T) {
	// A held poll would take an hour: one without wait must not be held.
	cp := cptest.NewWith(t, controlplane.Options{PollInterval: time.Second, LongPoll: time.Hour})
	n := newTestNode(t)

	// RFC 8414 metadata names the endpoints.
	var meta struct {
		Issuer                      string   `json:"issuer"`
		DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
		TokenEndpoint               string   `json:"token_endpoint"`
		GrantTypes                  []string `json:"grant_types_supported"`
	}
	if _, err := call(t, cp.Client(), "GET", cp.URL+"/.well-known/oauth-authorization-server", nil, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != cp.URL || meta.DeviceAuthorizationEndpoint != cp.URL+api.PathEnroll ||
		meta.TokenEndpoint != cp.URL+api.PathEnrollPoll || len(meta.GrantTypes) != 1 || meta.GrantTypes[0] != "urn:ietf:params:oauth:grant-type:device_code" {
		t.Fatalf("metadata = %+v", meta)
	}

	conf := &oauth2.Config{ClientID: "nodeconsole", Endpoint: oauth2.Endpoint{
		DeviceAuthURL: meta.DeviceAuthorizationEndpoint, TokenURL: meta.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, cp.Client())
	da, err := conf.DeviceAuth(ctx, oauth2.SetAuthURLParam("node_id", n.id), oauth2.SetAuthURLParam("csr", n.csr),
		oauth2.SetAuthURLParam("make", "Acme"), oauth2.SetAuthURLParam("model", "Edge 100"))
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || !strings.HasPrefix(da.VerificationURIComplete, da.VerificationURI) || da.Interval != 1 {
		t.Fatalf("DeviceAuth answer %+v", da)
	}

	// A plain RFC poll (no wait) is answered at once, with
	// error_description.
	start := time.Now()
	status, body := postForm(t, cp, api.PathEnrollPoll, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da.DeviceCode}, "client_id": {"nodeconsole"}})
	if status != 400 || body["error"] != "authorization_pending" || body["error_description"] == "" || body["error_description"] != body["message"] {
		t.Fatalf("pending poll: %d %v", status, body)
	}
	if took := time.Since(start); took > 30*time.Minute {
		t.Errorf("a poll without wait was held %v", took)
	}
	status, body = postForm(t, cp, api.PathEnrollPoll, url.Values{"grant_type": {"password"}, "device_code": {da.DeviceCode}})
	if status != 400 || body["error"] != "unsupported_grant_type" {
		t.Fatalf("wrong grant_type: %d %v", status, body)
	}

	if _, err := cp.License(da.UserCode, "stock-client", ""); err != nil {
		t.Fatal(err)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	certPEM, _ := tok.Extra("certificate").(string)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.Expiry.IsZero() || certPEM == "" || tok.Extra("node_name") != "stock-client" {
		t.Fatalf("token = %+v, certificate %d bytes", tok, len(certPEM))
	}
	if cert := parseCert(t, certPEM); cert.Subject.CommonName != n.id {
		t.Fatalf("certificate for %q", cert.Subject.CommonName)
	}

	// Someone who replays the node ID and CSR (neither is secret) resumes
	// the same enrollment and may fetch the certificate again, which is
	// useless without the key; the bearer token went out once and does not
	// go out again.
	status, body = postForm(t, cp, api.PathEnroll, url.Values{"client_id": {"attacker"}, "node_id": {n.id}, "csr": {n.csr}})
	if status != 200 || body["device_code"] == nil {
		t.Fatalf("replayed enroll: %d %v", status, body)
	}
	status, body = postForm(t, cp, api.PathEnrollPoll, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {body["device_code"].(string)}})
	if status != 200 || body["certificate"] == nil || body["access_token"] != nil {
		t.Fatalf("replayed poll handed out a bearer token (or no certificate): %d %v", status, body)
	}

	// The access token is this node's credential where mTLS can't pass.
	var me api.NodeSelf
	if _, err := call(t, cp.Client(), "GET", cp.URL+api.PathNodeSelf, nil, &me, "Authorization", "Bearer "+tok.AccessToken); err != nil || me.NodeID != n.id {
		t.Fatalf("node/self with the access token: %+v, %v", me, err)
	}
	_, err = call(t, cp.Client(), "GET", cp.URL+api.PathNodeSelf, nil, nil, "Authorization", "Bearer "+tok.AccessToken[:len(tok.AccessToken)-2]+"AA")
	wantCode(t, err, api.CodeUnauthorized)
	// A renewal needs the key itself (mutual TLS), not the token.
	_, err = call(t, cp.Client(), "POST", cp.URL+api.PathNodeRenew, api.RenewRequest{CSR: n.withNewKey(t).csr}, nil, "Authorization", "Bearer "+tok.AccessToken)
	wantCode(t, err, api.CodeUnauthorized)
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathNodeDeregister, nil, nil, "Authorization", "Bearer "+tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err = call(t, cp.Client(), "GET", cp.URL+api.PathNodeSelf, nil, nil, "Authorization", "Bearer "+tok.AccessToken)
	wantCode(t, err, api.CodeCertificateRevoked)
}
