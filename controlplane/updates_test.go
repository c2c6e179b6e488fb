package controlplane_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

func TestUpdateOffer(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"nodeconsole-1.2.0-amd64": "old", "nodeconsole-1.10.0-amd64": "new", "nodeconsole-2.0.0-arm64": "arm", "README": "x",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp := cptest.NewWith(t, controlplane.Options{UpdatesDir: dir})
	var offer api.UpdateOffer
	resp, err := call(t, cp.Client(), "GET", cp.URL+api.PathUpdate+"?version=1.9.0&arch=amd64", nil, &offer)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("update: %v", err)
	}
	sum := sha256.Sum256([]byte("new"))
	if offer.Version != "1.10.0" || offer.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasSuffix(offer.URL, "/updates/nodeconsole-1.10.0-amd64") {
		t.Fatalf("offer = %+v", offer)
	}
	dl, err := cp.Client().Get(offer.URL)
	if err != nil || dl.StatusCode != 200 {
		t.Fatalf("download: %v", err)
	}
	dl.Body.Close()
	if resp, _ := call(t, cp.Client(), "GET", cp.URL+api.PathUpdate+"?version=1.10.0&arch=amd64", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("up to date: status %d", resp.StatusCode)
	}
	_, err = call(t, cp.Client(), "GET", cp.URL+api.PathUpdate, nil, nil)
	wantCode(t, err, api.CodeInvalidRequest)
}

// The offer hashes a build once, not per request: the sum is reused while
// the file's size and modification time stay the same.
func TestUpdateOfferHashesOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nodeconsole-2.0.0-amd64")
	if err := os.WriteFile(path, []byte("build-one"), 0o644); err != nil {
		t.Fatal(err)
	}
	cp := cptest.NewWith(t, controlplane.Options{UpdatesDir: dir})
	offer := func() string {
		var o api.UpdateOffer
		if _, err := call(t, cp.Client(), "GET", cp.URL+api.PathUpdate+"?version=1.0.0&arch=amd64", nil, &o); err != nil {
			t.Fatal(err)
		}
		return o.SHA256
	}
	first := offer()
	fi, _ := os.Stat(path)
	// Same size, same modification time: not read again.
	if err := os.WriteFile(path, []byte("build-two"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	if got := offer(); got != first {
		t.Fatalf("the build was hashed again: %s then %s", first, got)
	}
	// A new build (another size) is hashed.
	if err := os.WriteFile(path, []byte("build-three"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("build-three"))
	if got := offer(); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("new build: sum %s", got)
	}
}
