package builtin

import (
	"regexp"
	"strings"
	"testing"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, password, attempt string
		want                    bool
	}{
		{"same password", "correct horse battery staple", "correct horse battery staple", true},
		{"wrong password", "correct horse battery staple", "correct horse battery stapl", false},
		{"case matters", "Secret-123", "secret-123", false},
		{"unicode", "pässwörd-ßü", "pässwörd-ßü", true},
		{"empty attempt", "password1", "", false},
		{"long", strings.Repeat("x", 1024), strings.Repeat("x", 1024), true},
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hash, err := HashPassword(tt.password)
			if err != nil {
				t.Fatalf("HashPassword: %v", err)
			}
			if !phc.MatchString(hash) {
				t.Errorf("hash %q is not a PHC argon2id string with the expected cost", hash)
			}
			if strings.Contains(hash, tt.password) {
				t.Errorf("hash contains the password")
			}
			got, err := VerifyPassword(hash, tt.attempt)
			if err != nil {
				t.Fatalf("VerifyPassword: %v", err)
			}
			if got != tt.want {
				t.Errorf("VerifyPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashPasswordSalts(t *testing.T) {
	t.Parallel()
	a, err := HashPassword("same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword("same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
}

// TestVerifyPasswordReferenceVector checks a hash made by the argon2 reference implementation
// (phc-winner-argon2 test.c: argon2id, t=2, m=2^16, p=1, "password", "somesalt" gives
// 09316115d5cf24ed...3cf7), so hashes move between implementations.
func TestVerifyPasswordReferenceVector(t *testing.T) {
	t.Parallel()
	const hash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	for pw, want := range map[string]bool{"password": true, "passwore": false} {
		got, err := VerifyPassword(hash, pw)
		if err != nil {
			t.Fatalf("VerifyPassword(%q): %v", pw, err)
		}
		if got != want {
			t.Errorf("VerifyPassword(%q) = %v, want %v", pw, got, want)
		}
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	t.Parallel()
	const salt, key = "c29tZXNhbHQ", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=65536,t=2,p=1$" + salt + "$" + key},
		{"missing part", "$argon2id$v=19$m=65536,t=2,p=1$" + salt},
		{"extra part", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key + "$x"},
		{"missing param", "$argon2id$v=19$m=65536,t=2$" + salt + "$" + key},
		{"duplicate param", "$argon2id$v=19$m=65536,m=65536,t=2$" + salt + "$" + key},
		{"unknown param", "$argon2id$v=19$m=65536,t=2,p=1,x=1$" + salt + "$" + key},
		{"non-numeric", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key},
		{"memory too large", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"too many passes", "$argon2id$v=19$m=65536,t=1000,p=1$" + salt + "$" + key},
		{"zero passes", "$argon2id$v=19$m=65536,t=0,p=1$" + salt + "$" + key},
		{"zero lanes", "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key},
		{"too many lanes", "$argon2id$v=19$m=65536,t=2,p=255$" + salt + "$" + key},
		{"bad salt base64", "$argon2id$v=19$m=65536,t=2,p=1$!!!!$" + key},
		{"short salt", "$argon2id$v=19$m=65536,t=2,p=1$c29t$" + key},
		{"short key", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$CTFhFdXP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := VerifyPassword(tt.hash, "password")
			if err == nil || ok {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", tt.hash, ok, err)
			}
		})
	}
}
