package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mdp/qrterminal/v3"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/store/postgres"
)

// stdin is where --password-stdin reads (tests replace it).
var stdin io.Reader = os.Stdin

// totpIssuer names the control plane in authenticator apps.
const totpIssuer = "nodeconsole"

const userUsage = `usage:
  controlplane [--data DIR] user add NAME --role admin|operator|site|viewer [--sites S1,S2] [--password-stdin]
  controlplane [--data DIR] user list [--json]
  controlplane [--data DIR] user (disable | enable | reset-password | delete | totp) NAME
  controlplane [--data DIR] user token NAME [--expires DURATION] [--name LABEL]
  controlplane [--data DIR] user tokens NAME [--json]
  controlplane [--data DIR] user revoke-token ID
  controlplane [--data DIR] admin-token rotate`

// runAccounts runs the user and admin-token subcommands on the database in
// data, or in PostgreSQL at db if set; they work while the server runs
// (same SQLite file, WAL; or the shared database).
func runAccounts(ctx context.Context, data, db string, args []string, stdout io.Writer) error {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	ctx = access.WithPrincipal(ctx, access.Principal{Kind: access.KindCommandLine, User: who})
	if args[0] == "admin-token" {
		if len(args) != 2 || args[1] != "rotate" {
			return usageError{errors.New(userUsage)}
		}
		return withAccounts(ctx, data, db, func(a *controlplane.Accounts) error {
			if err := a.RotateAdminToken(ctx); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "New admin token written to %s/admin-token; the old one no longer works.\n", data)
			return nil
		})
	}
	if len(args) < 2 {
		return usageError{errors.New(userUsage)}
	}
	cmd, rest := args[1], args[2:]
	fs := flag.NewFlagSet("user "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	role := fs.String("role", "", "")
	sites := fs.String("sites", "", "")
	pwStdin := fs.Bool("password-stdin", false, "")
	jsonOut := fs.Bool("json", false, "")
	expires := fs.String("expires", "90d", "")
	label := fs.String("name", "", "")
	allowed := map[string][]string{
		"add": {"role", "sites", "password-stdin"}, "list": {"json"}, "tokens": {"json"},
		"token": {"expires", "name"},
	}
	nargs := 1
	if cmd == "list" {
		nargs = 0
	}
	name, err := parseNamed(fs, rest, nargs)
	if err != nil {
		return usageError{fmt.Errorf("user %s: %w", cmd, err)}
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		ok := false
		for _, a := range allowed[cmd] {
			ok = ok || a == f.Name
		}
		if !ok && bad == nil {
			bad = usageError{fmt.Errorf("user %s does not take --%s", cmd, f.Name)}
		}
	})
	if bad != nil {
		return bad
	}
	return withAccounts(ctx, data, db, func(a *controlplane.Accounts) error {
		switch cmd {
		case "add":
			return userAdd(ctx, a, name, *role, *sites, *pwStdin, stdout)
		case "list":
			return userList(ctx, a, *jsonOut, stdout)
		case "disable", "enable":
			if err := a.SetDisabled(ctx, name, cmd == "disable"); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "User %s is %sd.\n", name, cmd)
			return nil
		case "reset-password":
			pw, err := a.ResetPassword(ctx, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "One-time password for %s (shown once; it must be changed at the next login):\n%s\n", name, pw)
			return nil
		case "delete":
			if err := a.DeleteUser(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "User %s is deleted, with their API tokens and sessions.\n", name)
			return nil
		case "totp":
			uri, err := a.EnableTOTP(ctx, name, totpIssuer)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Two-factor login for %s: scan this with an authenticator app (shown once):\n%s\n", name, uri)
			qrterminal.GenerateWithConfig(uri, qrterminal.Config{
				Level: qrterminal.L, Writer: stdout, HalfBlocks: true, QuietZone: 1,
				BlackChar: qrterminal.BLACK_BLACK, WhiteBlackChar: qrterminal.WHITE_BLACK,
				WhiteChar: qrterminal.WHITE_WHITE, BlackWhiteChar: qrterminal.BLACK_WHITE,
			})
			return nil
		case "token":
			ttl, err := parseDays(*expires)
			if err != nil {
				return usageError{fmt.Errorf("--expires: %w", err)}
			}
			info, tok, err := a.CreateAPIToken(ctx, name, *label, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "API token %s (%q, acts as %s, expires %s); shown once:\n%s\n", info.ID, info.Label, name,
				info.ExpiresAt.Format(time.DateOnly), tok)
			return nil
		case "tokens":
			list, err := a.APITokens(ctx, name)
			if err != nil {
				return err
			}
			return printTokens(list, *jsonOut, stdout)
		case "revoke-token":
			if err := a.RevokeAPIToken(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "API token %s is revoked.\n", name)
			return nil
		}
		return usageError{fmt.Errorf("unknown command user %s\n%s", cmd, userUsage)}
	})
}

