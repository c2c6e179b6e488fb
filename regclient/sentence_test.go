package regclient

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
)

// TestErrorKeepsCause: the log (Error) keeps the underlying cause, the
// operator's sentence (Sentence) does not carry it.
func TestErrorKeepsCause(t *testing.T) {
	c, err := New(Options{Endpoint: "https://127.0.0.1:1"}) // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Enroll(context.Background(), api.EnrollRequest{})
	var e *Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Fatalf("want an *Error with a cause, got %#v", err)
	}
	if !strings.Contains(err.Error(), e.Err.Error()) {
		t.Errorf("Error() %q drops the cause %q", err.Error(), e.Err.Error())
	}
	if s := Sentence(err); strings.Contains(s, e.Err.Error()) || strings.HasPrefix(s, "regclient:") {
		t.Errorf("Sentence %q carries the detail", s)
	}
}
