package geo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/argon2"
)

// Role is what a user may do; see the privacy table in DESIGN.md.
type Role string

// The roles.
const (
	RolePlanner Role = "planner"
	RoleCompany Role = "company"
	RoleOfficer Role = "officer"
	RoleGIS     Role = "gis"
	RoleAdmin   Role = "admin"
)

// Roles lists every role in a stable order.
var Roles = []Role{RolePlanner, RoleCompany, RoleOfficer, RoleGIS, RoleAdmin}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of planner, company, officer, gis, admin)", s)
}

// User is an account. Its credentials never leave the store.
type User struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CompanyID *int64    `json:"company_id"`
	Area      []string  `json:"area,omitempty"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Errors of sign-in and account management.
var (
	// ErrUnauthenticated covers every credential failure; callers must not say which part was wrong.
	ErrUnauthenticated = errors.New("invalid or expired credentials")
	ErrUserExists      = errors.New("user already exists")
	ErrNoSuchUser      = errors.New("no such user")
)

// SessionTTL is how long a sign-in session lasts.
const SessionTTL = 12 * time.Hour

var userNameRe = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)
var villageCodeRe = regexp.MustCompile(`^\d{2}\.\d{2}\.\d{2}\.\d{4}$`)

// NewUser describes an account to create.
type NewUser struct {
	Name      string
	Role      Role
	CompanyID *int64
	Area      []string // officer: village codes
	Password  string   // optional
	By        string   // who creates it, for the audit log
}

// AddUser creates a user and its first bearer token, which is returned once and
// stored only as a hash.
func (s *Store) AddUser(ctx context.Context, nu NewUser) (User, string, error) {
	if !userNameRe.MatchString(nu.Name) {
		return User{}, "", fmt.Errorf("user name %q: use 2–64 letters, digits or . _ @ -", nu.Name)
	}
	if _, err := ParseRole(string(nu.Role)); err != nil {
		return User{}, "", err
	}
	if (nu.Role == RoleCompany) != (nu.CompanyID != nil) {
		return User{}, "", fmt.Errorf("user %s: a company user needs --company ID, and only a company user may have one", nu.Name)
	}
	if nu.Role != RoleOfficer && len(nu.Area) > 0 {
		return User{}, "", fmt.Errorf("user %s: only an officer has an assigned area", nu.Name)
	}
	for _, c := range nu.Area {
		if !villageCodeRe.MatchString(c) {
			return User{}, "", fmt.Errorf("user %s: area code %q is not a village code like 32.16.01.2001", nu.Name, c)
		}
	}
	var phash *string
	if nu.Password != "" {
		h, err := HashPassword(nu.Password)
		if err != nil {
			return User{}, "", err
		}
		phash = &h
	}
	token, thash := newSecret("sng_")
	var u User
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if nu.CompanyID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM company WHERE id = $1)`, *nu.CompanyID).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("user %s: company %d does not exist", nu.Name, *nu.CompanyID)
			}
		}
		area := nu.Area
		if area == nil {
			area = []string{}
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO app_user (name, role, company_id, area, password_hash)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING id, name, role, company_id, area, disabled, created_at`,
			nu.Name, nu.Role, nu.CompanyID, area, phash,
		).Scan(&u.ID, &u.Name, &u.Role, &u.CompanyID, &u.Area, &u.Disabled, &u.CreatedAt)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return fmt.Errorf("%w: %s", ErrUserExists, nu.Name)
			}
			return fmt.Errorf("insert user %s: %w", nu.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_token (user_id, token_hash, label) VALUES ($1, $2, 'initial')`, u.ID, thash); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return auditTx(ctx, tx, AuditEntry{Actor: nu.By, Action: "user.add", Object: "user:" + nu.Name,
			Detail: map[string]any{"role": nu.Role}})
	})
	if err != nil {
		return User{}, "", err
	}
	return u, token, nil
}

// SetPassword sets (or replaces) a user's password and ends their sessions.
func (s *Store) SetPassword(ctx context.Context, name, password, by string) error {
	if len(password) < 8 {
		return errors.New("password too short: use at least 8 characters")
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE app_user SET password_hash = $2 WHERE name = $1 RETURNING id`, name, h).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNoSuchUser, name)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE user_session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "user.passwd", Object: "user:" + name})
	})
}

// NewToken issues another bearer token for a user.
func (s *Store) NewToken(ctx context.Context, name, label, by string) (string, error) {
	token, thash := newSecret("sng_")
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO api_token (user_id, token_hash, label) SELECT id, $2, $3 FROM app_user WHERE name = $1`, name, thash, label)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", ErrNoSuchUser, name)
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "token.add", Object: "user:" + name})
	})
	return token, err
}