// withAccounts opens the database, runs fn, and turns bad-input API
// errors into usage errors (exit status 2).
func withAccounts(ctx context.Context, data, db string, fn func(*controlplane.Accounts) error) error {
	var a *controlplane.Accounts
	if db == "" {
		var err error
		if a, err = controlplane.OpenAccounts(ctx, data); err != nil {
			return err
		}
	} else {
		if err := checkDBURL(db); err != nil {
			return usageError{err}
		}
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return err
		}
		a = controlplane.NewAccounts(st, data)
	}
	defer a.Close()
	err := fn(a)
	if controlplane.IsInputError(err) {
		return usageError{errors.New(controlplane.ErrorMessage(err))}
	}
	return err
}

// parseNamed parses flags around n positional arguments (NAME may come
// before or after the flags) and returns the first.
func parseNamed(fs *flag.FlagSet, args []string, n int) (string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	if len(pos) != n {
		if n == 0 {
			return "", fmt.Errorf("unexpected argument %q", pos[0])
		}
		return "", fmt.Errorf("needs exactly %d argument (got %d)", n, len(pos))
	}
	if n == 0 {
		return "", nil
	}
	return pos[0], nil
}

// parseDays reads a Go duration or whole days ("90d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not a number of days (1-3650)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration such as 90d or 12h", s)
	}
	return d, nil
}

func userAdd(ctx context.Context, a *controlplane.Accounts, name, role, sites string, pwStdin bool, stdout io.Writer) error {
	r, err := access.ParseRole(role)
	if err != nil {
		return usageError{fmt.Errorf("--role: %w", err)}
	}
	var siteList []string
	for _, s := range strings.Split(sites, ",") {
		if s = strings.TrimSpace(s); s != "" {
			siteList = append(siteList, s)
		}
	}
	pw := ""
	if pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		if pw = strings.TrimRight(line, "\r\n"); pw == "" {
			return usageError{errors.New("--password-stdin: no password on standard input")}
		}
	}
	oneTime, err := a.AddUser(ctx, name, r, siteList, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "User %s (%s) is created.\n", name, r)
	if oneTime != "" {
		fmt.Fprintf(stdout, "One-time password (shown once; it must be changed at the first login):\n%s\n", oneTime)
	}
	return nil
}

func userList(ctx context.Context, a *controlplane.Accounts, jsonOut bool, stdout io.Writer) error {
	list, err := a.Users(ctx)
	if err != nil {
		return err
	}
	if jsonOut {
		return json.NewEncoder(stdout).Encode(map[string]any{"users": list})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSITES\tSTATE\tTWO-FACTOR\tLAST LOGIN")
	for _, u := range list {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		} else if u.MustChangePassword {
			state = "password to change"
		}
		tf := "no"
		if u.TOTP {
			tf = "yes"
		}
		last := "never"
		if !u.LastLogin.IsZero() {
			last = u.LastLogin.Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, strings.Join(u.Sites, ","), state, tf, last)
	}
	return tw.Flush()
}

func printTokens(list []access.APITokenInfo, jsonOut bool, stdout io.Writer) error {
	if jsonOut {
		return json.NewEncoder(stdout).Encode(map[string]any{"tokens": list})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		exp := t.ExpiresAt.Format(time.DateOnly)
		if t.Expired {
			exp += " (expired)"
		}
		used := "never"
		if !t.LastUsed.IsZero() {
			used = t.LastUsed.Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Label, t.CreatedAt.Format(time.DateOnly), exp, used)
	}
	return tw.Flush()
}
