package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// fakeVerifier maps opaque test tokens to principals; real token verification is tested in
// internal/auth and end to end in cmd/portal.
type fakeVerifier map[string]portal.Principal

func (f fakeVerifier) Verify(_ context.Context, token string) (portal.Principal, error) {
	p, ok := f[token]
	if !ok {
		return portal.Principal{}, portal.Errorf(portal.Unauthenticated, "token signature is invalid")
	}
	return p, nil
}

// The callers of every test: one per role.
var principals = fakeVerifier{
	"admin":    {Subject: "sub-admin", Username: "admin", Email: "admin@example.com", Roles: []portal.Role{portal.RoleAdmin}},
	"support":  {Subject: "sub-support", Username: "support", Roles: []portal.Role{portal.RoleSupport}},
	"partner":  {Subject: "sub-partner", Username: "pat", Email: "pat@partner.example", Roles: []portal.Role{portal.RolePartner}},
	"customer": {Subject: "sub-customer", Username: "cus", Email: "cus@customer.example", Roles: []portal.Role{portal.RoleCustomer}},
	"nobody":   {Subject: "sub-nobody", Username: "nobody"},
	// customer2 is assigned only where a test needs a request on the others' foreign project.
	"customer2": {Subject: "sub-customer2", Username: "cus2", Roles: []portal.Role{portal.RoleCustomer}},
}

type apiServer struct {
	t   testing.TB
	url string
	db  *store.DB
}

func newServer(t testing.TB, db *store.DB) *apiServer {
	t.Helper()
	return newServerWith(t, db, nil)
}

func newServerWith(t testing.TB, db *store.DB, id portal.Identity) *apiServer {
	t.Helper()
	svc := portal.NewService(db, portal.Options{Identity: id, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h, err := httpapi.New(httpapi.Config{Service: svc, Verifier: principals,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request as the caller named by token ("" sends none); body is JSON-encoded
// unless it is a string, which is sent as is.
func (s *apiServer) do(token, method, path string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// must sends a request that has to answer want, and returns its JSON object (if any).
func (s *apiServer) must(want int, token, method, path string, body any) map[string]any {
	s.t.Helper()
	r := s.do(token, method, path, body)
	if r.status != want {
		s.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, token, r.status, want, r.body)
	}
	if len(r.body) == 0 || r.body[0] != '{' {
		return nil
	}
	return r.json(s.t)
}

// meID signs the caller in once (creating its user row) and returns its user id.
func (s *apiServer) meID(token string) string {
	s.t.Helper()
	return s.must(200, token, "GET", "/api/v1/me", nil)["id"].(string)
}

// each runs fn against a fresh server on PostgreSQL and on SQLite.
func each(t *testing.T, fn func(t *testing.T, s *apiServer)) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) { fn(t, newServer(t, db)) })
}
