package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// pruneEvery spaces the retention passes Serve runs.
const pruneEvery = time.Minute

// nodeCertRetention is how long the record of an expired node certificate
// is kept.
const nodeCertRetention = 24 * time.Hour

// Prune applies retention once: enrollments that expired or ended
// (cancelled, denied, superseded) more than PendingRetention ago are deleted
// with their CSRs, then nodes that only ever enrolled (pending, not
// pre-added, never registered) and have no enrollment left; events older
// than EventRetention or beyond the newest MaxEvents. Serve runs it every
// minute.
func (s *Server) Prune(ctx context.Context) error {
	now := s.now()
	var res store.PruneResult
	var certs int64
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		res, err = tx.Prune(store.Prune{
			EnrollmentsBefore: now.Add(-s.opts.PendingRetention),
			EventsBefore:      now.Add(-s.opts.EventRetention),
			MaxEvents:         s.opts.MaxEvents,
		})
		if err != nil {
			return err
		}
		// An expired certificate leaves the CRL; its record goes a day
		// later (package crl).
		certs, err = tx.PruneNodeCerts(now.Add(-nodeCertRetention))
		return err
	})
	if err != nil {
		return fmt.Errorf("controlplane: retention: %w", err)
	}
	if res != (store.PruneResult{}) || certs > 0 {
		s.log.Info("retention", "enrollments", res.Enrollments, "nodes", res.Nodes, "events", res.Events, "certificates", certs)
	}
	return nil
}

// pruner runs Prune every pruneEvery until ctx is done.
func (s *Server) pruner(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if err := s.Prune(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("retention", "err", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
