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
	"github.com/customer-portal/portal/internal/telemetry"
	"github.com/customer-portal/portal/internal/ticketing/jira"
	"github.com/customer-portal/portal/internal/webui"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
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

// newLogger writes JSON lines; a line logged with a request's context carries its requestId
// (and traceId when tracing).
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
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
	// Deferred first, so closed last: after the server, the sync loop and the span exporter.
	defer db.Close()
	reg := prometheus.NewRegistry()
	tel, err := telemetry.New(telemetry.Config{Registry: reg, OTLPEndpoint: cfg.OTLPEndpoint,
		OTLPHeaders: cfg.OTLPHeaderMap(), ServiceName: cfg.ServiceName, Logger: log})
	if err != nil {
		return err
	}
	if err := tel.WatchDB(db.SQL()); err != nil {
		return err
	}

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
		sender, err := mailSender(cfg, log)
		if err != nil {
			return err
		}
		dir, err := builtin.NewDirectory(builtin.DirectoryConfig{Accounts: db, Mail: sender, PublicURL: publicURL,
			InvitationTTL: cfg.InvitationTTL, Logger: log})
		if err != nil {
			return fmt.Errorf("built-in user directory: %w", err)
		}
		idp, err := builtin.New(builtin.Config{Issuer: issuer, ClientID: cfg.OIDCClientID, DataDir: cfg.DataDir, Accounts: db, Logger: log,
			Sessions: db, WebOrigins: cfg.WebOrigins, Directory: dir})
		if err != nil {
			return fmt.Errorf("built-in identity provider: %w", err)
		}
		// Runs before db.Close (deferred earlier): reset mails in flight finish first.
		defer idp.Wait()
		if _, err := builtin.Bootstrap(ctx, db, cfg.AdminUser, cfg.AdminPass, log); err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		// gocloak's GetIssuer reads the realm document at /realms/portal without a slash.
		realm := http.StripPrefix("/realms/portal", idp.Handler())
		mux.Handle("/realms/portal", realm)
		mux.Handle("/realms/portal/", realm)
		keys = idp
		identity = dir
	} else {
		ks, err := keycloak.NewKeySource(cfg.OIDCIssuer, tel.Client("keycloak", &http.Client{Timeout: 10 * time.Second}),
			keycloak.InternalURL(cfg.KeycloakInternalURL))
		if err != nil {
			return fmt.Errorf("PORTAL_OIDC_ISSUER_URL: %w", err)
		}
		keys = ks
		if cfg.KeycloakAdminClientID == "" {
			log.Warn("PORTAL_KEYCLOAK_ADMIN_CLIENT_ID is not set: user management answers 503; manage users in Keycloak")
		} else {
			admin, err := keycloak.NewAdmin(keycloak.AdminConfig{IssuerURL: cfg.OIDCIssuer, InternalURL: cfg.KeycloakInternalURL,
				ClientID: cfg.OIDCClientID, AdminClientID: cfg.KeycloakAdminClientID, AdminSecret: cfg.KeycloakAdminClientSecret,
				PublicURL: publicURL, InvitationTTL: cfg.InvitationTTL, Logger: log,
				HTTPClient: tel.Client("keycloak", &http.Client{Timeout: 10 * time.Second})})
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
			HTTPClient: tel.Client("jira", &http.Client{Timeout: 3 * time.Second}), OnBreakerChange: tel.JiraBreaker})
	}
	svc := portal.NewService(db, portal.Options{Logger: log, Identity: identity, Sealer: sealer, TicketingFactory: factory})
	if err := tel.WatchMirror(svc.TicketMirrorStatus, nil); err != nil {
		return err
	}
	ui, err := webUI(cfg, publicURL)
	if err != nil {
		return err
	}
	api, err := httpapi.New(httpapi.Config{Service: svc, Verifier: verifier, Logger: log, MaxBodyBytes: cfg.MaxBodyBytes,
		Middleware: []echo.MiddlewareFunc{tel.Middleware()}, UI: ui, WebOrigins: cfg.WebOrigins})
	if err != nil {
		return err
	}
	mux.Handle("/", api)
	metrics := telemetry.MetricsHandler(reg, log)
	var metricsSrv *http.Server
	var metricsLn net.Listener
	if cfg.MetricsAddr == "" {
		mux.Handle("/metrics", metrics)
	} else {
		// Only the metrics port is exposed to the scraper; the API's listener answers 404.
		metricsLn, err = net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (PORTAL_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
		mm := http.NewServeMux()
		mm.Handle("/metrics", metrics)
		metricsSrv = &http.Server{Handler: mm, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	}

	srv := &http.Server{
		Handler:           tel.Handler(mux),
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
	metricsAt := publicURL + "/metrics"
	if metricsLn != nil {
		metricsAt = "http://" + metricsLn.Addr().String() + "/metrics"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", publicURL, "issuer", issuer, "database", database,
		"docs", publicURL+"/api/v1/docs", "metrics", metricsAt, "tracing", tel.Tracing())

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if metricsSrv != nil {
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
	}
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		syncLoop(syncCtx, svc, cfg.SyncInterval, log, tel.SyncFailed)
	}()
	select {
	case err := <-errc:
		// A listener failed: stop the rest before the deferred db.Close.
		stopSync()
		<-syncDone
		_ = srv.Close()
		if metricsSrv != nil {
			_ = metricsSrv.Close()
		}
		return err
	case <-ctx.Done():
	}
	return shutdown(shutdownPlan{log: log, svc: svc, srv: srv, metricsSrv: metricsSrv, tel: tel, errc: errc,
		stopSync: stopSync, syncDone: syncDone, delay: cfg.ShutdownDelay, timeout: cfg.Shutdown})
}

// shutdownPlan is what shutdown stops, in order.
type shutdownPlan struct {
	log        *slog.Logger
	svc        *portal.Service
	srv        *http.Server
	metricsSrv *http.Server
	tel        *telemetry.Telemetry
	errc       chan error
	stopSync   context.CancelFunc
	syncDone   chan struct{}
	delay      time.Duration
	timeout    time.Duration
}

// shutdown drains the server: /readyz answers 503 at once so the load balancer stops routing
// here, requests keep being served for p.delay, then the listener closes and in-flight requests
// get up to p.timeout to finish. The sync loop stops, metrics go last (a final scrape sees the
// drain), spans are flushed; the caller closes the database after.
func shutdown(p shutdownPlan) error {
	p.svc.Drain()
	p.log.Info("shutting down", "delay", p.delay.String(), "timeout", p.timeout.String())
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	var errs []error
	if err := p.srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
		// Requests still running past the timeout would go on using the database that the
		// caller closes next: close their connections, which cancels their contexts.
		_ = p.srv.Close()
	}
	servers := 1
	p.stopSync()
	<-p.syncDone
	if p.metricsSrv != nil {
		servers++
		if err := p.metricsSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown metrics listener: %w", err))
		}
	}
	for range servers {
		if err := <-p.errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	// A fresh deadline: spans of the requests that just finished are the interesting ones.
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer fcancel()
	if err := p.tel.Shutdown(fctx); err != nil {
		p.log.Warn("could not flush traces", "error", err.Error())
	}
	return errors.Join(errs...)
}

var _ auth.KeySource = (*builtin.Issuer)(nil)

// webUI serves the widgets, telling them to sign in with the issuer the API trusts.
func webUI(cfg config.Config, publicURL string) (*webui.UI, error) {
	authURL, realm := publicURL, "portal"
	if !cfg.Builtin() {
		var err error
		if authURL, realm, err = webui.SplitIssuer(cfg.OIDCIssuer); err != nil {
			return nil, fmt.Errorf("PORTAL_OIDC_ISSUER_URL: %w", err)
		}
	}
	return webui.New(webui.Config{APIURL: publicURL, AuthURL: authURL, Realm: realm, ClientID: cfg.OIDCClientID})
}

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
func syncLoop(ctx context.Context, svc *portal.Service, every time.Duration, log *slog.Logger, failed func()) {
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
		case err != nil && ctx.Err() != nil:
			return // shutting down: the round was cut short, not failed
		case err != nil:
			failed()
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
