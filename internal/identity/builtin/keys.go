package builtin

import (
	"crypto"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeyFile is the name of the signing key file inside Config.DataDir.
//
// The file holds one or more keys, each a PEM "PRIVATE KEY" block (PKCS#8; a PKCS#1 "RSA PRIVATE
// KEY" block is accepted too) optionally followed by the "CERTIFICATE" block of a self-signed
// certificate for that key, which the JWKS publishes as x5c. The first key signs new tokens;
// every key in the file is published and verifies tokens, so a rotation prepends a new key and
// drops the old one once its tokens have expired.
const KeyFile = "oidc-signing-key.pem"

const (
	rsaBits = 2048
	// certValidity matches the lifetime of the certificates Keycloak generates for realm keys.
	certValidity = 10 * 365 * 24 * time.Hour
	// refreshKeyInfo separates the refresh-token MAC key derived from an RSA key from any other
	// use of that key.
	refreshKeyInfo = "customer-portal builtin issuer: refresh token HS512 key"
	// formKeyInfo separates the key that signs the login form's request token.
	formKeyInfo = "customer-portal builtin issuer: login form HMAC-SHA256 key"
)

// signingKey is one RSA key of the issuer with everything derived from it.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
	cert []byte // DER of the self-signed certificate, or nil
	// mac signs refresh tokens (HS512, as Keycloak does), so a refresh token can never pass
	// for an access token with a verifier that only knows the public keys.
	mac []byte
	// form signs the login form's token, so that what the form carries cannot be altered.
	form []byte
}

// keyRing is the issuer's set of keys; keys[0] signs.
type keyRing struct {
	keys []*signingKey
}

func (r *keyRing) active() *signingKey { return r.keys[0] }

func (r *keyRing) byKID(kid string) *signingKey {
	for _, k := range r.keys {
		if k.kid == kid {
			return k
		}
	}
	return nil
}

// loadOrCreateKeys reads dir/KeyFile, or creates it with a new RSA key when it does not exist.
// Two processes starting at once on the same directory end up with the same key: the file is
// written aside and hard-linked into place, and the loser of that race reads the winner's file.
func loadOrCreateKeys(dir, realm string, now time.Time, log *slog.Logger) (*keyRing, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, KeyFile)
	ring, err := readKeyFile(path, log)
	if err == nil {
		return ring, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	cert, err := selfSignedCert(priv, realm, now)
	if err != nil {
		return nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})...)

	tmp, err := os.CreateTemp(dir, ".oidc-signing-key-*.tmp") // created with mode 0600
	if err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path, log)
		}
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	syncDir(dir)
	log.Info("created OIDC signing key", "path", path)
	return readKeyFile(path, log)
}

// syncDir makes a new directory entry durable; failure only weakens durability, so it is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func readKeyFile(path string, log *slog.Logger) (*keyRing, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("OIDC signing key file is readable by other users; chmod 600 it", "path", path, "mode", st.Mode().Perm().String())
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", path, err)
	}
	ring, err := parseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", path, err)
	}
	return ring, nil
}

func parseKeys(data []byte) (*keyRing, error) {
	ring := &keyRing{}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			var key any
			var err error
			if block.Type == "PRIVATE KEY" {
				key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
			} else {
				key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
			}
			if err != nil {
				return nil, fmt.Errorf("key %d: %w", len(ring.keys)+1, err)
			}
			priv, ok := key.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("key %d: %T is not an RSA key", len(ring.keys)+1, key)
			}
			if priv.N.BitLen() < rsaBits {
				return nil, fmt.Errorf("key %d: RSA key has %d bits, want at least %d", len(ring.keys)+1, priv.N.BitLen(), rsaBits)
			}
			k, err := newSigningKey(priv)
			if err != nil {
				return nil, err
			}
			if ring.byKID(k.kid) != nil {
				return nil, fmt.Errorf("key %d: duplicate key", len(ring.keys)+1)
			}
			ring.keys = append(ring.keys, k)
		case "CERTIFICATE":
			if len(ring.keys) == 0 {
				return nil, errors.New("certificate before any key")
			}
			k := ring.keys[len(ring.keys)-1]
			if k.cert != nil {
				return nil, fmt.Errorf("key %d: more than one certificate", len(ring.keys))
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("key %d: certificate: %w", len(ring.keys), err)
			}
			if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&k.priv.PublicKey) {
				return nil, fmt.Errorf("key %d: certificate is for another key", len(ring.keys))
			}
			k.cert = block.Bytes
		default:
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
	}
	if len(ring.keys) == 0 {
		return nil, errors.New("no key in file")
	}
	return ring, nil
}

