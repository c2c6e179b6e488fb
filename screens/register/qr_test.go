package register

import (
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestQRDecodes: the QR code drawn in cells reads back, with a real
// decoder, as the URL it was made from, in half blocks and in ASCII.
func TestQRDecodes(t *testing.T) {
	for _, url := range []string{
		"https://cp.example.com/activate?code=BCDF-GHJK",
		api.RegisterPageURL("https://sites.example.com/register", "edge-4c4c4544004235108052b4c04f4e4a32", "BCDFGHJK"),
	} {
		for _, ascii := range []bool{false, true} {
			rows, _ := QR(url, ascii)
			if got := uitest.DecodeQR(t, rows, ascii); got != url {
				t.Errorf("ascii=%v: decoded %q, want %q", ascii, got, url)
			}
		}
	}
}
