package notify

import "testing"

// Publish wakes the subscribers of its key only; PublishAll wakes all;
// an unsubscribed channel is never closed.
func TestHub(t *testing.T) {
	h := NewHub()
	a1, _ := h.Subscribe("a")
	a2, _ := h.Subscribe("a")
	b, _ := h.Subscribe("b")
	gone, unsubscribe := h.Subscribe("a")
	unsubscribe()
	h.Publish("a")
	<-a1
	<-a2
	for name, ch := range map[string]<-chan struct{}{"b": b, "unsubscribed": gone} {
		select {
		case <-ch:
			t.Errorf("Publish(a) closed %s", name)
		default:
		}
	}
	h.Publish("a") // nobody left: nothing to do
	c, _ := h.Subscribe("c")
	h.PublishAll()
	<-b
	<-c
}

// SubscribeFunc's functions run once per Publish of their key; a cancelled
// one (first, middle or last of its key) never runs, and the others of the
// key still do.
func TestHubFuncs(t *testing.T) {
	h := NewHub()
	calls := map[string]int{}
	sub := func(key, name string) func() {
		return h.SubscribeFunc(key, func() { calls[name]++ })
	}
	sub("k", "a")
	cancelB := sub("k", "b")
	sub("k", "c")
	cancelD := sub("k", "d")
	cancelE := sub("other", "e")
	cancelB()
	cancelD() // the newest, first in the list
	cancelE() // the only one of its key
	cancelE() // again: nothing
	h.Publish("k")
	h.Publish("k")
	h.Publish("other")
	if want := map[string]int{"a": 1, "c": 1}; len(calls) != 2 || calls["a"] != 1 || calls["c"] != 1 {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if len(h.subs) != 0 {
		t.Errorf("%d keys left after every waiter was woken or cancelled", len(h.subs))
	}
}
