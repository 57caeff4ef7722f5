package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTokenSourceRenews checks that a token is reused while it is fresh and replaced by a new
// password grant once it nears expires_in.
func TestTokenSourceRenews(t *testing.T) {
	t.Parallel()
	var grants atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "password" ||
			r.PostForm.Get("client_id") != "customer-portal" || r.PostForm.Get("username") != "alice" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("password") != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`)
			return
		}
		n := grants.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("token-%d", n), "expires_in": 300})
	}))
	defer srv.Close()

	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	ts := newTokenSource(srv.Client(), srv.URL, "customer-portal", "alice", "secret")
	ts.now = func() time.Time { return now }
	ctx := context.Background()

	steps := []struct {
		at   time.Duration
		want string
	}{
		{0, "token-1"},
		{time.Minute, "token-1"},
		{239 * time.Second, "token-1"}, // 300 s token, renewed 60 s before its end
		{240 * time.Second, "token-2"},
		{400 * time.Second, "token-2"},
		{480 * time.Second, "token-3"},
	}
	for _, s := range steps {
		now = t0.Add(s.at)
		got, err := ts.Token(ctx)
		if err != nil {
			t.Fatalf("at %v: %v", s.at, err)
		}
		if got != s.want {
			t.Errorf("at %v: token %q, want %q", s.at, got, s.want)
		}
	}
	if r := ts.Renewals(); r != 2 {
		t.Errorf("Renewals() = %d, want 2", r)
	}

	bad := newTokenSource(srv.Client(), srv.URL, "customer-portal", "alice", "wrong")
	_, err := bad.Token(ctx)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "Invalid user credentials") {
		t.Errorf("wrong password: err = %v, want the 401 and its description", err)
	}
	if strings.Contains(fmt.Sprint(err), "wrong") {
		t.Errorf("the error repeats the password: %v", err)
	}
}

func TestRenewMargin(t *testing.T) {
	t.Parallel()
	for lifetime, want := range map[time.Duration]time.Duration{
		5 * time.Minute:  time.Minute,
		time.Hour:        time.Minute,
		10 * time.Second: 2 * time.Second,
		time.Second:      200 * time.Millisecond,
	} {
		if got := renewMargin(lifetime); got != want {
			t.Errorf("renewMargin(%v) = %v, want %v", lifetime, got, want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	creds := []string{"-admin-password", "a-pw", "-user", "bob", "-user-password", "b-pw"}
	o, err := parseOptions(creds, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.url != "http://localhost:8080" || o.tokenURL != "http://localhost:8080/realms/portal/protocol/openid-connect/token" ||
		o.clientID != "customer-portal" || o.adminUser != "admin" || o.customers != 100 || o.projects != 10000 ||
		o.assigned != 100 || o.concurrency != 8 || o.seedConcurrency != 8 || o.duration != 10*time.Second || o.requests != 0 || o.skipSeed {
		t.Errorf("defaults = %+v", o)
	}
	if o.apiBase() != "http://localhost:8080/api/v1" {
		t.Errorf("apiBase = %q", o.apiBase())
	}

	o, err = parseOptions(append([]string{"-url", "https://portal.example.com/", "-token-url", "https://kc.example.com/realms/acme/protocol/openid-connect/token"}, creds...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.url != "https://portal.example.com" || o.tokenURL != "https://kc.example.com/realms/acme/protocol/openid-connect/token" {
		t.Errorf("url %q, token url %q", o.url, o.tokenURL)
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"-user", "bob", "-user-password", "x"}, "-admin-password are required"},
		{[]string{"-admin-password", "x"}, "-user and -user-password are required"},
		{append([]string{"-url", "localhost:8080"}, creds...), "-url"},
		{append([]string{"-projects", "10", "-assigned", "11"}, creds...), "-assigned must be between 1 and -projects (10)"},
		{append([]string{"-customers", "0"}, creds...), "-customers must be at least 1"},
		{append([]string{"-concurrency", "0"}, creds...), "-concurrency must be at least 1"},
		{append([]string{"-duration", "0"}, creds...), "-duration 0 needs -requests"},
		{append([]string{"-nope"}, creds...), "flag provided but not defined"},
		{append(creds, "extra"), `unexpected argument "extra"`},
	}
	for _, tt := range bad {
		_, err := parseOptions(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseOptions(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		} else if !errors.As(err, new(usageError)) {
			t.Errorf("parseOptions(%q) = %T, want a usageError", tt.args, err)
		}
	}
}
