package geo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
)

// HashKey is the secret for keyed hashes of NIK and No. KK. It comes from the
// environment or a secret file, never from the database, so a database dump alone
// cannot be used to test guesses of an identity number.
type HashKey []byte

// LoadHashKey reads the key from SINERGI_HASH_KEY (hex or text, ≥ 32 bytes), else
// from the file SINERGI_HASH_KEY_FILE, else from the default file in the user's
// state folder, creating it (mode 0600) when create is true.
func LoadHashKey(create bool) (HashKey, string, error) {
	if v := os.Getenv("SINERGI_HASH_KEY"); v != "" {
		k, err := parseKey(v)
		return k, "environment SINERGI_HASH_KEY", err
	}
	path := os.Getenv("SINERGI_HASH_KEY_FILE")
	if path == "" {
		path = DefaultHashKeyFile()
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, "", err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, "", fmt.Errorf("create hash key folder: %w", err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, "", fmt.Errorf("write hash key %s: %w", path, err)
		}
		return key, path + " (new)", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("hash key: %w (set SINERGI_HASH_KEY or SINERGI_HASH_KEY_FILE)", err)
	}
	k, err := parseKey(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("hash key file %s: %w", path, err)
	}
	return k, path, nil
}

// DefaultHashKeyFile is where the key lives when nothing else is configured.
func DefaultHashKeyFile() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "sinergi", "hash.key")
}

func parseKey(s string) (HashKey, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	if len(s) < 32 {
		return nil, errors.New("key too short: use at least 32 bytes (64 hex digits)")
	}
	return HashKey(s), nil
}

// Sum returns the keyed hash of an identity number (digits only; empty for none).
func (k HashKey) Sum(id string) []byte {
	var b strings.Builder
	for _, r := range id {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(b.String()))
	return m.Sum(nil)
}

// ID is a short public fingerprint of the key (HMAC of a fixed label), recorded
// with every imported row so that rows hashed under different keys can be told
// apart after a rotation. It reveals nothing about the key.
func (k HashKey) ID() string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("sinergi hash key id v1"))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// NewHashKeyFile writes a new random key to path (mode 0600) and returns it. It
// refuses to overwrite an existing file: a lost key cannot be recovered, and a
// replaced one silently breaks every link made with it.
func NewHashKeyFile(path string) (HashKey, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create hash key folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("new hash key %s: %w", path, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// ReadHashKeyFile reads a key written by NewHashKeyFile (or any ≥ 32-byte secret).
func ReadHashKeyFile(path string) (HashKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hash key: %w", err)
	}
	k, err := parseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("hash key file %s: %w", path, err)
	}
	return k, nil
}

// IDHasher computes HashKey.Sum with one reusable HMAC state, several times faster
// when hashing millions of rows. It is not safe for concurrent use.
type IDHasher struct {
	m   hash.Hash
	buf []byte
}

// NewHasher returns a reusable hasher for k.
func (k HashKey) NewHasher() *IDHasher { return &IDHasher{m: hmac.New(sha256.New, k)} }

// Sum equals HashKey.Sum.
func (h *IDHasher) Sum(id string) []byte {
	b := h.buf[:0]
	for i := 0; i < len(id); i++ {
		if id[i] >= '0' && id[i] <= '9' {
			b = append(b, id[i])
		}
	}
	h.buf = b
	if len(b) == 0 {
		return nil
	}
	h.m.Reset()
	h.m.Write(b)
	return h.m.Sum(make([]byte, 0, sha256.Size))
}
