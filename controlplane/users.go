package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/atomicfile"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/passwords"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
	"github.com/nodeconsole/nodeconsole/controlplane/totp"
)

// apiTokenPrefix marks personal API tokens (see tokenPrefix).
const apiTokenPrefix = "ncat_"

// DefaultAPITokenTTL is how long a personal API token works unless told.
const DefaultAPITokenTTL = 90 * 24 * time.Hour

// Accounts manages users, personal API tokens and the admin token. The
// server uses one on its store; the controlplane command's user
// subcommands open one on the same database while the server runs
// (OpenAccounts).
type Accounts struct {
	store   store.Store
	dataDir string
	now     func() time.Time
	owned   bool // Close closes store
}

// OpenAccounts opens the database in dataDir (created and migrated if
// needed). Events it records are by actor, e.g. "command line (root)".
func OpenAccounts(ctx context.Context, dataDir string) (*Accounts, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("controlplane: create data dir: %w", err)
	}
	st, err := sqlite.OpenDir(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	return &Accounts{store: st, dataDir: dataDir, now: time.Now, owned: true}, nil
}

// NewAccounts works on st (a store the caller opened, such as PostgreSQL)
// and the admin token in dataDir; Close closes st.
func NewAccounts(st store.Store, dataDir string) *Accounts {
	return &Accounts{store: st, dataDir: dataDir, now: time.Now, owned: true}
}

// Close releases the database.
func (a *Accounts) Close() error {
	if a.owned {
		return a.store.Close()
	}
	return nil
}

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// reservedNames are actors that are not users.
var reservedNames = []string{access.AdminTokenActor, "node", "anonymous", "admin-token-login"}

// checkUserName refuses names that are not 1-64 of [a-z0-9._@-] or that
// name another kind of actor.
func checkUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return errorf(api.CodeInvalidRequest, "user name %q must be 1-64 lowercase letters, digits or . _ @ - (starting with a letter or digit)", name)
	}
	if slices.Contains(reservedNames, name) {
		return errorf(api.CodeInvalidRequest, "user name %q is reserved", name)
	}
	return nil
}

func errNoUser(name string) error { return errorf(api.CodeNotFound, "no user %q", name) }

// getUser reads a user, answering not_found for a missing one.
func getUser(tx store.Tx, name string) (store.User, error) {
	u, err := tx.User(name)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errNoUser(name)
	}
	return u, err
}

func (a *Accounts) record(ctx context.Context, tx store.Tx, typ, msg string) error {
	return tx.AddEvent(store.Event{Type: typ, Time: a.now(), Actor: actorOf(ctx), Message: msg})
}

// checkSites verifies role and sites go together and the sites exist.
func checkSites(tx store.Tx, role store.Role, sites []string) error {
	if role == store.RoleSite && len(sites) == 0 {
		return errorf(api.CodeInvalidRequest, "a site user needs --sites (the sites they may register nodes at)")
	}
	if role != store.RoleSite && len(sites) > 0 {
		return errorf(api.CodeInvalidRequest, "--sites is only for role site (role %s may use every site)", role)
	}
	for _, s := range sites {
		if _, err := siteByName(tx, s); err != nil {
			return err
		}
	}
	return nil
}

// AddUser creates a user. With an empty password it draws a one-time
// password, returned, that must be changed at first login.
func (a *Accounts) AddUser(ctx context.Context, name string, role store.Role, sites []string, password string) (string, error) {
	if err := checkUserName(name); err != nil {
		return "", err
	}
	if _, err := access.ParseRole(string(role)); err != nil {
		return "", errorf(api.CodeInvalidRequest, "%v", err)
	}
	oneTime := ""
	if password == "" {
		oneTime = secrets.OneTimePassword()
		password = oneTime
	} else if err := passwords.Check(password); err != nil {
		return "", errorf(api.CodeInvalidRequest, "%v", err)
	}
	hash := passwords.Hash(password)
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.User(name); err == nil {
			return errorf(api.CodeConflict, "user %q exists", name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := checkSites(tx, role, sites); err != nil {
			return err
		}
		u := store.User{Name: name, Role: role, Sites: sites, PasswordHash: hash, MustChangePassword: oneTime != "", CreatedAt: a.now()}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		msg := fmt.Sprintf("user %s created with role %s", name, role)
		if len(sites) > 0 {
			msg += " for sites " + strings.Join(sites, ", ")
		}
		return a.record(ctx, tx, api.EventUserCreated, msg)
	})
	if err != nil {
		return "", fmt.Errorf("add user %s: %w", name, err)
	}
	return oneTime, nil
}

func userInfo(u store.User) access.UserInfo {
	return access.UserInfo{Name: u.Name, Role: u.Role, Sites: u.Sites, Disabled: u.Disabled, TOTP: u.TOTPSecret != "",
		MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt.UTC(), LastLogin: u.LastLogin.UTC()}
}

