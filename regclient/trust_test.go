package regclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
)

// fakeEnroll is a control plane that answers enroll with answer(req) and
// records the requests.
type fakeEnroll struct {
	mu     sync.Mutex
	reqs   []api.EnrollRequest
	answer func(req api.EnrollRequest) api.EnrollResponse
}

func (f *fakeEnroll) handler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != api.PathEnroll {
		http.NotFound(w, r)
		return
	}
	var req api.EnrollRequest
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	json.NewEncoder(w).Encode(f.answer(req))
}

func pendingAnswer(api.EnrollRequest) api.EnrollResponse {
	return api.EnrollResponse{DeviceCode: "dc", UserCode: "BCDF-GHJK", VerificationURI: "https://cp/activate",
		VerificationURIComplete: "https://cp/activate?code=BCDF-GHJK", ExpiresIn: 900, Interval: 2, Status: "pending"}
}

// The pairing key goes with the enrollment and nowhere else (not the log,
// not state.json); the code comes with this node key's fingerprint, saved
// with the pending state and given back when the code is resumed.
func TestEnrollPairingKeyAndFingerprint(t *testing.T) {
	const pairingKey = "pk_7Hq2-secret-pairing-key"
	f := &fakeEnroll{answer: pendingAnswer}
	_, c := faultServer(t, f.handler)
	var logs bytes.Buffer
	dir := t.TempDir()
	r := &Registrar{Client: c, Store: Store{Dir: dir}, NodeID: testNodeID, PairingKey: pairingKey,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.reqs) != 1 || f.reqs[0].PairingKey != pairingKey {
		t.Fatalf("enroll requests %+v: want the pairing key sent", f.reqs)
	}
	key, err := r.Store.LoadKey()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := api.KeyFingerprint(&key.PublicKey)
	if p.KeyFingerprint != want || len(want) != 24 {
		t.Fatalf("PendingCode.KeyFingerprint = %q, want %q", p.KeyFingerprint, want)
	}
	st, _ := r.Store.Load()
	if st.KeyFingerprint != want {
		t.Errorf("state.json keyFingerprint = %q, want %q", st.KeyFingerprint, want)
	}
	raw, _ := os.ReadFile(r.Store.Path(StateFile))
	if strings.Contains(string(raw), pairingKey) || strings.Contains(logs.String(), pairingKey) {
		t.Errorf("the pairing key leaked into state.json or the log:\n%s\n%s", raw, logs.String())
	}
	// A restart resumes the code with its fingerprint, without the network.
	r2 := &Registrar{Client: c, Store: Store{Dir: dir}, NodeID: testNodeID}
	p2, err := r2.Start(context.Background())
	if err != nil || !p2.Resumed || p2.KeyFingerprint != want || len(f.reqs) != 1 {
		t.Fatalf("resumed %+v, %v (%d enrolls); want the same fingerprint", p2, err, len(f.reqs))
	}
	// Without a pairing key none is sent (omitempty on the wire).
	if err := r2.Cancel(context.Background()); err != nil && !errors.Is(err, ErrNotAPI) {
		t.Fatal(err)
	}
	if _, err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.reqs[len(f.reqs)-1].PairingKey; got != "" {
		t.Errorf("pairing key %q sent without one configured", got)
	}
}

// An answer naming another key than the node's means the CSR was replaced
// on the way: the node refuses the code (a man-in-the-middle sign) and
// saves nothing; a matching fingerprint is accepted.
func TestEnrollFingerprintMismatch(t *testing.T) {
	serverFP := ""
	f := &fakeEnroll{answer: func(req api.EnrollRequest) api.EnrollResponse {
		a := pendingAnswer(req)
		a.KeyFingerprint = serverFP
		return a
	}}
	_, c := faultServer(t, f.handler)
	r := &Registrar{Client: c, Store: Store{Dir: t.TempDir()}, NodeID: testNodeID}
	serverFP = "0000 1111 2222 3333 4444"
	_, err := r.Start(context.Background())
	if !errors.Is(err, ErrKeyMismatch) || Retryable(err) || !strings.Contains(err.Error(), "saw a different key") ||
		!strings.Contains(err.Error(), "man-in-the-middle") || !strings.Contains(err.Error(), serverFP) {
		t.Fatalf("Start with a foreign fingerprint: %v; want ErrKeyMismatch naming it", err)
	}
	if st, _ := r.Store.Load(); st.State == Pending || st.UserCode != "" {
		t.Fatalf("the suspicious code was saved: %+v", st)
	}
	if _, ok := r.Current(); ok {
		t.Fatal("a session was started for the suspicious code")
	}
	serverFP, _ = r.keyFingerprint()
	p, err := r.Start(context.Background())
	if err != nil || p.KeyFingerprint != serverFP {
		t.Fatalf("Start with the matching fingerprint: %+v, %v", p, err)
	}
}
