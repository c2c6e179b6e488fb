package controlplane

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// Update offers: Options.UpdatesDir holds builds named
// "nodeconsole-VERSION-ARCH" (for example nodeconsole-1.4.0-amd64). GET
// api.PathUpdate?version=V&arch=A offers the highest VERSION for ARCH that is
// newer than V, served from pathUpdateFiles.
const pathUpdateFiles = "/updates/"

const updatePrefix = "nodeconsole-"

// parseUpdateName splits "nodeconsole-1.4.0-amd64" into version and arch.
func parseUpdateName(name string) (version, arch string, ok bool) {
	rest, found := strings.CutPrefix(name, updatePrefix)
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// compareVersions compares dotted numeric versions ("v1.10.2" > "1.9");
// a part that is not a number compares as 0.
func compareVersions(a, b string) int {
	pa := strings.Split(strings.TrimPrefix(a, "v"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	current, arch := r.URL.Query().Get("version"), r.URL.Query().Get("arch")
	if current == "" || arch == "" {
		writeError(w, s.log, r, errorf(api.CodeInvalidRequest, "query parameters version and arch are required"))
		return
	}
	if s.opts.UpdatesDir == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	entries, err := os.ReadDir(s.opts.UpdatesDir)
	if err != nil {
		writeError(w, s.log, r, fmt.Errorf("read updates dir: %w", err))
		return
	}
	best, bestVersion := "", current
	for _, e := range entries {
		v, a, ok := parseUpdateName(e.Name())
		if ok && e.Type().IsRegular() && a == arch && compareVersions(v, bestVersion) > 0 {
			best, bestVersion = e.Name(), v
		}
	}
	if best == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sum, err := s.hashes.sum(filepath.Join(s.opts.UpdatesDir, best))
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.UpdateOffer{Version: bestVersion, URL: s.baseURL(r) + pathUpdateFiles + best, SHA256: sum})
}

func (s *Server) handleUpdateFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if _, _, ok := parseUpdateName(name); !ok || s.opts.UpdatesDir == "" || strings.ContainsAny(name, `/\`) {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, filepath.Join(s.opts.UpdatesDir, name))
}

// hashCache remembers the SHA-256 of offered builds, so a build is hashed
// once, not on every request (an unauthenticated one could otherwise make
// the server read a large file per request). An entry is reused while the
// file's size and modification time are unchanged.
type hashCache struct {
	mu sync.Mutex
	m  map[string]hashEntry
}

type hashEntry struct {
	size int64
	mod  time.Time
	sum  string
}

// sum is the hex SHA-256 of the file at path.
func (c *hashCache) sum(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock() // one hash at a time: concurrent requests wait for it
	if e, ok := c.m[path]; ok && e.size == fi.Size() && e.mod.Equal(fi.ModTime()) {
		return e.sum, nil
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return "", err
	}
	if c.m == nil || len(c.m) > 1000 {
		c.m = map[string]hashEntry{}
	}
	c.m[path] = hashEntry{size: fi.Size(), mod: fi.ModTime(), sum: sum}
	return sum, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
