package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// An Update that runs alone (writeLock held exclusively, taken before its
// transaction and so before its snapshot) never meets a serialization
// failure, with ordinary Updates starting beside it all the time; and a
// counted cap still holds.
func TestAloneIsSerial(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const limit, tries = 3, 32
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	errs := make(chan error, tries)
	for i := range tries {
		wg.Go(func() {
			fn := func(tx store.Tx) error {
				n, err := tx.CountPending(now, "")
				if err != nil || n >= limit {
					return err
				}
				return tx.PutEnrollment(store.Enrollment{ID: fmt.Sprint("e", i), NodeID: fmt.Sprint("n", i),
					DeviceCodeHash: fmt.Sprint("d", i), UserCode: fmt.Sprint("c", i), State: store.EnrollPending, ExpiresAt: now.Add(time.Hour)})
			}
			if i%2 == 0 {
				err := st.attempt(ctx, true, true, fn)
				errs <- err
			} else {
				errs <- st.Update(ctx, fn)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := st.View(ctx, func(tx store.Tx) (err error) { n, err = tx.CountPending(now, ""); return err }); err != nil {
		t.Fatal(err)
	}
	if n != limit {
		t.Errorf("%d pending stored against a cap of %d", n, limit)
	}
}
