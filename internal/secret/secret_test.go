package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sealer mirrors portal.Sealer without importing portal.
type sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

var _ sealer = (*Box)(nil)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustNew(t *testing.T, key []byte) *Box {
	t.Helper()
	b, err := New(key)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

func TestNewKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New(%d bytes): want error", n)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	box := mustNew(t, testKey(1))
	tests := []struct {
		name  string
		plain []byte
	}{
		{"empty", []byte{}},
		{"token", []byte("jira-api-token-123")},
		{"binary", []byte{0, 1, 2, 255, 254}},
		{"long", bytes.Repeat([]byte("x"), 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := box.Seal(tt.plain)
			if err != nil {
				t.Fatal(err)
			}
			if sealed[0] != 1 || len(sealed) != 1+12+len(tt.plain)+16 {
				t.Fatalf("bad layout: version %d len %d", sealed[0], len(sealed))
			}
			got, err := box.Open(sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plain) {
				t.Fatalf("got %q want %q", got, tt.plain)
			}
		})
	}
}

func TestDifferentNonces(t *testing.T) {
	box := mustNew(t, testKey(1))
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		s, err := box.Seal([]byte("same"))
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(s[1:13])
		if seen[nonce] {
			t.Fatal("nonce repeated")
		}
		seen[nonce] = true
	}
}

func TestOpenFailures(t *testing.T) {
	box := mustNew(t, testKey(1))
	other := mustNew(t, testKey(2))
	sealed, err := box.Seal([]byte("webhook-secret"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := append([]byte(nil), sealed...)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name    string
		box     *Box
		in      []byte
		wantErr error
		wantMsg string
	}{
		{"nil", box, nil, ErrMalformed, "sealed secret is malformed"},
		{"short", box, sealed[:20], ErrMalformed, "sealed secret is malformed"},
		{"bad version", box, flip(0), ErrMalformed, "sealed secret is malformed"},
		{"tampered nonce", box, flip(5), ErrWrongKey, ""},
		{"tampered ciphertext", box, flip(14), ErrWrongKey, ""},
		{"tampered tag", box, flip(len(sealed) - 1), ErrWrongKey, ""},
		{"wrong key", other, sealed, ErrWrongKey, "sealed secret does not open with this key (was PORTAL_SECRET_KEY changed?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v (plain %q)", err, tt.wantErr, got)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Fatalf("msg = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestFromConfigEnvKey(t *testing.T) {
	key := testKey(0xfb) // 0xfb bytes produce '+'/'/' vs '-'/'_' in the two alphabets
	ref := mustNew(t, key)
	sealed, err := ref.Seal([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     string
		wantErr string
	}{
		{"std", base64.StdEncoding.EncodeToString(key), ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(key), ""},
		{"url", base64.URLEncoding.EncodeToString(key), ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(key), ""},
		{"whitespace", " " + base64.StdEncoding.EncodeToString(key) + "\n", ""},
		{"short key", base64.StdEncoding.EncodeToString(key[:16]), "must decode to 32 bytes"},
		{"long key", base64.StdEncoding.EncodeToString(append(key, 1)), "must decode to 32 bytes"},
		{"not base64", "!!!not-base64!!!", "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			box, err := FromConfig(tt.env, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, err := box.Open(sealed); err != nil || string(got) != "x" {
				t.Fatalf("Open = %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
				t.Fatalf("env key must not create a key file (stat err %v)", err)
			}
		})
	}
	// Sanity: the two alphabets really differ for this key.
	if base64.StdEncoding.EncodeToString(key) == base64.URLEncoding.EncodeToString(key) {
		t.Fatal("test key does not exercise both alphabets")
	}
}

func TestFromConfigGeneratedFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // missing: must be created 0700
	b1, err := FromConfig("", dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != KeySize {
		t.Fatalf("key file mode %v size %d", fi.Mode().Perm(), fi.Size())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, want 0700", di.Mode().Perm())
	}
	before, _ := os.ReadFile(path)

	sealed, err := b1.Seal([]byte("tok"))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := FromConfig("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Open(sealed); err != nil || string(got) != "tok" {
		t.Fatalf("second FromConfig did not reuse key: %q, %v", got, err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("key file changed on second call")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("leftover files in data dir: %v", entries)
	}
}

func TestFromConfigConcurrent(t *testing.T) {
	for round := 0; round < 10; round++ {
		dir := t.TempDir()
		const n = 8
		boxes := make([]*Box, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				boxes[i], errs[i] = FromConfig("", dir)
			}(i)
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("FromConfig %d: %v", i, err)
			}
		}
		sealed, err := boxes[0].Seal([]byte("agree"))
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range boxes {
			if got, err := b.Open(sealed); err != nil || string(got) != "agree" {
				t.Fatalf("round %d box %d disagrees: %v", round, i, err)
			}
		}
	}
}

func TestFromConfigBadKeyFile(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantErr string
	}{
		{"mode 0644", testKey(3), 0o644, "permissions 0644, want 0600"},
		{"mode 0400", testKey(3), 0o400, "want 0600"},
		{"too short", testKey(3)[:10], 0o600, "exactly 32 bytes"},
		{"too long", append(testKey(3), '\n'), 0o600, "exactly 32 bytes"},
		{"empty", nil, 0o600, "exactly 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFileName)
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := FromConfig("", dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, tt.content) {
				t.Fatal("bad key file was overwritten")
			}
		})
	}
}

func TestFromConfigNoKeyNoDir(t *testing.T) {
	if _, err := FromConfig("", ""); err == nil {
		t.Fatal("want error")
	}
}
