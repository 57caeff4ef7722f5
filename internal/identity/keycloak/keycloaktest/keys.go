package keycloaktest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // x5t is the SHA-1 thumbprint of the certificate (RFC 7517 §4.8)
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signingKey is an RS256 realm key, the kind Keycloak's rsa-generated provider makes.
type signingKey struct {
	kid    string
	priv   *rsa.PrivateKey
	cert   []byte // self-signed, subject CN=<realm>, as Keycloak makes it
	header string // the encoded JWT header of every token this key signs
}

// encryptionKey is the RSA-OAEP key Keycloak's rsa-enc-generated provider serves with use=enc.
type encryptionKey struct {
	kid  string
	priv *rsa.PrivateKey
	cert []byte
}

// hmacKey signs refresh tokens, as Keycloak's hmac-generated provider does.
type hmacKey struct {
	secret []byte
	header string
}

// jwtHeader renders a JWT header with Keycloak's member order.
func jwtHeader(alg, kid string) string {
	b, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}{alg, "JWT", kid})
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newKid returns a kid like Keycloak's (43 base64url characters) whose JWT header for alg
// encodes free of '-' and '_'. gocloak decodes token headers with the standard base64
// alphabet, so a header with either character fails DecodeAccessToken (NOTES.md §4).
func newKid(alg string) (kid, header string) {
	for range 10000 {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		kid = base64.RawURLEncoding.EncodeToString(b)
		header = jwtHeader(alg, kid)
		if !strings.ContainsAny(header, "-_") {
			return kid, header
		}
	}
	panic("keycloaktest: no kid gives a JWT header free of '-' and '_'")
}

func newSigningKey(realm string) *signingKey {
	priv := generateRSA()
	kid, header := newKid("RS256")
	return &signingKey{kid: kid, priv: priv, cert: selfSigned(realm, priv), header: header}
}

// sharedEncryptionKey is one encryption key for every server of the process: nothing uses it,
// and RSA key generation is what makes New slow.
var sharedEncryptionKey = sync.OnceValue(func() *encryptionKey {
	priv := generateRSA()
	kid, _ := newKid("RSA-OAEP")
	return &encryptionKey{kid: kid, priv: priv, cert: selfSigned("keycloaktest", priv)}
})

func newHMACKey() *hmacKey {
	secret := make([]byte, 64)
	if _, err := rand.Read(secret); err != nil {
		panic(err)
	}
	_, header := newKid("HS512")
	return &hmacKey{secret: secret, header: header}
}

func generateRSA() *rsa.PrivateKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return priv
}

func selfSigned(cn string, priv *rsa.PrivateKey) []byte {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		Issuer:       pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(10, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		panic(err)
	}
	return der
}

// RotateKeys makes a new RS256 key the realm's active signing key. The previous keys stay
// published in the JWKS, and tokens they signed stay valid, as Keycloak's passive keys do,
// until DropOldKeys.
func (s *Server) RotateKeys() {
	k := newSigningKey(s.realm)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
}

// DropOldKeys removes every signing key but the active one, as disabling or deleting a key
// in Keycloak does: tokens they signed stop verifying and they leave the JWKS.
func (s *Server) DropOldKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[len(s.keys)-1:]
}

// KeyID is the kid of the active signing key.
func (s *Server) KeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activeKey().kid
}

// activeKey is the key that signs; s.mu must be held.
func (s *Server) activeKey() *signingKey { return s.keys[len(s.keys)-1] }

// jwk is a JSON Web Key as Keycloak's certs endpoint serves it.
type jwk struct {
	Kid     string   `json:"kid"`
	Kty     string   `json:"kty"`
	Alg     string   `json:"alg"`
	Use     string   `json:"use"`
	N       string   `json:"n"`
	E       string   `json:"e"`
	X5c     []string `json:"x5c"`
	X5t     string   `json:"x5t"`
	X5tS256 string   `json:"x5t#S256"`
}

func newJWK(kid, alg, use string, pub *rsa.PublicKey, cert []byte) jwk {
	sum1 := sha1.Sum(cert)
	sum256 := sha256.Sum256(cert)
	return jwk{
		Kid:     kid,
		Kty:     "RSA",
		Alg:     alg,
		Use:     use,
		N:       base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:       base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		X5c:     []string{base64.StdEncoding.EncodeToString(cert)},
		X5t:     base64.RawURLEncoding.EncodeToString(sum1[:]),
		X5tS256: base64.RawURLEncoding.EncodeToString(sum256[:]),
	}
}

// jwks is the certs document: the encryption key first, as Keycloak often lists it (a client
// that takes the first key instead of matching kid and use fails here as it would there), then
// the signing keys, the active one first.
func (s *Server) jwks() map[string][]jwk {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := []jwk{newJWK(s.enc.kid, "RSA-OAEP", "enc", &s.enc.priv.PublicKey, s.enc.cert)}
	for i := len(s.keys) - 1; i >= 0; i-- {
		k := s.keys[i]
		keys = append(keys, newJWK(k.kid, "RS256", "sig", &k.priv.PublicKey, k.cert))
	}
	return map[string][]jwk{"keys": keys}
}

// sign returns claims as a JWT signed by the active key (RS256), or by the HMAC key (HS512)
// when refresh is set.
func (s *Server) sign(claims any, refresh bool) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	header, method, key := s.activeKey().header, jwt.SigningMethod(jwt.SigningMethodRS256), any(s.activeKey().priv)
	if refresh {
		header, method, key = s.hmac.header, jwt.SigningMethodHS512, s.hmac.secret
	}
	s.mu.Unlock()
	signingString := header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := method.Sign(signingString, key)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signingString + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// parse verifies a token this server signed with a key it still has and returns its claims:
// RS256 tokens (access and ID) unless refresh is set, HS512 refresh tokens if it is. It checks
// the issuer and expiry too; callers check typ and what the token refers to.
func (s *Server) parse(raw string, refresh bool) (map[string]any, error) {
	methods := []string{"RS256"}
	if refresh {
		methods = []string{"HS512"}
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(s.IssuerURL()),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	).ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if refresh {
			return s.hmac.secret, nil
		}
		kid, _ := t.Header["kid"].(string)
		for _, k := range s.keys {
			if k.kid == kid {
				return &k.priv.PublicKey, nil
			}
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	})
	if err != nil {
		return nil, err
	}
	return claims, nil
}
