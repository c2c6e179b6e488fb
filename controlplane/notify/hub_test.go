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