func newSigningKey(priv *rsa.PrivateKey) (*signingKey, error) {
	kid, err := keyID(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, priv.D.Bytes(), nil, refreshKeyInfo, 64)
	if err != nil {
		return nil, fmt.Errorf("derive refresh token key: %w", err)
	}
	form, err := hkdf.Key(sha256.New, priv.D.Bytes(), nil, formKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive login form key: %w", err)
	}
	return &signingKey{kid: kid, priv: priv, mac: mac, form: form}, nil
}

// keyID derives the key id from the public key, as Keycloak does (base64url of the SHA-256 of
// the SubjectPublicKeyInfo), so the same key always has the same kid.
//
// gocloak decodes the JWT header with the standard base64 alphabet (shared/contracts/NOTES.md
// §4), so the encoded header must hold neither '-' nor '_'. For ASCII JSON those appear only
// where '>', '?', '~' or DEL sits at a byte offset of 2 mod 3, which a base64url kid never
// contains; the check below keeps that true whatever the header layout becomes, moving along a
// hash chain to the next candidate if a kid ever fails it.
func keyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	for i := uint32(0); i < 10000; i++ {
		candidate := sum
		if i > 0 {
			candidate = sha256.Sum256(binary.BigEndian.AppendUint32(sum[:], i))
		}
		kid := base64.RawURLEncoding.EncodeToString(candidate[:])
		if headerClean(kid) {
			return kid, nil
		}
	}
	return "", errors.New("no key id gives a JWT header free of '-' and '_'")
}

// headerClean reports whether the headers of both token kinds signed with this kid encode
// without '-' or '_'.
func headerClean(kid string) bool {
	for _, alg := range []string{"RS256", "HS512"} {
		if strings.ContainsAny(encodedHeader(alg, kid), "-_") {
			return false
		}
	}
	return true
}

// encodedHeader is the first segment of a token as jwt.Token.SigningString writes it.
func encodedHeader(alg, kid string) string {
	b, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT", "kid": kid})
	return base64.RawURLEncoding.EncodeToString(b)
}

func selfSignedCert(priv *rsa.PrivateKey, realm string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: realm},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return der, nil
}

// jwk is one entry of the JWKS, in Keycloak's field order.
type jwk struct {
	KID     string   `json:"kid"`
	KTY     string   `json:"kty"`
	Alg     string   `json:"alg"`
	Use     string   `json:"use"`
	N       string   `json:"n"`
	E       string   `json:"e"`
	X5C     []string `json:"x5c,omitempty"`
	X5T     string   `json:"x5t,omitempty"`
	X5TS256 string   `json:"x5t#S256,omitempty"`
}

func (k *signingKey) jwk() jwk {
	pub := k.priv.PublicKey
	j := jwk{
		KID: k.kid,
		KTY: "RSA",
		Alg: "RS256",
		Use: "sig",
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	if k.cert != nil {
		s1 := sha1.Sum(k.cert)
		s256 := sha256.Sum256(k.cert)
		j.X5C = []string{base64.StdEncoding.EncodeToString(k.cert)}
		j.X5T = base64.RawURLEncoding.EncodeToString(s1[:])
		j.X5TS256 = base64.RawURLEncoding.EncodeToString(s256[:])
	}
	return j
}

// publicKeys returns kid -> public key for every key of the ring.
func (r *keyRing) publicKeys() map[string]crypto.PublicKey {
	m := make(map[string]crypto.PublicKey, len(r.keys))
	for _, k := range r.keys {
		pub := k.priv.PublicKey
		m[k.kid] = &pub
	}
	return m
}
