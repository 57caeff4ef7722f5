package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/auth"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid, use string, k *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kid": kid, "kty": "RSA", "alg": "RS256", "use": use,
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()),
		"x5c": []string{"MIIC..."}, "x5t": "abc", "x5t#S256": "def",
	}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	size := (k.Curve.Params().BitSize + 7) / 8
	point, err := k.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"kid": kid, "kty": "EC", "alg": "ES256", "use": "sig", "crv": k.Curve.Params().Name,
		"x": b64(point[1 : 1+size]), "y": b64(point[1+size:]),
	}
}

func jwks(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	rsa1, rsa2, ec := &rsaKey1().PublicKey, &rsaKey2().PublicKey, &ecKey().PublicKey
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range m {
			out[kk] = vv
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	point, err := ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	y := new(big.Int).SetBytes(point[1+len(point)/2:])
	offCurve := with(ecJWK("bad", ec), "y", b64(y.Add(y, big.NewInt(1)).Bytes()))

	tests := []struct {
		name    string
		doc     []byte
		want    map[string]crypto.PublicKey
		wantErr string
	}{
		{
			name: "keycloak certs: enc key skipped",
			doc:  jwks(t, rsaJWK("enc1", "enc", rsa2), rsaJWK("sig1", "sig", rsa1)),
			want: map[string]crypto.PublicKey{"sig1": rsa1},
		},
		{
			name: "RSA and EC, no use member",
			doc:  jwks(t, with(rsaJWK("r", "", rsa1), "use", nil), ecJWK("e", ec), ecJWK("p384", &p384.PublicKey)),
			want: map[string]crypto.PublicKey{"r": rsa1, "e": ec, "p384": &p384.PublicKey},
		},
		{
			name: "other key types skipped",
			doc: jwks(t, rsaJWK("r", "sig", rsa1),
				map[string]any{"kid": "ed", "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
				map[string]any{"kid": "hs", "kty": "oct", "k": "c2VjcmV0"}),
			want: map[string]crypto.PublicKey{"r": rsa1},
		},
		{
			name: "duplicate kid: first wins",
			doc:  jwks(t, rsaJWK("k", "sig", rsa1), rsaJWK("k", "sig", rsa2)),
			want: map[string]crypto.PublicKey{"k": rsa1},
		},
		{
			name: "padded base64 tolerated",
			doc:  jwks(t, with(rsaJWK("r", "sig", rsa1), "e", "AQAB==")),
			want: map[string]crypto.PublicKey{"r": rsa1},
		},
		{name: "empty set", doc: []byte(`{"keys":[]}`), want: map[string]crypto.PublicKey{}},
		{name: "not JSON", doc: []byte(`<html>`), wantErr: "jwks:"},
		{name: "no keys member", doc: []byte(`{}`), wantErr: `no "keys" member`},
		{name: "RSA too small", doc: jwks(t, rsaJWK("s", "sig", &small.PublicKey)), wantErr: "too small"},
		{name: "RSA even exponent", doc: jwks(t, with(rsaJWK("r", "sig", rsa1), "e", b64([]byte{1, 0, 0}))), wantErr: "invalid RSA exponent"},
		{name: "RSA missing modulus", doc: jwks(t, with(rsaJWK("r", "sig", rsa1), "n", nil)), wantErr: "modulus: missing"},
		{name: "RSA bad base64", doc: jwks(t, with(rsaJWK("r", "sig", rsa1), "n", "!!")), wantErr: "modulus"},
		{name: "EC point off the curve", doc: jwks(t, offCurve), wantErr: `jwk "bad"`},
		{name: "EC unknown curve", doc: jwks(t, with(ecJWK("e", ec), "crv", "secp256k1")), wantErr: "unsupported curve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParseJWKS(tt.doc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseJWKS error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}
