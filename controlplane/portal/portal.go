// Package portal is the control plane's server-rendered web portal: log-in
// (password, two-factor code, first-login password), sessions, and the
// pages for nodes, activation, tokens, sites, users and events. It knows
// the server only through Deps, which the server hands to New.
package portal

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

//go:embed web
var webFS embed.FS

const (
	sessionCookie  = "nc_session"
	loginCSRF      = "nc_login_csrf"
	pageEventLimit = 100
)

// Portal is the server-rendered web portal. It works without JavaScript:
// every action is a form with a CSRF token, posted to the server. Every
// page names the permission it needs (access.Perm); the templates show
// only the actions the principal may take. It knows the server only
// through Deps.
type Portal struct {
	d     Deps
	pages map[string]*template.Template
	login *loginThrottle
}

// Deps is what the portal needs of the server that hands it over.
type Deps struct {
	Store store.Store
	Log   *slog.Logger
	Now   func() time.Time
	// Secret keys the MAC of device cookies (the server secret).
	Secret []byte
	// IsAdminToken reports whether tok is the admin token (the password
	// of the portal user "admin-token").
	IsAdminToken func(tok string) bool
	// SourceIP is the client address of a request.
	SourceIP func(*http.Request) string
	// FailSource is the server's failure budget per client address,
	// shared with the API's other anonymous failures.
	FailSource Limiter
	// NewLimiter makes a failure budget of burst attempts refilled one
	// per every (the server takes its replica's share).
	NewLimiter func(burst int, every time.Duration) Limiter
	// AuditFailure records a failure event, counted per source and
	// subject (e.g. the user name of a failed log-in).
	AuditFailure func(ctx context.Context, typ, subject, nodeID, ip, msg string)
	// Explain is the sentence and HTTP status of an error the server
	// made for people; ok is false for an internal error.
	Explain  func(err error) (msg string, status int, ok bool)
	Accounts Accounts
	Fleet    Fleet
}

// Limiter is a failure budget per key.
type Limiter interface {
	// Wait reports how long until key may try again; 0 means now.
	Wait(key string, now time.Time) time.Duration
	// Charge spends one attempt of key.
	Charge(key string, now time.Time)
}

// Accounts is what the pages do with users and personal API tokens (the
// server's controlplane.Accounts).
type Accounts interface {
	Users(ctx context.Context) ([]access.UserInfo, error)
	AddUser(ctx context.Context, name string, role store.Role, sites []string, password string) (string, error)
	SetDisabled(ctx context.Context, name string, disabled bool) error
	ResetPassword(ctx context.Context, name string) (string, error)
	DeleteUser(ctx context.Context, name string) error
	SetTOTP(ctx context.Context, name, secret string, step int64) error
	CreateAPIToken(ctx context.Context, user, label string, ttl time.Duration) (access.APITokenInfo, string, error)
	APITokens(ctx context.Context, user string) ([]access.APITokenInfo, error)
	RevokeAPIToken(ctx context.Context, id string) error
}

// Fleet is the server's operations that the pages call, the same the
// admin API serves; each acts as the principal on ctx and records ip.
type Fleet struct {
	Nodes      func(ctx context.Context) (api.NodeList, error)
	DeleteNode func(ctx context.Context, id, ip string) error
	AddNodes   func(ctx context.Context, req api.AddNodesRequest, ip string) (api.NodeList, error)
	// Find shows what the node with an activation code reported.
	Find func(ctx context.Context, code, ip string) (api.Activation, error)
	// Lookup is Find for the QR page: code and, when given, node ID.
	Lookup      func(ctx context.Context, code, nodeID, ip string) (api.Activation, error)
	License     func(ctx context.Context, code, nodeID string, req api.LicenseRequest, ip string) (api.LicenseResponse, error)
	Deny        func(ctx context.Context, code, ip string) (api.DenyResponse, error)
	Tokens      func(ctx context.Context) (api.TokenList, error)
	CreateToken func(ctx context.Context, req api.CreateTokenRequest, ip string) (api.CreateTokenResponse, error)
	RevokeToken func(ctx context.Context, id, ip string) error
	Sites       func(ctx context.Context) (api.SiteList, error)
	CreateSite  func(ctx context.Context, req api.CreateSiteRequest) (api.Site, error)
	DeleteSite  func(ctx context.Context, id string) error
	// Events reads an events query (limit, cursor, actor, node, type;
	// def is the default limit) and returns its page.
	Events func(ctx context.Context, q url.Values, def int) (store.EventQuery, api.EventList, error)
}

// pageData is what every template gets.
type pageData struct {
	Title    string
	Nav      string
	CSRF     string
	LoggedIn bool
	// Who is the logged-in principal (zero when logged out).
	Who    access.Principal
	Notice string
	Error  string
	// Back is a link for error pages.
	Back string
	Data any
}

