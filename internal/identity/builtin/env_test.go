package builtin

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
)

// keySource is auth.KeySource, declared here because the verifier package is written in
// parallel: the issuer must serve the verifier its keys in-process.
type keySource interface {
	FetchKeys(ctx context.Context) (map[string]crypto.PublicKey, error)
}

var _ keySource = (*Issuer)(nil)

const (
	adaPassword = "analytical-engine"
	realmPath   = "/realms/portal"
	tokenPath   = realmPath + "/protocol/openid-connect/token"
)

// clock is a settable test clock. It starts at the real time, because gocloak checks exp
// against the real clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is an issuer served over real HTTP under /realms/portal, as the portal mounts it, with
// one enabled customer account, ada.
type env struct {
	iss   *Issuer
	cfg   Config
	srv   *httptest.Server
	store *memAccounts
	clock *clock
	logs  *syncBuffer
	ada   *portal.Account
}

// clientIPHeader lets a test choose the client address that failed logins count against.
const clientIPHeader = "X-Test-Client-IP"

func newEnv(t *testing.T, edit ...func(*Config)) *env {
	t.Helper()
	e := &env{store: newMemAccounts(), clock: newClock(), logs: &syncBuffer{}}
	e.iss, e.cfg, e.srv = startIssuer(t, e.store, e.clock, e.logs, edit...)
	var err error
	e.ada, err = CreateAccount(context.Background(), e.store, NewAccount{
		Username:  "ada",
		Email:     "ada@example.com",
		FirstName: "Ada",
		LastName:  "Lovelace",
		Password:  adaPassword,
		Role:      portal.RoleCustomer,
	})
	if err != nil {
		t.Fatalf("create ada: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("issuer log:\n%s", e.logs.String())
		}
	})
	return e
}

// startIssuer serves an issuer over accounts under /realms/portal on a fresh local server,
// logging at DEBUG to logs, with the client IP taken from clientIPHeader when present.
func startIssuer(t *testing.T, accounts portal.AccountStore, clock *clock, logs *syncBuffer, edit ...func(*Config)) (*Issuer, Config, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	cfg := Config{
		Issuer:   "http://" + srv.Listener.Addr().String() + realmPath,
		DataDir:  t.TempDir(),
		Accounts: accounts,
		Now:      clock.Now,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ClientIP: func(r *http.Request) string {
			if ip := r.Header.Get(clientIPHeader); ip != "" {
				return ip
			}
			return remoteHost(r)
		},
	}
	if _, ok := accounts.(LoginFailures); !ok {
		// A wrapped store: count failures in memory, like an issuer over memAccounts.
		cfg.Failures = newMemFailures()
	}
	for _, f := range edit {
		f(&cfg)
	}
	iss, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	realm := http.StripPrefix(realmPath, iss.Handler())
	mux.Handle(realmPath, realm)
	mux.Handle(realmPath+"/", realm)
	srv.Start()
	t.Cleanup(srv.Close)
	if srv.URL+realmPath != iss.IssuerURL() {
		t.Fatalf("server URL %s does not match issuer %s", srv.URL, iss.IssuerURL())
	}
	return iss, cfg, srv
}

// postForm posts form to the token endpoint; mods adjust the request.
func (e *env) postForm(t *testing.T, form url.Values, mods ...func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, m := range mods {
		m(req)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

func passwordForm(user, pw string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {"customer-portal"}, "username": {user}, "password": {pw}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {"customer-portal"}, "refresh_token": {rt}}
}

func fromIP(ip string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(clientIPHeader, ip) }
}

// login runs a password grant that must succeed.
func (e *env) login(t *testing.T, form url.Values, mods ...func(*http.Request)) tokenResponse {
	t.Helper()
	resp, body := e.postForm(t, form, mods...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tr
}

// jsonBody decodes body into a generic value for comparison with cmp.
func jsonBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", body, err)
	}
	return m
}

// verifyAccess checks an access token the way the portal's verifier will: with the keys from
// FetchKeys, RS256 only, this issuer.
func (e *env) verifyAccess(t *testing.T, token string) *auth.Claims {
	t.Helper()
	keys, err := e.iss.FetchKeys(context.Background())
	if err != nil {
		t.Fatalf("FetchKeys: %v", err)
	}
	var c auth.Claims
	_, err = jwt.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid].(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(e.iss.IssuerURL()), jwt.WithTimeFunc(e.clock.Now))
	if err != nil {
		t.Fatalf("access token does not verify with FetchKeys: %v", err)
	}
	return &c
}
