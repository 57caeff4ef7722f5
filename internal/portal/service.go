package portal

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Service is the portal's domain service: every read and write of customers, partners and
// projects goes through it, and it alone decides who may do what.
type Service struct {
	store            Store
	identity         Identity
	ticketingFactory TicketingFactory
	sealer           Sealer
	staleAfter       time.Duration
	remoteCache      remoteClient
	now              func() time.Time
	log              *slog.Logger
	users            *userCache
	draining         atomic.Bool
	exportPageSize   int
	maxExportRows    int
}

// Options tune a Service; the zero value is fine.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Identity manages users in the identity provider; without it user management answers
	// Unavailable.
	Identity Identity
	// TicketingFactory builds the Jira client when ticketing is set to Jira; Sealer keeps
	// its secrets encrypted at rest.
	TicketingFactory TicketingFactory
	Sealer           Sealer
	// StaleAfter is how old the last successful sync may be before tickets are flagged stale
	// (default 5 minutes).
	StaleAfter time.Duration
	// UserCacheTTL is how long a caller's user row is trusted before the next request reads it
	// again (default 1 minute). It saves a read and a write per request; it is also how long
	// another replica may still serve a user just disabled here (this one forgets at once).
	UserCacheTTL time.Duration
	// ExportPageSize is how many tickets an export reads per statement (default and most
	// MaxLimit); MaxExportRows is the most tickets one export may hold (default 100,000).
	ExportPageSize int
	MaxExportRows  int
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
		opts.UserCacheTTL = time.Minute
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Minute
	}
	if opts.ExportPageSize <= 0 {
		opts.ExportPageSize = MaxLimit
	}
	if opts.MaxExportRows <= 0 {
		opts.MaxExportRows = 100_000
	}
	return &Service{store: store, identity: opts.Identity, now: opts.Now, log: opts.Logger,
		exportPageSize: opts.ExportPageSize, maxExportRows: opts.MaxExportRows,
		ticketingFactory: opts.TicketingFactory, sealer: opts.Sealer, staleAfter: opts.StaleAfter,
		users: &userCache{ttl: opts.UserCacheTTL, max: 10000, m: map[string]cachedUser{}}}
}

// Ready reports whether the database is reachable and migrated.
func (s *Service) Ready(ctx context.Context) error {
	if s.draining.Load() {
		return Errorf(Unavailable, "the server is shutting down")
	}
	return s.store.Ping(ctx)
}

// Drain makes Ready fail from now on while every other call keeps working: on shutdown, load
// balancers stop sending new requests before the listener closes.
func (s *Service) Drain() { s.draining.Store(true) }

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
	fingerprint := p.Email + "\x00" + rolesKey(p.Roles)
	if id, ok := s.users.get(p.Subject, username, fingerprint, now); ok {
		return Caller{Principal: p, UserID: id}, nil
	}
	// A token outlives the disabling of its user by up to its lifetime: refuse tokens issued
	// before the portal recorded the user as disabled. A token issued later means the identity
	// provider let the user sign in again (re-enabled there), which the upsert records.
	switch u, err := s.store.GetUserBySubject(ctx, p.Subject); {
	case err == nil && !u.Enabled && !p.IssuedAt.After(u.UpdatedAt):
		return Caller{}, Errorf(Unauthenticated, "this account is disabled")
	case err == nil && !p.IssuedAt.After(u.UpdatedAt) && rolesKey(u.Roles) != rolesKey(p.Roles):
		// The portal recorded other roles after this token was issued (an admin changed them):
		// the token's roles are stale, and a demoted admin must not keep acting as one.
		return Caller{}, Errorf(Unauthenticated, "your access changed since you signed in; sign in again")
	case IsKind(err, NotFound):
		// Deleted users leave a tombstone: their old tokens must not recreate them.
		at, deleted, err := s.store.SubjectDeletedAt(ctx, p.Subject)
		if err != nil {
			return Caller{}, err
		}
		if deleted && !p.IssuedAt.After(at) {
			return Caller{}, Errorf(Unauthenticated, "this account was deleted")
		}
	case err != nil:
		return Caller{}, err
	}
	u, err := s.store.UpsertUser(ctx, User{Subject: p.Subject, Username: username, Email: p.Email,
		Roles: p.Roles, Enabled: true})
	if err != nil {
		return Caller{}, err
	}
	s.users.put(p.Subject, username, fingerprint, u.ID, now)
	return Caller{Principal: p, UserID: u.ID}, nil
}

// Me returns the caller and what they may do.
func (s *Service) Me(ctx context.Context) (Caller, Permissions, error) {
	return callerFrom(ctx)
}

func rolesKey(roles []Role) string {
	var b strings.Builder
	for _, r := range roles {
		b.WriteString(string(r))
		b.WriteByte(',')
	}
	return b.String()
}

type cachedUser struct {
	id                    uuid.UUID
	username, fingerprint string
	expires               time.Time
}

// userCache remembers which subjects were recently written, so that the user row is refreshed
// when the token's username, email or roles (its fingerprint) change or the entry ages, not on
// every request.
type userCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[string]cachedUser
}

func (c *userCache) get(sub, username, fingerprint string, now time.Time) (uuid.UUID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sub]
	if !ok || now.After(e.expires) || e.username != username || e.fingerprint != fingerprint {
		return uuid.Nil, false
	}
	return e.id, true
}

func (c *userCache) forget(sub string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, sub)
}

func (c *userCache) put(sub, username, fingerprint string, id uuid.UUID, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Dropping everything is crude but bounded, and a miss only costs one upsert.
		c.m = make(map[string]cachedUser, c.max)
	}
	c.m[sub] = cachedUser{id: id, username: username, fingerprint: fingerprint, expires: now.Add(c.ttl)}
}
