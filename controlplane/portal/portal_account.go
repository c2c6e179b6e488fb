package portal

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"rsc.io/qr"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/totp"
)

// Portal pages for two-factor enrolment (any user, on their account) and
// user management (admins).

// qrSVG draws text as a QR code in inline SVG (no image request: the
// content security policy allows none but our own).
func qrSVG(text string) (template.HTML, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("draw QR code: %w", err)
	}
	var b strings.Builder
	const quiet = 4
	n := c.Size + 2*quiet
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="QR code" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n*5, n*5, n, n)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // built here from numbers only
}

type totpSetupData struct {
	Secret string
	URI    string
	QR     template.HTML
}

// totpSetup shows a new secret to scan and asks for its first code; the
// secret is kept only when a code proves the app has it.
func (p *Portal) totpSetup(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Set up two-factor login", "account"
	if d.Who.Kind != access.KindUser {
		p.renderMessage(w, r, http.StatusBadRequest, d, "Not for the admin token", "The admin token has no two-factor login; log in as a user.", "/account")
		return
	}
	secret := r.PostFormValue("secret")
	status := http.StatusOK
	if secret != "" { // the code step
		if step, ok := totp.Verify(secret, r.PostFormValue("code"), p.d.Now(), 0); ok && len(secret) == 32 {
			err := p.d.Accounts.SetTOTP(r.Context(), d.Who.User, secret, step)
			if err != nil {
				msg, st := p.message(r, err)
				d.Error = msg
				p.renderAccount(w, r, d, st)
				return
			}
			d.Notice = "Two-factor login is on: from now on, logging in asks for a code from your app."
			p.renderAccount(w, r, d, http.StatusOK)
			return
		}
		d.Error, status = "That code is not right. Enter the 6 digits your app shows for nodeconsole now.", http.StatusBadRequest
	} else {
		secret = totp.NewSecret()
	}
	uri := totp.URI("nodeconsole", d.Who.User, secret)
	svg, err := qrSVG(uri)
	if err != nil {
		msg, st := p.message(r, err)
		d.Error, status = msg, st
	}
	d.Data = totpSetupData{Secret: secret, URI: uri, QR: svg}
	p.render(w, r, status, "totpsetup", d)
}

type usersData struct {
	Users []access.UserInfo
	Sites []api.Site
	// NewPassword is the one-time password of a user just added or reset,
	// shown once.
	NewPassword, NewUser string
}

func (p *Portal) renderUsers(w http.ResponseWriter, r *http.Request, d pageData, status int, data usersData) {
	d.Title, d.Nav = "Users", "users"
	users, err := p.d.Accounts.Users(r.Context())
	if err != nil && d.Error == "" {
		d.Error, status = p.message(r, err)
	}
	sites, _ := p.d.Fleet.Sites(r.Context())
	data.Users, data.Sites = users, sites.Sites
	d.Data = data
	p.render(w, r, status, "users", d)
}

func (p *Portal) usersPage(w http.ResponseWriter, r *http.Request, d pageData) {
	p.renderUsers(w, r, d, http.StatusOK, usersData{})
}

// userAdd adds a user with a one-time password, shown once.
func (p *Portal) userAdd(w http.ResponseWriter, r *http.Request, d pageData) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	role, err := access.ParseRole(r.PostFormValue("role"))
	var pw string
	if err != nil {
		err = errorf(api.CodeInvalidRequest, "%v", err)
	} else {
		pw, err = p.d.Accounts.AddUser(r.Context(), name, role, r.PostForm["sites"], "")
	}
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderUsers(w, r, d, status, usersData{})
		return
	}
	d.Notice = "User " + name + " is added. Give them this one-time password; they choose their own at the first login."
	p.renderUsers(w, r, d, http.StatusOK, usersData{NewUser: name, NewPassword: pw})
}

// userAction disables, enables, resets the password of, or deletes a user.
func (p *Portal) userAction(w http.ResponseWriter, r *http.Request, d pageData) {
	name, action := r.PostFormValue("name"), r.PostFormValue("action")
	ctx := r.Context()
	data := usersData{}
	var err error
	switch {
	case name == d.Who.User && action != "reset":
		err = errorf(api.CodeInvalidRequest, "You cannot %s yourself; ask another admin.", action)
	case action == "disable" || action == "enable":
		err = p.d.Accounts.SetDisabled(ctx, name, action == "disable")
		d.Notice = "User " + name + " is " + action + "d."
	case action == "reset":
		data.NewPassword, err = p.d.Accounts.ResetPassword(ctx, name)
		data.NewUser = name
		d.Notice = "The password of " + name + " is reset; their sessions ended. Give them this one-time password."
	case action == "delete":
		err = p.d.Accounts.DeleteUser(ctx, name)
		d.Notice = "User " + name + " is deleted."
	default:
		err = errorf(api.CodeInvalidRequest, "unknown action %q", action)
	}
	if err != nil {
		msg, status := p.message(r, err)
		d.Notice, d.Error = "", msg
		p.renderUsers(w, r, d, status, usersData{})
		return
	}
	if name == d.Who.User && action == "reset" {
		setCookie(w, sessionCookie, "", -1)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	p.renderUsers(w, r, d, http.StatusOK, data)
}

// newAPIToken passes a token just created to renderAccount.
type newAPIToken string

// tokenCreate makes a personal API token for the logged-in user.
func (p *Portal) tokenCreate(w http.ResponseWriter, r *http.Request, d pageData) {
	if d.Who.Kind != access.KindUser {
		d.Error = "The admin token cannot have personal API tokens; log in as a user."
		p.renderAccount(w, r, d, http.StatusBadRequest)
		return
	}
	days := map[string]time.Duration{"30": 30, "90": 90, "365": 365}[r.PostFormValue("days")]
	if days == 0 {
		days = 90
	}
	info, tok, err := p.d.Accounts.CreateAPIToken(r.Context(), d.Who.User, r.PostFormValue("label"), days*24*time.Hour)
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderAccount(w, r, d, status)
		return
	}
	d.Notice = "API token “" + info.Label + "” created. Copy it now: it is not shown again."
	d.Data = newAPIToken(tok)
	p.renderAccount(w, r, d, http.StatusOK)
}

// tokenRevoke deletes one of the user's own personal API tokens.
func (p *Portal) tokenRevoke(w http.ResponseWriter, r *http.Request, d pageData) {
	id := r.PostFormValue("id")
	own := false
	if d.Who.Kind == access.KindUser {
		if list, err := p.d.Accounts.APITokens(r.Context(), d.Who.User); err == nil {
			for _, t := range list {
				own = own || t.ID == id
			}
		}
	}
	var err error
	if !own {
		err = errorf(api.CodeNotFound, "You have no API token %q.", id)
	} else {
		err = p.d.Accounts.RevokeAPIToken(r.Context(), id)
	}
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderAccount(w, r, d, status)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}
