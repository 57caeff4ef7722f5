package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/config"
	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/identity/builtin"
	"github.com/customer-portal/portal/internal/identity/keycloak"
	"github.com/customer-portal/portal/internal/mail"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/secret"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/ticketing/jira"
)

const usage = `Usage:
  portal [serve]                 serve the API (configuration from PORTAL_* variables)
  portal user add --username U --email E --role R --password P
                                 add a user to the built-in identity provider
  portal config                  list the configuration variables and their defaults
  portal help                    show this text
`

// run is the whole program; main only supplies the process's context, arguments, environment
// and standard output, so that tests start the server exactly as a user does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		if len(args) > 0 {
			return fmt.Errorf("serve takes no arguments (configure it with PORTAL_* variables; see 'portal config')")
		}
		return serve(ctx, getenv, stdout)
	case "user":
		if len(args) == 0 || args[0] != "add" {
			return fmt.Errorf("unknown user command; usage:\n%s", usage)
		}
		return userAdd(ctx, args[1:], getenv, stdout)
	case "config":
		return config.WriteReference(stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	sc := store.Config{DatabaseURL: cfg.DatabaseURL, Logger: log}
	if cfg.DatabaseURL == "" {
		sc.SQLitePath = filepath.Join(cfg.DataDir, "portal.db")
	}
	db, err := store.Open(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.LogLevel)
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://localhost:" + portOf(ln.Addr())
	}

	mux := http.NewServeMux()
	var (
		keys     auth.KeySource
		identity portal.Identity
	)
	issuer := cfg.OIDCIssuer
	if cfg.Builtin() {
		issuer = publicURL + "/realms/portal"
		idp, err := builtin.New(builtin.Config{Issuer: issuer, ClientID: cfg.OIDCClientID, DataDir: cfg.DataDir, Accounts: db, Logger: log})
		if err != nil {
			return fmt.Errorf("built-in identity provider: %w", err)
		}
		if _, err := builtin.Bootstrap(ctx, db, cfg.AdminUser, cfg.AdminPass, log); err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		// gocloak's GetIssuer reads the realm document at /realms/portal without a slash.
		realm := http.StripPrefix("/realms/portal", idp.Handler())
		mux.Handle("/realms/portal", realm)
		mux.Handle("/realms/portal/", realm)
		keys = idp
		sender, err := mailSender(cfg, log)
		if err != nil {
			return err
		}
		dir, err := builtin.NewDirectory(builtin.DirectoryConfig{Accounts: db, Mail: sender, PublicURL: publicURL,
			InvitationTTL: cfg.InvitationTTL, Logger: log})
		if err != nil {
			return fmt.Errorf("built-in user directory: %w", err)
		}
		identity = dir
	} else {
		ks, err := keycloak.NewKeySource(cfg.OIDCIssuer, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return fmt.Errorf("PORTAL_OIDC_ISSUER_URL: %w", err)
		}
		keys = ks
		if cfg.KeycloakAdminClientID == "" {
			log.Warn("PORTAL_KEYCLOAK_ADMIN_CLIENT_ID is not set: user management answers 503; manage users in Keycloak")
		} else {
			admin, err := keycloak.NewAdmin(keycloak.AdminConfig{IssuerURL: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID,
				AdminClientID: cfg.KeycloakAdminClientID, AdminSecret: cfg.KeycloakAdminClientSecret,
				PublicURL: publicURL, InvitationTTL: cfg.InvitationTTL, Logger: log})
			if err != nil {
				return fmt.Errorf("PORTAL_KEYCLOAK_ADMIN_CLIENT_*: %w", err)
			}
			identity = admin
		}
	}
	verifier, err := auth.NewVerifier(auth.Config{Issuer: issuer, ClientID: cfg.OIDCClientID, Keys: keys})
	if err != nil {
		return err
	}
	sealer, err := secret.FromConfig(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	factory := func(c portal.TicketingConfig) (portal.Ticketing, error) {
		// 3 s per call, retries included: when Jira is slow or down, a write answers 503
		// within that instead of holding the customer's request.
		return jira.New(jira.Config{SiteURL: c.SiteURL, Email: c.Email, APIToken: c.APIToken,
			ServiceDeskID: c.ServiceDeskID, RequestTypes: c.RequestTypes, Priorities: c.Priorities, Logger: log,
			HTTPClient: &http.Client{Timeout: 3 * time.Second}})
	}
	svc := portal.NewService(db, portal.Options{Logger: log, Identity: identity, Sealer: sealer, TicketingFactory: factory})
	api, err := httpapi.New(httpapi.Config{Service: svc, Verifier: verifier, Logger: log, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return err
	}
	mux.Handle("/", api)

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	database := "sqlite:" + filepath.Join(cfg.DataDir, "portal.db")
	if cfg.DatabaseURL != "" {
		database = "postgres"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", publicURL, "issuer", issuer, "database", database,
		"docs", publicURL+"/api/v1/docs")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	go syncLoop(syncCtx, svc, cfg.SyncInterval, log)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.Shutdown.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

var _ auth.KeySource = (*builtin.Issuer)(nil)

// mailSender sends through the configured SMTP server, or into the log when there is none.
func mailSender(cfg config.Config, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTP.Host == "" {
		log.Warn("no SMTP server configured (PORTAL_SMTP_HOST): invitation and password-reset links are written to this log")
		return mail.NewLog(log), nil
	}
	s, err := mail.NewSMTP(mail.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
		Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS})
	if err != nil {
		return nil, fmt.Errorf("PORTAL_SMTP_*: %w", err)
	}
	return s, nil
}

// syncLoop keeps the Jira ticket mirror fresh; with built-in ticketing each round is a no-op.
func syncLoop(ctx context.Context, svc *portal.Service, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		n, err := svc.SyncTickets(rctx)
		cancel()
		switch {
		case err != nil:
			log.Warn("ticket sync failed; tickets are shown from the mirror, flagged stale", "error", err.Error())
		case n > 0:
			log.Info("ticket sync", "tickets", n)
		}
	}
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}

// userAdd adds an account to the built-in identity provider, for admin scripts and the README
// walkthrough.
func userAdd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("portal user add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var in builtin.NewAccount
	var role string
	fs.StringVar(&in.Username, "username", "", "username (lower-cased)")
	fs.StringVar(&in.Email, "email", "", "email address (required)")
	fs.StringVar(&in.FirstName, "first-name", "", "first name")
	fs.StringVar(&in.LastName, "last-name", "", "last name")
	fs.StringVar(&role, "role", "", "cp-admin, cp-support, cp-partner or cp-customer")
	fs.StringVar(&in.Password, "password", "", "initial password (at least 8 characters)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v\nusage: portal user add --username U --email E --role R --password P", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	r, ok := portal.ParseRole(role)
	if !ok {
		return fmt.Errorf("--role must be one of cp-admin, cp-support, cp-partner, cp-customer")
	}
	in.Role = r
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if !cfg.Builtin() {
		return errors.New("PORTAL_OIDC_ISSUER_URL is set: users live in Keycloak; create them there and give them a cp-* role of client " + cfg.OIDCClientID)
	}
	log := newLogger(io.Discard, slog.LevelError)
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := builtin.CreateAccount(ctx, db, in)
	if err != nil {
		var pe *portal.Error
		if errors.As(err, &pe) && pe.Kind != portal.Internal {
			return errors.New(pe.Message)
		}
		return err
	}
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		roles[i] = string(r)
	}
	_, err = fmt.Fprintf(stdout, "added user %s (%s) with role %s\n", a.Username, a.Email, strings.Join(roles, ","))
	return err
}
