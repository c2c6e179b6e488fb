package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/userdata"
)

// env is what every command shares once flags and config are read.
type env struct {
	g        globals
	cfg      config.Config
	cfgProbs config.Problems
	// cfgOnStderr: the config problems went to stderr, so the status
	// output (stdout, maybe JSON) does not repeat them.
	cfgOnStderr bool
	store       regclient.Store
	nodeID      string
	idSource    regclient.IDSource
	stateErr    error // state dir not writable, or node ID not saved
	net         netconfig.Reader
	log         *slog.Logger
	logFile     string
	logCloser   io.Closer
	make_       string
	model       string
	dmiDir      string
	linkWait    time.Duration // how long network changes wait for a missing interface (0: netconfig's default)
	demo        *demoEnv
	cleanup     []func()
	logw        lateWriter

	// lldp holds the LLDP neighbours the console hears (nil outside the
	// console): the status and the Network screen read them.
	lldp *netconfig.LLDPTable
	// proxy is the proxy the console's background work uses: the
	// config's until Site settings saves another.
	proxy liveProxy
}

// registered finishes what a crash left in the state dir (Recover) and
// reports whether the node is registered; when it is, a config without an
// endpoint uses the one the node registered with. op names the command in
// an error.
func (e *env) registered(op string) (bool, error) {
	st, _, err := e.store.Recover()
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if st.State != regclient.Registered {
		return false, nil
	}
	if e.cfg.Site.Endpoint == "" {
		e.cfg.Site.Endpoint = st.Endpoint
	}
	return true, nil
}

func (e *env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

// envOpts says what a command needs from newEnv.
type envOpts struct {
	// log opens the log file (in the state dir unless --log).
	log bool
	// readOnly never creates the state dir or a file in it (status,
	// network show): a missing state dir is an error, "not initialised".
	readOnly bool
	// problems, when set, receives each config problem as one line (the
	// CLI commands' stderr); the console shows them itself.
	problems io.Writer
}

// newEnv reads the config, the state dir and the node ID. It fails only on
// what leaves nothing to show (and on a --config file that does not exist,
// which is bad input); everything else becomes a problem line.
func newEnv(ctx context.Context, g globals, o envOpts) (*env, error) {
	wantLog := o.log && !o.readOnly
	if err := g.checkConfigFlag(); err != nil {
		return nil, err
	}
	e := &env{g: g, dmiDir: "/sys/class/dmi/id"}
	if g.demo {
		// The state dir moves into the demo dir, and so does the log.
		d, err := newDemo(ctx, g, e.lazyLog())
		if err != nil {
			return nil, err
		}
		e.demo = d
		e.cleanup = append(e.cleanup, d.close)
		e.g.stateDir = d.stateDir
		g = e.g
	}
	// A config path given on the command line must exist; the default one
	// may be missing (a laptop, a fresh image).
	e.cfg, e.cfgProbs = config.Load(g.configPath, !g.configSet)
	if e.demo != nil {
		e.demo.apply(&e.cfg)
	}
	if g.endpoint != "" {
		e.cfg.Site.Endpoint = g.endpoint
	}
	for _, p := range e.cfgProbs {
		if o.problems != nil {
			fmt.Fprintln(o.problems, "nodeconsole: config: "+p.String())
			e.cfgOnStderr = true
		}
	}
	e.store = regclient.Store{Dir: g.stateDir}
	if o.readOnly {
		if fi, err := os.Stat(g.stateDir); err != nil || !fi.IsDir() {
			e.close()
			return nil, fmt.Errorf("state dir %s not initialised (the console or 'nodeconsole register' creates it)", g.stateDir)
		}
	} else {
		e.stateErr = e.store.Writable()
	}

	if wantLog {
		e.openLog()
	} else {
		e.log = slog.New(slog.DiscardHandler)
	}

	src := regclient.DefaultIDSources(e.cfg.Node.Name)
	ensure := e.store.EnsureNodeID
	if o.readOnly {
		ensure = e.store.ReadNodeID
	}
	id, from, err := ensure(src)
	if err != nil && id == "" {
		// The state file is unreadable: show a derived ID, and say so.
		id, from, _ = regclient.DeriveNodeID(src)
		e.stateErr = err
	} else if err != nil && e.stateErr == nil {
		e.stateErr = err
	}
	e.nodeID, e.idSource = id, from

	e.make_, e.model = e.cfg.Node.Make, e.cfg.Node.Model
	if e.make_ == "" || e.model == "" {
		v, p := nodestatus.ReadDMI(e.dmiDir)
		if e.make_ == "" {
			e.make_ = v
		}
		if e.model == "" {
			e.model = p
		}
	}
	if e.demo != nil {
		e.net = e.demo.net
	} else {
		e.net = netconfig.NewReader(e.cfg.Network.ResolvConf)
	}
	e.log.Info("start", "version", version, "nodeId", e.nodeID, "nodeIdSource", string(from),
		"stateDir", g.stateDir, "config", g.configPath, "demo", g.demo)
	for _, p := range e.cfgProbs {
		e.log.Warn("config problem", "problem", p.String())
	}
	return e, nil
}

// lazyLog is a writer that forwards to the log file once openLog has run
// (the demo control plane starts before the log file's directory exists).
func (e *env) lazyLog() io.Writer { return &e.logw }

// lateWriter forwards writes to w once set, and drops them before.
type lateWriter struct{ w io.Writer }

func (l *lateWriter) Write(p []byte) (int, error) {
	if l.w == nil {
		return len(p), nil
	}
	return l.w.Write(p)
}

// openLog opens the JSON log file: --log, else STATE/nodeconsole.log. A log
// that cannot be opened is not fatal: logging goes nowhere and the console
// says so.
func (e *env) openLog() {
	path := e.g.logFile
	if path == "" {
		path = filepath.Join(e.g.stateDir, "nodeconsole.log")
	}
	e.logFile = path
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		e.log = slog.New(slog.DiscardHandler)
		e.logFile = fmt.Sprintf("%s (cannot open: %v)", path, err)
		return
	}
	e.logCloser = f
	e.logw.w = f
	e.cleanup = append(e.cleanup, func() { f.Close() })
	e.log = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (e *env) collector() nodestatus.Collector {
	var probs []string
	if !e.cfgOnStderr {
		for _, p := range e.cfgProbs {
			probs = append(probs, "config: "+p.String())
		}
	}
	if e.stateErr != nil {
		probs = append(probs, "state dir: "+oneLine(e.stateErr))
	}
	var boot func() (time.Time, error) // nil: this boot's (/proc/stat)
	if e.demo != nil {
		boot = e.demo.bootTime
	}
	c := nodestatus.Collector{
		BootTime: boot,
		NodeID:   e.nodeID, Make: e.make_, Model: e.model, Version: version,
		Endpoint: e.cfg.Site.Endpoint, Net: netconfig.WithLLDP(e.net, e.lldp), State: e.store, Problems: probs,
		UserData: func() (string, string) {
			rec, err := userdata.LoadRecord(e.g.stateDir)
			if err != nil {
				return "", "user data: " + oneLine(err)
			}
			return rec.Note(time.Local)
		},
	}
	if e.demo != nil {
		// The demo never renames the host: its host name is the one
		// Site settings (or network hostname) wrote, else the host's.
		site := e.site()
		c.Hostname = func() (string, error) {
			if h, err := site.Hostname(); err == nil && h != "" {
				return h, nil
			}
			return os.Hostname()
		}
	}
	return c
}
