package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nodeconsole/nodeconsole/proxyurl"
)

// MergeBytes decodes one YAML document named name (a file path, or
// "user-data" and the like) onto cfg. Keys it does not set keep their value,
// so calling it once per file merges them in order. A bad value loses only
// its own key; every problem carries name, line and dotted key.
func MergeBytes(cfg *Config, name string, data []byte) Problems {
	return mergeBytes(cfg, name, data, false)
}

func mergeBytes(cfg *Config, name string, data []byte, userData bool) Problems {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Problems{{File: name, Line: yamlErrLine(err), Msg: "not valid YAML: " + yamlErrMsg(err)}}
	}
	if len(root.Content) == 0 {
		return nil // empty file
	}
	return mergeNode(cfg, name, root.Content[0], userData)
}

// MergeNode is MergeBytes for a node already parsed, such as the
// `nodeconsole:` section of a cloud-init user-data file, so that lines are
// those of the whole file. A null node sets nothing.
func MergeNode(cfg *Config, name string, n *yaml.Node) Problems {
	return mergeNode(cfg, name, n, false)
}

// MergeUserData is MergeNode for user data (the `nodeconsole:` section,
// or the drop-in written from it): a key naming a command the node runs
// or a file it writes (LocalOnly) is a problem and is not applied.
// Whoever can plug in a CIDATA stick or set cloud user data must not
// choose what the console runs, nor where it writes; only the node's own
// config files set those.
func MergeUserData(cfg *Config, name string, n *yaml.Node) Problems {
	return mergeNode(cfg, name, n, true)
}

func mergeNode(cfg *Config, name string, n *yaml.Node, userData bool) Problems {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return Problems{{File: name, Line: n.Line, Msg: "must be a mapping of sections (" + strings.Join(sectionNames(), ", ") + ")"}}
	}
	d := decoder{file: name, userData: userData}
	d.mapping(n, "", reflect.ValueOf(cfg).Elem())
	return d.probs
}

func sectionNames() []string {
	t := reflect.TypeFor[Config]()
	var names []string
	for i := range t.NumField() {
		names = append(names, yamlName(t.Field(i)))
	}
	return names
}

// decoder walks a YAML node and a Go value side by side, driven by the
// struct's yaml tags, and applies each key's `check` tag (see checks).
type decoder struct {
	file     string
	userData bool // refuse LocalOnly keys (MergeUserData)
	probs    Problems
}

func (d *decoder) add(n *yaml.Node, key, msg string) {
	d.probs = append(d.probs, Problem{File: d.file, Line: n.Line, Key: key, Msg: msg})
}

var durationType = reflect.TypeFor[time.Duration]()

// yamlName is a struct field's key: its yaml tag, which every field of the
// config types has (TestEveryFieldDecoded checks it).
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// mapping decodes a mapping node onto the struct v key by key.
func (d *decoder) mapping(n *yaml.Node, key string, v reflect.Value) {
	if isNull(n) {
		return // an empty section
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, key, "must be a mapping")
		return
	}
	t := v.Type()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i].Value, n.Content[i+1]
		f, ok := fieldByKey(t, k)
		if !ok {
			d.add(n.Content[i], join(key, k), "unknown key")
			continue
		}
		if what := localWhat[f.Tag.Get("local")]; d.userData && what != "" {
			d.add(n.Content[i], join(key, k), what+", which user data may not set; set it in "+DefaultPath+" or a config.d file")
			continue
		}
		d.value(val, join(key, k), v.FieldByIndex(f.Index), f.Tag.Get("check"))
	}
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// value decodes n into dst, which keeps its value when n is bad.
func (d *decoder) value(n *yaml.Node, key string, dst reflect.Value, check string) {
	if dst.Kind() == reflect.Struct {
		d.mapping(n, key, dst)
		return
	}
	tmp := reflect.New(dst.Type()).Elem()
	if !d.decode(n, key, tmp) {
		return
	}
	if check != "" {
		if !d.check(n, key, tmp, check) {
			return
		}
	}
	if dst.Kind() == reflect.Map && !tmp.IsNil() && tmp.Type().Elem().Kind() == reflect.Struct {
		// models: entries merge by name across files.
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		for _, k := range tmp.MapKeys() {
			dst.SetMapIndex(k, tmp.MapIndex(k))
		}
		return
	}
	dst.Set(tmp)
}

