package controlplane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// Paged lists (the events and nodes APIs and pages): events (newest first, cursor = the last ID shown) and nodes
// (by name, cursor = the last name and ID shown).

const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// pageLimit reads ?limit= (default def, at most maxPageLimit).
func pageLimit(q url.Values, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errorf(api.CodeInvalidRequest, "limit must be a positive number")
	}
	return min(n, maxPageLimit), nil
}

func badCursor() error {
	return errorf(api.CodeInvalidRequest, "cursor is not one this server gave out; start again without it")
}

// eventQuery reads ?limit=&cursor=&actor=&node=&type= of GET PathEvents
// and the events page.
func eventQuery(q url.Values, def int) (store.EventQuery, error) {
	limit, err := pageLimit(q, def)
	if err != nil {
		return store.EventQuery{}, err
	}
	eq := store.EventQuery{Limit: limit, Actor: strings.TrimSpace(q.Get("actor")), NodeID: strings.TrimSpace(q.Get("node")),
		Type: strings.TrimSpace(q.Get("type"))}
	if c := q.Get("cursor"); c != "" {
		if eq.Before, err = strconv.ParseInt(c, 10, 64); err != nil || eq.Before <= 0 {
			return store.EventQuery{}, badCursor()
		}
	}
	return eq, nil
}

// eventPage lists events matching q, newest first, with node names and
// the cursor of the next page.
func (s *Server) eventPage(ctx context.Context, q store.EventQuery) (api.EventList, error) {
	out := api.EventList{Events: []api.Event{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		evs, err := tx.EventsPage(q)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, e := range evs {
			name, seen := names[e.NodeID]
			if !seen && e.NodeID != "" {
				if n, err := tx.Node(e.NodeID); err == nil && n.Name != n.ID {
					name = n.Name
				} else if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				names[e.NodeID] = name
			}
			out.Events = append(out.Events, api.Event{ID: e.ID, Type: e.Type, NodeID: e.NodeID, NodeName: name,
				Time: e.Time.UTC(), SourceIP: e.SourceIP, Actor: e.Actor, Message: e.Message})
		}
		if len(evs) == q.Limit && len(evs) > 0 {
			out.Next = strconv.FormatInt(evs[len(evs)-1].ID, 10)
		}
		return nil
	})
	if err != nil {
		return api.EventList{}, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

func nodeCursor(n store.Node) string {
	return base64.RawURLEncoding.EncodeToString([]byte(n.Name + "\x00" + n.ID))
}

// nodePage lists up to limit nodes after cursor, by name.
func (s *Server) nodePage(ctx context.Context, limit int, cursor string) (api.NodeList, error) {
	var name, id string
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		var ok bool
		if name, id, ok = strings.Cut(string(b), "\x00"); err != nil || !ok {
			return api.NodeList{}, badCursor()
		}
	}
	out := api.NodeList{Nodes: []api.Node{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		nodes, err := tx.NodesAfter(name, id, limit)
		for _, n := range nodes {
			out.Nodes = append(out.Nodes, apiNode(n))
		}
		if len(nodes) == limit && limit > 0 {
			out.Next = nodeCursor(nodes[len(nodes)-1])
		}
		return err
	})
	if err != nil {
		return api.NodeList{}, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}
