package register

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

func TestConnectivityFailureShowsHint(t *testing.T) {
	f := newFake()
	f.checks = []Check{{Name: "DNS", OK: true}, {Name: "TLS", OK: false, Detail: "certificate signed by unknown authority (issuer: Corp Proxy CA)",
		Hint: "Add the proxy's CA to site.caCerts."}}
	d, _ := newDriver(t, uitest.TrueColor, f)
	d.Keys("enter")
	v := d.Text()
	if !strings.Contains(v, "FAIL") || !strings.Contains(v, "Corp Proxy CA") || !strings.Contains(v, "site.caCerts") {
		t.Errorf("want FAIL with the issuer and a hint:\n%s", v)
	}
	if !strings.Contains(v, "enter: try again   esc: change the values") {
		t.Errorf("the hint line must come from the key bindings:\n%s", v)
	}
}

// TestRetryableFromRegclient: whether trying again may help comes from
// regclient's error, not from a guess of the screen's.
func TestRetryableFromRegclient(t *testing.T) {
	// Nothing listens on port 1 of loopback: a retryable *regclient.Error.
	c, err := regclient.New(regclient.Options{Endpoint: "https://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, unreachable := c.Enroll(context.Background(), api.EnrollRequest{})
	if !regclient.Retryable(unreachable) {
		t.Fatalf("%v is not retryable", unreachable)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{unreachable, "busy or unreachable"},
		{&regclient.Error{Op: "enroll", Status: 503, Message: "the control plane is unavailable"}, "will not help"},
	} {
		f := newFake()
		f.startErr = tc.err
		d, _ := newDriver(t, uitest.TrueColor, f)
		d.Keys("enter")
		if !strings.Contains(d.Text(), tc.want) {
			t.Errorf("%v: want %q:\n%s", tc.err, tc.want, d.Text())
		}
	}
}

// TestStorageFailureSaysWhatToDo: a read-only state dir is worded for the
// operator, naming the directory (the command looked at the disk).
func TestStorageFailureSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	f.keyErr = fmt.Errorf("regclient: write key: %w", &fs.PathError{Op: "open", Path: filepath.Join(dir, "node.key"), Err: syscall.EROFS})
	d, _ := newDriver(t, uitest.TrueColor, f)
	d.Keys("enter")
	v := strings.Join(strings.Fields(d.Text()), " ")
	for _, want := range []string{"Cannot write to the state dir " + dir, "read-only file system", "Nothing was registered"} {
		if !strings.Contains(v, want) {
			t.Errorf("want %q:\n%s", want, d.Text())
		}
	}
	if strings.Contains(f.called(), "start") {
		t.Errorf("the steps went on after the key failed: %s", f.called())
	}
}
