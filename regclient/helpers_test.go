package regclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Independent re-statements of the hashing rules, so the table above checks
// the documented derivation rather than echoing the implementation.
func hashName(name string) string {
	sum := sha256.Sum256([]byte("nodeconsole node name\x00" + name))
	return hex.EncodeToString(sum[:])[:32]
}

func hashMachine(id string) string {
	m := hmac.New(sha256.New, []byte("nodeconsole node id"))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))[:32]
}
