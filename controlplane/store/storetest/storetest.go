// Package storetest is the conformance suite every store.Store
// implementation passes: each operation of store.Tx, each documented error
// (store.ErrNotFound, store.ErrConflict, store.ErrClosed, a cancelled
// context), what expiry and retention delete, and the races the control
// plane relies on the store to settle (a single-use token used once, one
// License per code, at most three competing enrollments per node ID, a
// pairing key or a TOTP step used once, the cap on pending enrollments).
//
// An implementation's test calls Run with a function that opens a new,
// empty store, and RunShared with one that opens two stores on one new
// database (replicas; a server and a command line tool on one file):
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// Open returns a new, empty store for one subtest. Run closes it.
type Open func(t *testing.T) store.Store

// Run runs the whole suite, each case as a parallel subtest on a store of
// its own.
func Run(t *testing.T, open Open) { run(t, open, groups) }

// group is a named list of cases.
type group struct {
	name  string
	cases []testCase
}

// groups is the whole suite.
var groups = []group{
	{"Transactions", transactionCases},
	{"Enrollments", enrollmentCases},
	{"Nodes", nodeCases},
	{"Tokens", tokenCases},
	{"Sites", siteCases},
	{"Events", eventCases},
	{"NodeCerts", certCases},
	{"Users", userCases},
	{"Sessions", sessionCases},
	{"Races", raceCases},
	{"PendingCap", pendingCapCases},
	{"Edges", edgeCases},
}

// run runs the cases of gs.
func run(t *testing.T, open Open, gs []group) {
	for _, g := range gs {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					st := open(t)
					t.Cleanup(func() { st.Close() })
					c.run(t, st)
				})
			}
		})
	}
}

// testCase is one subtest: it gets a new, empty store.
type testCase struct {
	name string
	run  func(t *testing.T, st store.Store)
}

// t0 is the suite's clock origin. Times are kept to the microsecond (the
// precision every implementation keeps), in UTC.
var t0 = time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// update runs fn in an Update and fails the test on an error.
func update(t *testing.T, st store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on an error.
func view(t *testing.T, st store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := st.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// get reads one value in a View and fails the test on an error.
func get[T any](t *testing.T, st store.Store, fn func(store.Tx) (T, error)) T {
	t.Helper()
	var v T
	view(t, st, func(tx store.Tx) (err error) { v, err = fn(tx); return err })
	return v
}

// change runs fn in an Update, fails the test on an error, and returns
// fn's value.
func change[T any](t *testing.T, st store.Store, fn func(store.Tx) (T, error)) T {
	t.Helper()
	var v T
	update(t, st, func(tx store.Tx) (err error) { v, err = fn(tx); return err })
	return v
}

// put writes each of vs in one Update with fn.
func put[T any](t *testing.T, st store.Store, fn func(store.Tx, T) error, vs ...T) {
	t.Helper()
	update(t, st, func(tx store.Tx) error {
		for _, v := range vs {
			if err := fn(tx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// notFound checks that fn, run in a View, returns store.ErrNotFound.
func notFound[T any](t *testing.T, st store.Store, what string, fn func(store.Tx) (T, error)) {
	t.Helper()
	err := st.View(context.Background(), func(tx store.Tx) error { _, err := fn(tx); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: err %v, want store.ErrNotFound", what, err)
	}
}

// conflict checks that fn, run in an Update, returns store.ErrConflict
// and leaves nothing behind (fn's earlier writes included).
func conflict(t *testing.T, st store.Store, what string, fn func(store.Tx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); !errors.Is(err, store.ErrConflict) {
		t.Errorf("%s: err %v, want store.ErrConflict", what, err)
	}
}

// same fails the test unless got and want are equal once normalised:
// times compared as instants, empty maps and slices as nil.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := normal(reflect.ValueOf(got)), normal(reflect.ValueOf(want))
	if !reflect.DeepEqual(g.Interface(), w.Interface()) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// normal returns a copy of v with every time in UTC and every empty map or
// slice nil.
func normal(v reflect.Value) reflect.Value {
	switch {
	case !v.IsValid():
		return v
	case v.Type() == timeType:
		return reflect.ValueOf(v.Interface().(time.Time).UTC())
	}
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			out.Field(i).Set(normal(v.Field(i)))
		}
	case reflect.Slice:
		if v.Len() == 0 {
			return out
		}
		out.Set(reflect.MakeSlice(v.Type(), v.Len(), v.Len()))
		for i := range v.Len() {
			out.Index(i).Set(normal(v.Index(i)))
		}
	case reflect.Map:
		if v.Len() == 0 {
			return out
		}
		out.Set(reflect.MakeMap(v.Type()))
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), normal(it.Value()))
		}
	default:
		out.Set(v)
	}
	return out
}
