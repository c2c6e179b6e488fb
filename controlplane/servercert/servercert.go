// Package servercert holds the control plane's HTTPS server certificate
// material: the key of the certificate the server makes itself with its
// CA, kept in the data directory so it survives restarts (LoadOrCreateKey),
// or a certificate and key of the operator's (--tls-cert, --tls-key), read
// again when either file changes (Files).
package servercert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// KeyFile holds the key of the server certificate the control plane
// makes itself (without --tls-cert): it survives restarts, so a client
// that pinned the server key keeps working.
const KeyFile = "server-key.pem"

// LoadOrCreateKey reads the server key in dir (KeyFile), creating it
// (0600) on first start.
func LoadOrCreateKey(dir string) (*ecdsa.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("controlplane: load server key %s: not PEM", path)
		}
		key, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("controlplane: parse server key %s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("controlplane: read server key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("controlplane: generate server key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("controlplane: encode server key: %w", err)
	}
	if err := atomicfile.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("controlplane: write server key: %w", err)
	}
	return key, nil
}

// Files serves the certificate of --tls-cert/--tls-key, read again when
// either file changes (a renewed certificate is used without a restart; a
// broken pair keeps the last good one). It is safe for concurrent use.
type Files struct {
	certPath, keyPath string

	mu       sync.Mutex
	cert     *tls.Certificate
	certStat fileStamp
	keyStat  fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size()}
}

// OpenFiles reads the certificate (chain) in certPath and its key in
// keyPath; it fails unless they make a pair.
func OpenFiles(certPath, keyPath string) (*Files, error) {
	c := &Files{certPath: certPath, keyPath: keyPath}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Files) load() error {
	cs, ks := stamp(c.certPath), stamp(c.keyPath)
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("controlplane: load TLS certificate %s and key %s: %w", c.certPath, c.keyPath, err)
	}
	c.cert, c.certStat, c.keyStat = &cert, cs, ks
	return nil
}

// GetCertificate is tls.Config.GetCertificate: the pair as the files
// hold it now, or the last good one.
func (c *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp(c.certPath) != c.certStat || stamp(c.keyPath) != c.keyStat {
		c.load() // on failure the last good pair stays
	}
	return c.cert, nil
}