// Can reports whether the logged-in principal has perm (templates hide
// what it cannot do).
func (d pageData) Can(perm string) bool {
	return d.LoggedIn && access.RoleCan(d.Who.Role, access.Perm(perm))
}

// New parses the templates; the server then registers Routes.
func New(d Deps) (*Portal, error) {
	p := &Portal{d: d, pages: map[string]*template.Template{}, login: newLoginThrottle(d.NewLimiter)}
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"statusLabel": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"eventLabel": eventLabel,
	}
	for _, name := range []string{"login", "totp", "password", "account", "totpsetup", "users", "message", "nodes", "activate", "tokens",
		"hosts", "sites", "register", "events"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("portal: parse template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// pageHandler is a portal page; d has the session's CSRF token and
// principal.
type pageHandler func(http.ResponseWriter, *http.Request, pageData)

// Routes registers the portal's pages with handle, each with the
// permission it needs.
func (p *Portal) Routes(handle func(pattern string, perm access.Perm, h http.Handler)) {
	static, _ := fs.Sub(webFS, "web/static")
	handle("GET /static/", access.PermPublic, http.StripPrefix("/static/", http.FileServerFS(static)))
	handle("GET /{$}", access.PermPublic, http.HandlerFunc(p.home))
	handle("GET /login", access.PermPublic, http.HandlerFunc(p.loginPage))
	handle("POST /login", access.PermPublic, http.HandlerFunc(p.loginSubmit))
	page := func(pattern string, perm access.Perm, h pageHandler) {
		handle(pattern, perm, p.auth(perm, store.SessionActive, h))
	}
	step := func(pattern string, stage store.SessionStage, h pageHandler) {
		handle(pattern, access.PermPublic, p.auth(access.PermPublic, stage, h))
	}
	step("GET /login/totp", store.SessionTOTP, p.totpPage)
	step("POST /login/totp", store.SessionTOTP, p.totpSubmit)
	step("GET /login/password", store.SessionPassword, p.passwordPage)
	step("POST /login/password", store.SessionPassword, p.passwordSubmit)
	handle("POST /logout", access.PermPublic, http.HandlerFunc(p.logout))
	page("GET /account", access.PermSelf, p.accountPage)
	page("POST /account/password", access.PermSelf, p.accountPassword)
	page("POST /account/sessions/end", access.PermSelf, p.endSessionSubmit)
	page("POST /account/totp", access.PermSelf, p.totpSetup)
	page("POST /account/tokens", access.PermSelf, p.tokenCreate)
	page("POST /account/tokens/revoke", access.PermSelf, p.tokenRevoke)
	page("GET /users", access.PermAdmin, p.usersPage)
	page("POST /users", access.PermAdmin, p.userAdd)
	page("POST /users/action", access.PermAdmin, p.userAction)
	page("GET /nodes", access.PermRead, p.nodesPage)
	page("POST /nodes/delete", access.PermOperate, p.deleteNode)
	page("GET "+api.PathActivatePage, access.PermOperate, p.activatePage)
	page("POST "+api.PathActivatePage, access.PermOperate, p.find)
	page("POST /activate/license", access.PermOperate, p.license)
	page("POST /activate/deny", access.PermOperate, p.deny)
	page("GET /tokens", access.PermAdmin, p.tokensPage)
	page("POST /tokens", access.PermAdmin, p.createToken)
	page("POST /tokens/revoke", access.PermAdmin, p.revokeToken)
	page("GET /hosts", access.PermOperate, p.hostsPage)
	page("POST /hosts", access.PermOperate, p.addHosts)
	page("GET /sites", access.PermRead, p.sitesPage)
	page("POST /sites", access.PermAdmin, p.createSite)
	page("POST /sites/delete", access.PermAdmin, p.deleteSite)
	page("GET "+api.PathRegisterPage, access.PermRegister, p.registerPage)
	page("POST "+api.PathRegisterPage, access.PermRegister, p.register)
	page("GET /events", access.PermRead, p.eventsPage)
}

// render writes a page with security headers.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Cookie realm="nodeconsole", form-action="/login"`)
	}
	w.WriteHeader(status)
	if err := p.pages[page].ExecuteTemplate(w, "layout", d); err != nil {
		p.d.Log.Error("render portal page", "page", page, "err", err)
	}
}

