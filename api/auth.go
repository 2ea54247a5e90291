package api

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// localKey names a request local (Fiber's Locals). Locals are found by
// comparing keys one by one on every lookup: small integer keys compare
// cheaper than strings (a cached tile looks up five of them).
type localKey uint8

const (
	localUser localKey = iota + 1
	localSession
	localRequestID
	// localVersions holds the *geo.Versions a request read through the barrier.
	localVersions
	// localAuthEpoch holds the auth epoch under which a bearer token was accepted
	// from the token cache (absent when the token was checked in the database).
	localAuthEpoch
)

const (
	// SessionCookie is the sign-in cookie's name.
	SessionCookie = "sinergi_session"
)

// authenticate accepts a bearer token or a session cookie and stores the user in
// the request's locals. It never rejects: routes decide with allow().
func (s *Server) authenticate(c *fiber.Ctx) error {
	if err := s.authUser(c); err != nil {
		return err
	}
	return c.Next()
}

// authUser is authenticate without passing the request on.
func (s *Server) authUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return problem(fiber.StatusUnauthorized, "Authorization header must be 'Bearer <token>'")
		}
		u, err := s.web.UserByToken(ctx, strings.TrimSpace(tok))
		if errors.Is(err, geo.ErrUnauthenticated) {
			return problem(fiber.StatusUnauthorized, "token tidak valid atau sudah dicabut (invalid or revoked token)")
		}
		if err != nil {
			return err
		}
		c.Locals(localUser, u)
		return nil
	}
	if sid := c.Cookies(SessionCookie); sid != "" {
		u, err := s.web.UserBySession(ctx, sid)
		if err == nil {
			// Cookie-authenticated writes must come from our own pages (CSRF defence on
			// top of SameSite=Strict): reject cross-site requests.
			if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && !sameOrigin(c) {
				return problem(fiber.StatusForbidden, "cross-site request refused")
			}
			c.Locals(localUser, u)
			c.Locals(localSession, sid)
		} else if !errors.Is(err, geo.ErrUnauthenticated) {
			return err
		}
	}
	return nil
}

func sameOrigin(c *fiber.Ctx) bool {
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != c.Hostname() {
			return false
		}
	}
	return true
}

// currentUser returns the signed-in user, if any.
func currentUser(c *fiber.Ctx) (geo.User, bool) {
	u, ok := c.Locals(localUser).(geo.User)
	return u, ok
}

// allow returns a handler that lets only the given roles through: 401 without
// credentials, 403 with the wrong role. Every protected route uses it.
func allow(roles ...geo.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := checkRole(c, roles); err != nil {
			return err
		}
		return c.Next()
	}
}

// checkRole is allow's test: 401 when nobody is signed in, 403 for other roles.
func checkRole(c *fiber.Ctx, roles []geo.Role) error {
	u, ok := currentUser(c)
	if !ok {
		return problem(fiber.StatusUnauthorized, "silakan masuk terlebih dahulu (sign in first)")
	}
	for _, r := range roles {
		if u.Role == r {
			return nil
		}
	}
	return problem(fiber.StatusForbidden, "peran "+string(u.Role)+" tidak boleh mengakses ini (role "+string(u.Role)+" may not access this)")
}

// anyRole lets every signed-in user through.
var anyRole = []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS, geo.RoleAdmin}

// loginLimiter bounds failed sign-ins per client address and per user name.
type loginLimiter struct {
	mu     sync.Mutex
	fails  map[string][]time.Time
	max    int
	window time.Duration
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{fails: map[string][]time.Time{}, max: max, window: window}
}

func (l *loginLimiter) blocked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for _, k := range keys {
		ts := l.fails[k]
		for len(ts) > 0 && now.Sub(ts[0]) > l.window {
			ts = ts[1:]
		}
		l.fails[k] = ts
		if len(ts) >= l.max {
			return true
		}
	}
	return false
}

func (l *loginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100000 { // bound memory under a spray of names
		l.fails = map[string][]time.Time{}
	}
	for _, k := range keys {
		l.fails[k] = append(l.fails[k], time.Now())
	}
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type userResponse struct {
	User geo.User `json:"user"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body must be JSON {\"username\": …, \"password\": …}")
	}
	if req.Username == "" || req.Password == "" {
		return problem(fiber.StatusBadRequest, "nama pengguna dan kata sandi wajib diisi (username and password are required)")
	}
	ip := c.IP()
	if s.limiter.blocked("ip:"+ip, "user:"+req.Username) {
		return problem(fiber.StatusTooManyRequests, "terlalu banyak percobaan masuk; coba lagi beberapa menit lagi (too many sign-in attempts; try again in a few minutes)")
	}
	u, sid, err := s.web.Login(c.UserContext(), req.Username, req.Password, ip)
	if errors.Is(err, geo.ErrUnauthenticated) {
		s.limiter.fail("ip:"+ip, "user:"+req.Username)
		return problem(fiber.StatusUnauthorized, "nama pengguna atau kata sandi salah (wrong username or password)")
	}
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookie,
		Value:    sid,
		Path:     "/",
		HTTPOnly: true,
		Secure:   s.secureCookies(c),
		SameSite: fiber.CookieSameSiteStrictMode,
		Expires:  time.Now().Add(geo.SessionTTL),
	})
	return c.JSON(userResponse{User: u})
}

func (s *Server) secureCookies(c *fiber.Ctx) bool {
	switch s.cfg.CookieSecure {
	case "always":
		return true
	case "never":
		return false
	}
	return c.Protocol() == "https"
}

func (s *Server) logout(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if sid, ok := c.Locals(localSession).(string); ok {
		if err := s.web.Logout(c.UserContext(), sid, u, c.IP()); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: s.secureCookies(c),
		SameSite: fiber.CookieSameSiteStrictMode, Expires: time.Unix(0, 0), MaxAge: -1})
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	return c.JSON(userResponse{User: u})
}
