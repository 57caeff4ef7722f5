package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// KeySource fetches an issuer's current verification keys, by kid. The built-in issuer
// implements it in process; the Keycloak adapter implements it with gocloak's GetCerts.
// The Verifier caches what it returns and calls it again only when a token names a kid it
// does not know, so an implementation need not cache.
type KeySource interface {
	FetchKeys(ctx context.Context) (map[string]crypto.PublicKey, error)
}

// minRSABits is the smallest RSA modulus accepted. Keycloak generates 2048-bit keys; smaller
// ones are forgeable and Go refuses to verify with them anyway.
const minRSABits = 2048

// JWK is one JSON Web Key (RFC 7517) with the members a verifier needs. It exists so that
// adapters holding keys in their own types (gocloak's CertResponseKey) convert them with the
// same rules as ParseJWKS.
type JWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// ParseJWKS returns the RSA and EC signing keys of a JWKS document ({"keys":[...]}) by kid.
// Keys marked use=enc (Keycloak serves an RSA-OAEP one) and key types other than RSA and EC
// are skipped; a malformed RSA or EC signing key is an error.
func ParseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var doc struct {
		Keys *[]JWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`jwks: no "keys" member`)
	}
	return PublicKeys(*doc.Keys)
}

// PublicKeys converts JWKs to verification keys by kid, with the rules of ParseJWKS. When two
// signing keys share a kid, the first one wins, as in gocloak.
func PublicKeys(keys []JWK) (map[string]crypto.PublicKey, error) {
	out := make(map[string]crypto.PublicKey, len(keys))
	for _, k := range keys {
		if k.Use == "enc" || (k.Kty != "RSA" && k.Kty != "EC") {
			continue
		}
		if _, dup := out[k.Kid]; dup {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			return nil, err
		}
		out[k.Kid] = pub
	}
	return out, nil
}

// PublicKey decodes an RSA or EC key.
func (k JWK) PublicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		return k.rsa()
	case "EC":
		return k.ec()
	default:
		return nil, fmt.Errorf("jwk %q: unsupported key type %q", k.Kid, k.Kty)
	}
}

func (k JWK) rsa() (*rsa.PublicKey, error) {
	n, err := decodeInt(k.N)
	if err != nil {
		return nil, fmt.Errorf("jwk %q: modulus: %w", k.Kid, err)
	}
	e, err := decodeInt(k.E)
	if err != nil {
		return nil, fmt.Errorf("jwk %q: exponent: %w", k.Kid, err)
	}
	if n.BitLen() < minRSABits {
		return nil, fmt.Errorf("jwk %q: RSA modulus of %d bits is too small", k.Kid, n.BitLen())
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, fmt.Errorf("jwk %q: invalid RSA exponent", k.Kid)
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

func (k JWK) ec() (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch k.Crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	case "P-521":
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("jwk %q: unsupported curve %q", k.Kid, k.Crv)
	}
	// An uncompressed point (0x04 || X || Y) with fixed-width coordinates; parsing it rejects
	// points that are not on the curve (invalid-curve attacks).
	size := (curve.Params().BitSize + 7) / 8
	point := make([]byte, 1, 1+2*size)
	point[0] = 4
	for _, c := range []struct{ name, v string }{{"x", k.X}, {"y", k.Y}} {
		n, err := decodeInt(c.v)
		if err != nil {
			return nil, fmt.Errorf("jwk %q: %s: %w", k.Kid, c.name, err)
		}
		if n.BitLen() > size*8 {
			return nil, fmt.Errorf("jwk %q: %s is too long for %s", k.Kid, c.name, k.Crv)
		}
		point = append(point, n.FillBytes(make([]byte, size))...)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("jwk %q: %w", k.Kid, err)
	}
	return pub, nil
}

// decodeInt decodes an unsigned big-endian integer in base64url; padding is tolerated.
func decodeInt(s string) (*big.Int, error) {
	if s == "" {
		return nil, errors.New("missing")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}