// renderMessage is a page that says what happened and links back.
func (p *Portal) renderMessage(w http.ResponseWriter, r *http.Request, status int, d pageData, title, msg, back string) {
	d.Title, d.Nav, d.Error, d.Back = title, "", msg, back
	p.render(w, r, status, "message", d)
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// stagePage is where a session at stage continues.
func stagePage(stage store.SessionStage) string {
	switch stage {
	case store.SessionTOTP:
		return "/login/totp"
	case store.SessionPassword:
		return "/login/password"
	}
	return "/"
}

// auth requires a session at stage whose principal has perm, and a
// matching CSRF token on POST; it puts the principal on the context.
func (p *Portal) auth(perm access.Perm, stage store.SessionStage, h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, who, ok := p.sessionOf(r)
		if !ok {
			if r.Method == http.MethodGet && stage == store.SessionActive {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.loginForm(w, r, http.StatusUnauthorized, "Your session ended; log in again.", "/")
			return
		}
		d := pageData{CSRF: ss.CSRF, LoggedIn: ss.Stage == store.SessionActive, Who: who}
		if ss.Stage != stage {
			http.Redirect(w, r, stagePage(ss.Stage)+"?next="+urlQueryEscape(safeNext(r.URL.Query().Get("next"))), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				p.renderMessage(w, r, http.StatusBadRequest, d, "Bad request", "The form could not be read.", "/")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ss.CSRF)) != 1 {
				p.csrfFailed(w, r, d)
				return
			}
		}
		if !access.RoleCan(who.Role, perm) {
			p.renderMessage(w, r, http.StatusForbidden, d, "Not allowed",
				"Your role ("+string(who.Role)+") does not allow this page or action. Ask an admin if you need it.", "/")
			return
		}
		h(w, r.WithContext(access.WithPrincipal(r.Context(), who)), d)
	}
}

// csrfFailed is the page for a form whose CSRF token does not match
// (usually a form left open across a log-in or a server restart).
func (p *Portal) csrfFailed(w http.ResponseWriter, r *http.Request, d pageData) {
	back := "/"
	if ref := safeNext(r.URL.Path); ref != "/" && r.URL.Path != "/logout" {
		back = ref
	}
	p.renderMessage(w, r, http.StatusForbidden, d, "The form expired",
		"The form was sent without a valid security token: it may be from before your last log-in, or from another site. Nothing was changed. Go back, reload the page and try again.", back)
}

// home sends each role to its start page.
func (p *Portal) home(w http.ResponseWriter, r *http.Request) {
	_, who, ok := p.sessionOf(r)
	switch {
	case !ok:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case access.RoleCan(who.Role, access.PermRead):
		http.Redirect(w, r, "/nodes", http.StatusSeeOther)
	case access.RoleCan(who.Role, access.PermRegister):
		http.Redirect(w, r, "/register", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}
}

type loginData struct{ Next, User string }

// badInNext reports characters a browser may drop or treat as "/" in a
// URL (tabs, newlines and other controls, backslashes), which could turn a
// path into another host ("/\t/evil.example" becomes "//evil.example").
func badInNext(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }

// safeNext keeps redirects on this site: next must parse as a URL that is
// only a path (no scheme, host, user or opaque part) starting with one "/",
// and neither it nor its decoded path may hold a control character or a
// backslash. It returns the path (and query) re-encoded, or "/".
func safeNext(next string) string {
	const home = "/"
	if next == "" || strings.IndexFunc(next, badInNext) >= 0 {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.IndexFunc(u.Path, badInNext) >= 0 {
		return home
	}
	out := u.EscapedPath()
	if strings.HasPrefix(out, "//") || !strings.HasPrefix(out, "/") {
		return home
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// logout ends the session, from any login stage.
func (p *Portal) logout(w http.ResponseWriter, r *http.Request) {
	if ss, who, ok := p.sessionOf(r); ok {
		if r.ParseForm() != nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ss.CSRF)) != 1 {
			p.csrfFailed(w, r, pageData{CSRF: ss.CSRF, LoggedIn: ss.Stage == store.SessionActive, Who: who})
			return
		}
		p.endSession(r.Context(), ss.Hash)
	}
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// message turns an error into a sentence for the page; internal errors are
// logged and shown generically.
func (p *Portal) message(r *http.Request, err error) (string, int) {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe.msg, pe.code.Status()
	}
	if msg, status, ok := p.d.Explain(err); ok {
		return msg, status
	}
	p.d.Log.Error("portal request failed", "path", r.URL.Path, "err", err)
	return "The server failed; try again.", http.StatusInternalServerError
}

// pageError is a mistake in a form that the portal finds itself: a
// sentence for the page, with its code.
type pageError struct {
	code api.ErrorCode
	msg  string
}

func (e *pageError) Error() string { return string(e.code) + ": " + e.msg }

func errorf(code api.ErrorCode, format string, args ...any) error {
	return &pageError{code: code, msg: fmt.Sprintf(format, args...)}
}
