package builtin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/customer-portal/portal/internal/portal"
)

func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	return Config{Issuer: "http://localhost:8080/realms/portal", DataDir: dir, Accounts: newMemAccounts()}
}

func onlyKID(t *testing.T, i *Issuer) string {
	t.Helper()
	keys, err := i.FetchKeys(context.Background())
	if err != nil || len(keys) != 1 {
		t.Fatalf("FetchKeys = %v, %v; want one key", keys, err)
	}
	for kid := range keys {
		return kid
	}
	return ""
}

func TestKeyPersistence(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "portal") // does not exist yet
	first, err := New(testConfig(t, dir))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	second, err := New(testConfig(t, dir))
	if err != nil {
		t.Fatalf("New again: %v", err)
	}
	if a, b := onlyKID(t, first), onlyKID(t, second); a != b {
		t.Errorf("kid changed across restarts: %s, then %s", a, b)
	}

	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v (err %v), want 0700", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only the key file", len(entries))
	}

	// A token signed before the restart still works after it, refresh token included.
	resp, err := first.mint(&accountFixture, session{id: "s1", authTime: time.Now(), scope: baseScope}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.parseAccessToken(resp.AccessToken); err != nil {
		t.Errorf("access token from before the restart: %v", err)
	}
	if _, err := second.parseRefreshToken(resp.RefreshToken); err != nil {
		t.Errorf("refresh token from before the restart: %v", err)
	}
}

func TestKeyFileConcurrentCreation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 4
	kids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			iss, err := New(testConfig(t, dir))
			if err != nil {
				t.Errorf("New: %v", err)
				return
			}
			keys, _ := iss.FetchKeys(context.Background())
			for kid := range keys {
				kids[i] = kid
			}
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if kids[i] != kids[0] {
			t.Errorf("issuers starting together on one directory got kids %v", kids)
			break
		}
	}
}

func TestKeyFileRotationLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// An operator prepends a new key (PKCS#1 this time, without certificate) to the file.
	old, err := New(testConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	oldKID := onlyKID(t, old)
	path := filepath.Join(dir, KeyFile)
	existing, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fresh := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	if err := os.WriteFile(path, append(fresh, existing...), 0o600); err != nil {
		t.Fatal(err)
	}

	rotated, err := New(testConfig(t, dir))
	if err != nil {
		t.Fatalf("New with two keys: %v", err)
	}
	keys, _ := rotated.FetchKeys(context.Background())
	if len(keys) != 2 || keys[oldKID] == nil {
		t.Fatalf("FetchKeys = %d keys, want the new and the old (%s)", len(keys), oldKID)
	}
	if rotated.keys.active().kid == oldKID {
		t.Errorf("the old key still signs; the first key in the file should")
	}
	var certs struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rotated.certsJSON, &certs); err != nil || len(certs.Keys) != 2 {
		t.Fatalf("JWKS %s", rotated.certsJSON)
	}
	if _, ok := certs.Keys[0]["x5c"]; ok {
		t.Errorf("new key published with x5c though it has no certificate")
	}
	if _, ok := certs.Keys[1]["x5c"]; !ok {
		t.Errorf("old key published without its certificate")
	}

	// Tokens of the old key still verify; new ones carry the new kid.
	tok, err := old.mint(&accountFixture, session{id: "s", authTime: time.Now(), scope: baseScope}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.parseAccessToken(tok.AccessToken); err != nil {
		t.Errorf("token of the old key: %v", err)
	}
	if _, err := rotated.parseRefreshToken(tok.RefreshToken); err != nil {
		t.Errorf("refresh token of the old key: %v", err)
	}
	tok, err = rotated.mint(&accountFixture, session{id: "s", authTime: time.Now(), scope: baseScope}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, jwt.MapClaims{})
	if err != nil || parsed.Header["kid"] != rotated.keys.active().kid {
		t.Errorf("new token kid %v, want %s", parsed.Header["kid"], rotated.keys.active().kid)
	}
}

func TestKeyFileErrors(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	valid, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	validPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(valid)})
	otherCert, err := selfSignedCert(small, "portal", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, content, wantErr string
	}{
		{"empty", "", "no key in file"},
		{"not PEM", "hello", "no key in file"},
		{"garbage key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})), "key 1"},
		{"small key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER})), "1024 bits"},
		{"unknown block", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("x")})), `unexpected PEM block "PUBLIC KEY"`},
		{"certificate first", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherCert})), "certificate before any key"},
		{"certificate of another key", string(validPEM) + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherCert})), "certificate is for another key"},
		{"same key twice", string(validPEM) + string(validPEM), "duplicate key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(testConfig(t, dir))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
			// A file that cannot be read is never replaced: that would silently log everyone out.
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("key file was rewritten")
			}
		})
	}
}

func TestKeyFileModeWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := New(testConfig(t, dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cfg := testConfig(t, dir)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "chmod 600") {
		t.Errorf("no warning about a world-readable key file: %q", logs.String())
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	store := newMemAccounts()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"missing issuer", Config{DataDir: "x", Accounts: store}, "absolute http(s) URL"},
		{"relative issuer", Config{Issuer: "/realms/portal", DataDir: "x", Accounts: store}, "absolute http(s) URL"},
		{"issuer with query", Config{Issuer: "http://h/realms/portal?x=1", DataDir: "x", Accounts: store}, "absolute http(s) URL"},
		{"issuer without realm", Config{Issuer: "http://h/", DataDir: "x", Accounts: store}, "realm path"},
		{"missing data dir", Config{Issuer: "http://h/realms/portal", Accounts: store}, "DataDir is required"},
		{"missing accounts", Config{Issuer: "http://h/realms/portal", DataDir: "x"}, "Accounts is required"},
		{"accounts that do not count failures", Config{Issuer: "http://h/realms/portal", DataDir: "x",
			Accounts: &recordingTokens{AccountDirectory: newMemAccounts()}}, "Failures is required"},
		{"negative TTL", Config{Issuer: "http://h/realms/portal", DataDir: "x", Accounts: store, AccessTTL: -time.Second}, "at least one second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}

	// Defaults, and a trailing slash on the issuer is dropped.
	i, err := New(Config{Issuer: "https://portal.example.com/realms/portal/", DataDir: t.TempDir(), Accounts: store})
	if err != nil {
		t.Fatal(err)
	}
	if i.IssuerURL() != "https://portal.example.com/realms/portal" || i.clientID != DefaultClientID || i.realm != "portal" ||
		i.accessTTL != 5*time.Minute || i.refreshTTL != 30*time.Minute || i.sMax != 10*time.Hour {
		t.Errorf("defaults: issuer %s client %s realm %s ttl %v/%v/%v", i.IssuerURL(), i.clientID, i.realm, i.accessTTL, i.refreshTTL, i.sMax)
	}
}

// accountFixture is an account for minting tokens directly.
var accountFixture = portal.Account{
	Subject:  "2c1a4f5e-0d7b-4c55-9a43-0f8f5b0c6a11",
	Username: "ada",
	Email:    "ada@example.com",
	Roles:    []portal.Role{portal.RoleCustomer},
	Enabled:  true,
}