// decode decodes n into v (a zero value); false when n has the wrong shape,
// which it reports.
func (d *decoder) decode(n *yaml.Node, key string, v reflect.Value) bool {
	switch {
	case v.Type() == durationType:
		if n.Kind != yaml.ScalarNode {
			d.add(n, key, "must be a duration such as 15m")
			return false
		}
		if isNull(n) || n.Value == "0" {
			return true
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil || dur < 0 {
			d.add(n, key, fmt.Sprintf("must be a duration such as 15m, not %q", n.Value))
			return false
		}
		v.SetInt(int64(dur))
		return true
	case v.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(n, key, "must be a string")
			return false
		}
		if !isNull(n) {
			v.SetString(n.Value)
		}
		return true
	case v.Kind() == reflect.Bool, v.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			d.add(n, key, "must be "+map[reflect.Kind]string{reflect.Bool: "true or false", reflect.Int: "a whole number"}[v.Kind()])
			return false
		}
		return true
	case v.Kind() == reflect.Slice:
		if isNull(n) {
			return true
		}
		if n.Kind != yaml.SequenceNode {
			d.add(n, key, "must be a list of "+map[bool]string{true: "strings", false: "values"}[v.Type().Elem().Kind() == reflect.String]+", in brackets: [a, b]")
			return false
		}
		v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
		ok := true
		for i, item := range n.Content {
			ok = d.decode(item, fmt.Sprintf("%s[%d]", key, i), v.Index(i)) && ok
		}
		return ok
	case v.Kind() == reflect.Map:
		if isNull(n) {
			return true
		}
		if n.Kind != yaml.MappingNode {
			d.add(n, key, "must be a mapping")
			return false
		}
		v.Set(reflect.MakeMap(v.Type()))
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			e := reflect.New(v.Type().Elem()).Elem()
			if e.Kind() == reflect.Struct {
				// A bad key of an entry loses only that key.
				d.mapping(n.Content[i+1], join(key, k), e)
			} else {
				ok = d.decode(n.Content[i+1], join(key, k), e) && ok
			}
			v.SetMapIndex(reflect.ValueOf(k), e)
		}
		return ok
	}
	panic(fmt.Sprintf("config: %s: no decoder for %s", key, v.Type()))
}

// check applies a `check` tag to a decoded value; false when it is bad,
// which it reports. The checks:
//
//	https         an https URL (see ValidEndpoint); empty is allowed
//	proxy         a proxy URL (proxyurl.Parse); empty is allowed
//	noproxy       a no-proxy list (proxyurl.ValidateNoProxy)
//	abspath       an absolute path
//	oneof=a|b|c   one of the words; empty means the first
//	text          printable text (a string, or a map's keys and values):
//	              it is shown on the console, which control characters
//	              would drive
func (d *decoder) check(n *yaml.Node, key string, v reflect.Value, check string) bool {
	name, arg, _ := strings.Cut(check, "=")
	s := v.String()
	var msg string
	switch name {
	case "text":
		texts := []string{s}
		if v.Kind() == reflect.Map {
			texts = nil
			for _, k := range v.MapKeys() {
				texts = append(texts, k.String(), v.MapIndex(k).String())
			}
		}
		if slices.ContainsFunc(texts, func(t string) bool { return escapeControl(t) != t }) {
			msg = "must be printable text, without control characters"
		}
	case "https":
		if s != "" {
			msg = endpointProblem(s)
		}
	case "proxy":
		if strings.TrimSpace(s) != "" {
			if _, err := proxyurl.Parse(s); err != nil {
				msg = err.Error() // never quotes the URL, which may hold a password
			}
		}
	case "noproxy":
		if err := proxyurl.ValidateNoProxy(s); err != nil {
			msg = err.Error()
		}
	case "abspath":
		if !strings.HasPrefix(s, "/") {
			msg = fmt.Sprintf("must be an absolute path, not %q", s)
		}
	case "oneof":
		words := strings.Split(arg, "|")
		if s == "" {
			v.SetString(words[0])
		} else if !slices.Contains(words, s) {
			msg = fmt.Sprintf("must be one of %s, not %q", strings.Join(words, ", "), s)
		}
	default:
		panic("config: " + key + ": unknown check " + check)
	}
	if msg != "" {
		d.add(n, key, msg)
		return false
	}
	return true
}

func yamlErrLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line); e == nil {
		return line
	}
	return 0
}

func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(s, ": "); strings.HasPrefix(s, "line ") && i > 0 {
		s = s[i+2:]
	}
	return s
}

// localWhat words a `local` tag for the problem of user data setting it.
var localWhat = map[string]string{"command": "names a command the node runs", "file": "names a file the node writes"}

// LocalOnly says whether a dotted key ("console.rebootCommand") may be set
// only by the node's own config files, not by user data: "command" for a
// key naming a command the node runs, "file" for one naming a file it
// writes (their `local` tag), "" for any other key.
func LocalOnly(key string) string {
	section, name, ok := strings.Cut(key, ".")
	if !ok {
		return ""
	}
	s, ok := fieldByKey(reflect.TypeFor[Config](), section)
	if !ok || s.Type.Kind() != reflect.Struct {
		return ""
	}
	f, ok := fieldByKey(s.Type, name)
	if !ok {
		return ""
	}
	return f.Tag.Get("local")
}
