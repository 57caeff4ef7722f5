package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRun starts the daemon as a browser test would, reads its announcement and signs in.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-admin-secret", "adm-secret",
			"-user", "alice:alice-password-1:alice@example.com:cp-customer",
			"-user", "root:root-password-1::cp-admin",
			"-redirect-origin", "http://127.0.0.1:5173"}, nil, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no announcement: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var got struct{ URL, Issuer string }
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("announcement %q: %v", line, err)
	}
	if !strings.HasPrefix(got.URL, "http://127.0.0.1:") || got.Issuer != got.URL+"/realms/portal" {
		t.Fatalf("announcement = %q", line)
	}

	tokenURL := got.Issuer + "/protocol/openid-connect/token"
	for _, tt := range []struct {
		name string
		form url.Values
		want int
	}{
		{"user password grant", url.Values{"grant_type": {"password"}, "client_id": {"customer-portal"}, "username": {"alice"}, "password": {"alice-password-1"}}, 200},
		{"second user", url.Values{"grant_type": {"password"}, "client_id": {"customer-portal"}, "username": {"root"}, "password": {"root-password-1"}}, 200},
		{"wrong password", url.Values{"grant_type": {"password"}, "client_id": {"customer-portal"}, "username": {"alice"}, "password": {"x"}}, 401},
		{"admin secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"customer-portal-admin"}, "client_secret": {"adm-secret"}}, 200},
	} {
		res, err := http.PostForm(tokenURL, tt.form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s: %d %v, want %d", tt.name, res.StatusCode, body, tt.want)
		}
	}

	// The test's origin is a valid redirect: the login page shows instead of the error page.
	auth := func(redirect string) int {
		q := url.Values{"client_id": {"customer-portal"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}}
		res, err := http.Get(got.Issuer + "/protocol/openid-connect/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := auth("http://127.0.0.1:5173/app/"); s != http.StatusOK {
		t.Errorf("redirect to -redirect-origin: %d, want the login page", s)
	}
	if s := auth("http://127.0.0.1:5174/app/"); s != http.StatusBadRequest {
		t.Errorf("redirect elsewhere: %d, want 400", s)
	}

	cancel() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad role", []string{"-user", "a:b:c:admin"}, "-user \"a:b:c:admin\""},
		{"missing password", []string{"-user", "a::c:cp-admin"}, "username:password:email:role"},
		{"origin with a path", []string{"-redirect-origin", "http://127.0.0.1:1/app"}, "want an origin"},
		{"duplicate user", []string{"-user", "a:b::cp-admin", "-user", "A:c::cp-support"}, "User exists with same username"},
		{"missing realm file", []string{"-realm-file", "/nonexistent.json"}, "nonexistent"},
		{"extra argument", []string{"serve"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
}
