// Command keycloaktestd serves the keycloaktest Keycloak double as a process, for browser tests
// (Playwright) that sign in through the real keycloak-js against it. It imports the realm the
// project ships, adds the users and redirect origins of the test, prints one JSON line
//
//	{"url":"http://127.0.0.1:NNNNN","issuer":"http://127.0.0.1:NNNNN/realms/portal"}
//
// to standard output once it listens, and serves until SIGTERM or SIGINT.
//
//	go run ./internal/identity/keycloak/keycloaktest/keycloaktestd \
//	  -admin-secret s3cret -user alice:alice-password-1:alice@example.com:cp-customer \
//	  -redirect-origin http://127.0.0.1:5173
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
)

// shippedRealm is the realm file's path from the repository root.
const shippedRealm = "deploy/keycloak/realm-portal.json"

// portalRoles are the roles -user may grant.
var portalRoles = []string{"cp-admin", "cp-support", "cp-partner", "cp-customer"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "keycloaktestd:", err)
		os.Exit(2)
	}
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run starts the server, announces it on stdout and serves until ctx ends. environ resolves the
// realm file's placeholders, as Keycloak's import does, with -admin-secret for the admin
// client's.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keycloaktestd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	realmFile := fs.String("realm-file", "", "realm export to import (default: "+shippedRealm+" of the repository around the working directory)")
	client := fs.String("client", "customer-portal", "the portal's client: -user roles and -redirect-origin apply to it")
	adminSecret := fs.String("admin-secret", "", "secret of customer-portal-admin (CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET); default: random")
	var users, origins listFlag
	fs.Var(&users, "user", "username:password:email:role, repeatable; role is one of "+strings.Join(portalRoles, ", ")+"; email may be empty")
	fs.Var(&origins, "redirect-origin", "origin of the app (http://127.0.0.1:PORT), repeatable: <origin>/* becomes a valid redirect URI and the origin a web origin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	path := *realmFile
	if path == "" {
		p, err := findShippedRealm()
		if err != nil {
			return err
		}
		path = p
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	env["CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET"] = *adminSecret
	if *adminSecret == "" {
		env["CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET"] = randomSecret()
	}
	export, err := keycloaktest.ReadRealmFile(path, env)
	if err != nil {
		return err
	}
	var head struct {
		Realm string `json:"realm"`
	}
	if err := json.Unmarshal(export, &head); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	kc, err := keycloaktest.NewStandalone(head.Realm, base)
	if err != nil {
		return err
	}
	notes, err := kc.Import(export)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "keycloaktestd:", n)
	}
	if err := configure(kc, *client, origins, users); err != nil {
		return err
	}

	srv := &http.Server{Handler: kc, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	line, _ := json.Marshal(map[string]string{"url": kc.URL(), "issuer": kc.IssuerURL()})
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		_ = srv.Close()
		return err
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// configure adds the test's redirect origins and users to the imported realm.
func configure(kc *keycloaktest.Server, client string, origins, users []string) (err error) {
	for _, o := range origins {
		u, perr := url.Parse(o)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("-redirect-origin %q: want an origin such as http://127.0.0.1:5173", o)
		}
	}
	// UpdateClient and AddUser panic on what a test could not mean; here that is a bad flag.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if len(origins) > 0 {
		kc.UpdateClient(client, func(c *keycloaktest.Client) {
			for _, o := range origins {
				o = strings.TrimSuffix(o, "/")
				c.RedirectURIs = append(c.RedirectURIs, o+"/*")
				if !slices.Contains(c.WebOrigins, "+") {
					c.WebOrigins = append(c.WebOrigins, o)
				}
			}
		})
	}
	for _, spec := range users {
		parts := strings.Split(spec, ":")
		if len(parts) != 4 || parts[0] == "" || parts[1] == "" || !slices.Contains(portalRoles, parts[3]) {
			return fmt.Errorf("-user %q: want username:password:email:role with role one of %s", spec, strings.Join(portalRoles, ", "))
		}
		kc.AddUser(keycloaktest.User{Username: parts[0], Password: parts[1], Email: parts[2], EmailVerified: parts[2] != "",
			ClientRoles: map[string][]string{client: {parts[3]}}})
	}
	return nil
}

// findShippedRealm finds deploy/keycloak/realm-portal.json in the working directory or above it.
func findShippedRealm() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(shippedRealm))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s in or above the working directory; pass -realm-file", shippedRealm)
		}
		dir = parent
	}
}

func randomSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", b)
}
