// Package secret seals secrets at rest (the Jira API token, webhook secrets)
// with AES-256-GCM.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the required key length in bytes (AES-256).
const KeySize = 32

// KeyFileName is the name of the generated key file inside the data directory.
const KeyFileName = "secret.key"

const (
	version   byte = 1
	nonceSize int  = 12
)

var (
	// ErrMalformed is returned by Open when the input is not a sealed secret.
	ErrMalformed = errors.New("sealed secret is malformed")
	// ErrWrongKey is returned by Open when authentication fails.
	ErrWrongKey = errors.New("sealed secret does not open with this key (was PORTAL_SECRET_KEY changed?)")
)

// Box seals and opens secrets with one 32-byte key. It implements portal.Sealer.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a key of exactly 32 bytes.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// FromConfig builds a Box from keyBase64 (PORTAL_SECRET_KEY, standard or URL
// base64, padded or not, of 32 bytes) if it is non-empty; otherwise from
// dataDir/secret.key, which is created with 32 random bytes and mode 0600 on
// first use.
func FromConfig(keyBase64, dataDir string) (*Box, error) {
	if s := strings.TrimSpace(keyBase64); s != "" {
		key, err := decodeKey(s)
		if err != nil {
			return nil, err
		}
		return New(key)
	}
	if dataDir == "" {
		return nil, errors.New("secret key: PORTAL_SECRET_KEY is empty and no data directory is configured")
	}
	key, err := loadOrCreateKey(filepath.Join(dataDir, KeyFileName))
	if err != nil {
		return nil, err
	}
	return New(key)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("PORTAL_SECRET_KEY must decode to %d bytes, got %d", KeySize, len(key))
		}
		return key, nil
	}
	return nil, errors.New("PORTAL_SECRET_KEY is not valid base64 (standard or URL alphabet)")
}

func loadOrCreateKey(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKeyFile(path); err != nil {
		return nil, err
	}
	return readKeyFile(path)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		return nil, fmt.Errorf("secret key file %s has permissions %#o, want 0600 (chmod 600 %s)", path, perm, path)
	}
	buf := make([]byte, KeySize+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	if n != KeySize {
		if n > KeySize {
			return nil, fmt.Errorf("secret key file %s must hold exactly %d bytes, found more", path, KeySize)
		}
		return nil, fmt.Errorf("secret key file %s must hold exactly %d bytes, found %d", path, KeySize, n)
	}
	return buf[:KeySize], nil
}

// createKeyFile writes a fresh key to a temp file and hard-links it into
// place, so concurrent creators agree: exactly one link succeeds and the
// others read the winner's key.
func createKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("secret key directory %s: %w", dir, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate secret key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("secret key file: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return fmt.Errorf("secret key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("secret key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("secret key file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Seal encrypts plain. Output: version byte 1 || 12-byte nonce || ciphertext+tag.
func (b *Box) Seal(plain []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+b.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return b.aead.Seal(out, out[1:1+nonceSize], plain, out[:1]), nil
}

// Open decrypts a value produced by Seal.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrMalformed
	}
	plain, err := b.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], sealed[:1])
	if err != nil {
		return nil, ErrWrongKey
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, nil
}