// Users lists the users by name.
func (a *Accounts) Users(ctx context.Context) ([]access.UserInfo, error) {
	out := []access.UserInfo{}
	err := a.store.View(ctx, func(tx store.Tx) error {
		us, err := tx.Users()
		for _, u := range us {
			out = append(out, userInfo(u))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// changeUser applies fn to a user and records what changed; with
// endSessions it also ends the user's portal sessions.
func (a *Accounts) changeUser(ctx context.Context, name, what string, endSessions bool, fn func(*store.User) error) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if endSessions {
			if err := tx.DeleteSessionsForUser(name); err != nil {
				return err
			}
		}
		return a.record(ctx, tx, api.EventUserChanged, "user "+name+": "+what)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// SetTOTP turns on two-factor login for name with secret, which the
// user's app just proved it holds with the code of step: that code does
// not log in (TOTPLastStep).
func (a *Accounts) SetTOTP(ctx context.Context, name, secret string, step int64) error {
	return a.changeUser(ctx, name, "two-factor login set up in the portal", false, func(u *store.User) error {
		u.TOTPSecret, u.TOTPLastStep = secret, step
		return nil
	})
}

// SetDisabled disables or enables a user. Disabling ends their sessions
// at once; their API tokens stop working while disabled.
func (a *Accounts) SetDisabled(ctx context.Context, name string, disabled bool) error {
	what := "enabled"
	if disabled {
		what = "disabled; sessions ended"
	}
	return a.changeUser(ctx, name, what, disabled, func(u *store.User) error {
		u.Disabled = disabled
		return nil
	})
}

// ResetPassword draws a one-time password for name (to be changed at the
// next login) and ends their sessions.
func (a *Accounts) ResetPassword(ctx context.Context, name string) (string, error) {
	pw := secrets.OneTimePassword()
	hash := passwords.Hash(pw)
	err := a.changeUser(ctx, name, "password reset; sessions ended", true, func(u *store.User) error {
		u.PasswordHash, u.MustChangePassword = hash, true
		return nil
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// DeleteUser removes a user, their API tokens and sessions.
func (a *Accounts) DeleteUser(ctx context.Context, name string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := getUser(tx, name); err != nil {
			return err
		}
		if err := tx.DeleteUser(name); err != nil {
			return err
		}
		return a.record(ctx, tx, api.EventUserDeleted, "user "+name+" deleted with their tokens and sessions")
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	return nil
}

// EnableTOTP gives name a new TOTP secret (replacing any) and returns the
// otpauth:// URI for an authenticator app. From then on logins ask for a
// code.
func (a *Accounts) EnableTOTP(ctx context.Context, name, issuer string) (string, error) {
	secret := totp.NewSecret()
	err := a.changeUser(ctx, name, "two-factor login set up", false, func(u *store.User) error {
		u.TOTPSecret, u.TOTPLastStep = secret, 0
		return nil
	})
	if err != nil {
		return "", err
	}
	return totp.URI(issuer, name, secret), nil
}

// CreateAPIToken makes a personal API token for user, valid for ttl
// (0: DefaultAPITokenTTL). The value is returned once; only its hash is
// kept.
func (a *Accounts) CreateAPIToken(ctx context.Context, user, label string, ttl time.Duration) (access.APITokenInfo, string, error) {
	label = strings.TrimSpace(label)
	if label == "" {
		label = "token-" + a.now().UTC().Format("20060102-150405")
	}
	if err := checkField("label", label, true); err != nil {
		return access.APITokenInfo{}, "", err
	}
	if ttl <= 0 {
		ttl = DefaultAPITokenTTL
	}
	value := apiTokenPrefix + secrets.Random(32)
	now := a.now()
	t := store.APIToken{ID: secrets.NewID(), User: user, Label: label, Hash: secrets.Hash(value), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := getUser(tx, user); err != nil {
			return err
		}
		if err := tx.PutAPIToken(t); err != nil {
			return err
		}
		return a.record(ctx, tx, api.EventAPITokenCreated, fmt.Sprintf("API token %q (%s) for user %s, expires %s",
			label, t.ID, user, t.ExpiresAt.UTC().Format(time.DateOnly)))
	})
	if err != nil {
		return access.APITokenInfo{}, "", fmt.Errorf("create API token for %s: %w", user, err)
	}
	return a.tokenInfo(t), value, nil
}

func (a *Accounts) tokenInfo(t store.APIToken) access.APITokenInfo {
	return access.APITokenInfo{ID: t.ID, User: t.User, Label: t.Label, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(),
		LastUsed: t.LastUsed.UTC(), Expired: !t.ExpiresAt.IsZero() && !a.now().Before(t.ExpiresAt)}
}

// APITokens lists user's personal API tokens, newest first.
func (a *Accounts) APITokens(ctx context.Context, user string) ([]access.APITokenInfo, error) {
	out := []access.APITokenInfo{}
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := getUser(tx, user); err != nil {
			return err
		}
		ts, err := tx.APITokensForUser(user)
		for _, t := range ts {
			out = append(out, a.tokenInfo(t))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list API tokens of %s: %w", user, err)
	}
	return out, nil
}

// RevokeAPIToken deletes a personal API token by ID.
func (a *Accounts) RevokeAPIToken(ctx context.Context, id string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		t, err := tx.APIToken(id)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeNotFound, "no API token %q", id)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteAPIToken(id); err != nil {
			return err
		}
		return a.record(ctx, tx, api.EventAPITokenRevoked, fmt.Sprintf("API token %q (%s) of user %s revoked", t.Label, id, t.User))
	})
	if err != nil {
		return fmt.Errorf("revoke API token %s: %w", id, err)
	}
	return nil
}

// RotateAdminToken writes a new DATA/admin-token (the running server reads
// it on its next request) and ends portal sessions opened with the old one.
func (a *Accounts) RotateAdminToken(ctx context.Context) error {
	path := filepath.Join(a.dataDir, adminTokenFile)
	if err := atomicfile.WriteFile(path, []byte(secrets.Random(32)+"\n"), 0o600); err != nil {
		return fmt.Errorf("rotate admin token: %w", err)
	}
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteSessionsForUser(access.AdminTokenActor); err != nil {
			return err
		}
		return a.record(ctx, tx, api.EventAdminTokenRotated, "the admin token was replaced; portal sessions opened with the old one ended")
	})
	if err != nil {
		return fmt.Errorf("rotate admin token: %w", err)
	}
	return nil
}
