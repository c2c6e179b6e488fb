package tui

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayering keeps issue 20's layering: cmd/nodeconsole builds the
// dependencies and imports no screen (tui wires the screens), and no Go
// file in screens/ (tests included) grows past 400 lines.
func TestLayering(t *testing.T) {
	cmd, err := filepath.Glob("../cmd/nodeconsole/*.go")
	if err != nil || len(cmd) == 0 {
		t.Fatalf("no cmd/nodeconsole sources: %v", err)
	}
	for _, f := range cmd {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/nodeconsole/nodeconsole/screens/") {
				t.Errorf("%s imports %s: cmd/nodeconsole goes through tui", f, p)
			}
		}
	}
	screens, err := filepath.Glob("../screens/*/*.go")
	if err != nil || len(screens) == 0 {
		t.Fatalf("no screens sources: %v", err)
	}
	for _, f := range screens {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(data, []byte("\n")); n > 400 {
			t.Errorf("%s has %d lines; split it (model and keys, update, commands, view) below 400", f, n)
		}
	}
}