// RevokeTokens revokes every token and session of a user.
func (s *Store) RevokeTokens(ctx context.Context, name, by string) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_token t SET revoked_at = now() FROM app_user u
			WHERE u.id = t.user_id AND u.name = $1 AND t.revoked_at IS NULL`, name)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `UPDATE user_session t SET revoked_at = now() FROM app_user u
			WHERE u.id = t.user_id AND u.name = $1 AND t.revoked_at IS NULL`, name); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "token.revoke", Object: "user:" + name,
			Detail: map[string]any{"tokens": n}})
	})
	return n, err
}

const userCols = `u.id, u.name, u.role, u.company_id, u.area, u.disabled, u.created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.Role, &u.CompanyID, &u.Area, &u.Disabled, &u.CreatedAt)
	return u, err
}

// UserByToken authenticates a bearer token and notes its last use.
func (s *Store) UserByToken(ctx context.Context, token string) (User, error) {
	u, err := s.CheckToken(ctx, token)
	if err != nil {
		return u, err
	}
	// Last use is informative only; a failure here must not deny access.
	_, _ = s.Pool.Exec(ctx, `UPDATE api_token SET last_used_at = now() WHERE token_hash = $1
		AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, hashSecret(token))
	return u, nil
}

// CheckToken authenticates a bearer token without writing anything.
func (s *Store) CheckToken(ctx context.Context, token string) (User, error) {
	if !strings.HasPrefix(token, "sng_") || len(token) > 128 {
		return User{}, ErrUnauthenticated
	}
	h := hashSecret(token)
	u, err := scanUser(s.Pool.QueryRow(ctx, `
		SELECT `+userCols+` FROM api_token t JOIN app_user u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled`, h))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("look up token: %w", err)
	}
	return u, nil
}

// dummyHash is compared against when a user does not exist, so that a wrong user
// name costs as much time as a wrong password.
var dummyHash, _ = HashPassword("not-a-real-password")

// Login checks a name and password and opens a session; it returns the session id
// for the cookie. Failed attempts are audited.
func (s *Store) Login(ctx context.Context, name, password, remote string) (User, string, error) {
	var (
		u     User
		phash *string
	)
	err := s.Pool.QueryRow(ctx, `SELECT `+userCols+`, u.password_hash FROM app_user u WHERE u.name = $1`, name).
		Scan(&u.ID, &u.Name, &u.Role, &u.CompanyID, &u.Area, &u.Disabled, &u.CreatedAt, &phash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", fmt.Errorf("look up user: %w", err)
	}
	ok := false
	if phash != nil {
		ok = CheckPassword(*phash, password)
	} else {
		CheckPassword(dummyHash, password)
	}
	if !ok || u.Disabled {
		_ = s.Audit(ctx, AuditEntry{Actor: name, Action: "login", RemoteAddr: remote, Failed: true})
		return User{}, "", ErrUnauthenticated
	}
	sid, shash := newSecret("")
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO user_session (id_hash, user_id, expires_at, remote_addr) VALUES ($1, $2, $3, $4)`,
			shash, u.ID, time.Now().Add(SessionTTL), remote); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: u.Name, Role: u.Role, Action: "login", RemoteAddr: remote})
	})
	if err != nil {
		return User{}, "", fmt.Errorf("open session: %w", err)
	}
	return u, sid, nil
}

// UserBySession authenticates a session cookie.
func (s *Store) UserBySession(ctx context.Context, sid string) (User, error) {
	if sid == "" || len(sid) > 128 {
		return User{}, ErrUnauthenticated
	}
	u, err := scanUser(s.Pool.QueryRow(ctx, `
		SELECT `+userCols+` FROM user_session t JOIN app_user u ON u.id = t.user_id
		WHERE t.id_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND NOT u.disabled`, hashSecret(sid)))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("look up session: %w", err)
	}
	return u, nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, sid string, u User, remote string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE user_session SET revoked_at = now() WHERE id_hash = $1 AND revoked_at IS NULL`, hashSecret(sid)); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: u.Name, Role: u.Role, Action: "logout", RemoteAddr: remote})
	})
}

// Users lists every account.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+userCols+` FROM app_user u ORDER BY u.name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
}

// UserByName finds one account.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM app_user u WHERE u.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("%w: %s", ErrNoSuchUser, name)
	}
	return u, err
}

// newSecret returns a random URL-safe secret with prefix and its SHA-256 hash.
func newSecret(prefix string) (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	s := prefix + base64.RawURLEncoding.EncodeToString(b)
	return s, hashSecret(s)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id into a PHC string.
func HashPassword(pw string) (string, error) {
	if len(pw) > 1024 {
		return "", errors.New("password too long")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword compares a password with a PHC argon2id string in constant time.
func CheckPassword(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || len(pw) > 1024 {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || m > 1<<20 || t > 10 || p == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
