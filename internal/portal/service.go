package portal

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Service is the portal's domain service: every read and write of customers, partners and
// projects goes through it, and it alone decides who may do what.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	users *userCache
}

// Options tune a Service; the zero value is fine.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// UserCacheTTL is how long a caller's user row is trusted before the next request refreshes
	// it from the token (default 5 minutes). It only saves a write per request: the row itself
	// lives in the database, so replicas stay stateless.
	UserCacheTTL time.Duration
}

// NewService returns a Service over the store.
func NewService(store Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.UserCacheTTL <= 0 {
		opts.UserCacheTTL = 5 * time.Minute
	}
	return &Service{store: store, now: opts.Now, log: opts.Logger,
		users: &userCache{ttl: opts.UserCacheTTL, max: 10000, m: map[string]cachedUser{}}}
}

// Ready reports whether the database is reachable and migrated.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// Authenticate maps a verified principal to its portal user, creating or refreshing the user
// row, and returns the Caller to put in the request context.
func (s *Service) Authenticate(ctx context.Context, p Principal) (Caller, error) {
	if p.Subject == "" {
		return Caller{}, Errorf(Unauthenticated, "token has no subject")
	}
	username := p.Username
	if username == "" {
		username = p.Subject
	}
	now := s.now()
	if id, ok := s.users.get(p.Subject, username, p.Email, now); ok {
		return Caller{Principal: p, UserID: id}, nil
	}
	u, err := s.store.UpsertUser(ctx, User{Subject: p.Subject, Username: username, Email: p.Email})
	if err != nil {
		return Caller{}, err
	}
	s.users.put(p.Subject, username, p.Email, u.ID, now)
	return Caller{Principal: p, UserID: u.ID}, nil
}

// Me returns the caller and what they may do.
func (s *Service) Me(ctx context.Context) (Caller, Permissions, error) {
	return callerFrom(ctx)
}

type cachedUser struct {
	id              uuid.UUID
	username, email string
	expires         time.Time
}

// userCache remembers which subjects were recently written, so that the user row is refreshed
// when the token's username or email changes or the entry ages, not on every request.
type userCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[string]cachedUser
}

func (c *userCache) get(sub, username, email string, now time.Time) (uuid.UUID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sub]
	if !ok || now.After(e.expires) || e.username != username || e.email != email {
		return uuid.Nil, false
	}
	return e.id, true
}

func (c *userCache) put(sub, username, email string, id uuid.UUID, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Dropping everything is crude but bounded, and a miss only costs one upsert.
		c.m = make(map[string]cachedUser, c.max)
	}
	c.m[sub] = cachedUser{id: id, username: username, email: email, expires: now.Add(c.ttl)}
}
