package builtin

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// memAccounts is an in-memory portal.AccountDirectory that behaves like the real store: lookups
// are case-insensitive, duplicates are Conflict errors naming the field, misses are NotFound.
type memAccounts struct {
	mu         sync.Mutex
	bySubject  map[string]*portal.Account
	byUsername map[string]string              // lower-cased username -> subject
	byEmail    map[string]string              // lower-cased email -> subject
	tokens     map[string]portal.AccountToken // by hash
	failWith   error                          // when set, every method returns it
	failures   *memFailures
}

var _ portal.AccountDirectory = (*memAccounts)(nil)

func newMemAccounts() *memAccounts {
	return &memAccounts{
		bySubject:  map[string]*portal.Account{},
		byUsername: map[string]string{},
		byEmail:    map[string]string{},
		tokens:     map[string]portal.AccountToken{},
		failures:   newMemFailures(),
	}
}

// UpdateLoginFailures makes memAccounts a LoginFailures too, as *store.DB is, so that an
// issuer over it counts failures without more configuration.
func (m *memAccounts) UpdateLoginFailures(ctx context.Context, keys []string, since time.Time, fn func([][]time.Time) error) error {
	return m.failures.UpdateLoginFailures(ctx, keys, since, fn)
}

// memFailures is an in-memory LoginFailures that behaves like the store's; the contract test
// runs over both.
type memFailures struct {
	mu sync.Mutex
	m  map[string][]time.Time
}

var _ LoginFailures = (*memFailures)(nil)

func newMemFailures() *memFailures { return &memFailures{m: map[string][]time.Time{}} }

func (f *memFailures) UpdateLoginFailures(_ context.Context, keys []string, since time.Time, fn func([][]time.Time) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	if len(keys) == 0 || slices.Contains(keys, "") || len(slices.Compact(sorted)) != len(keys) {
		return portal.Errorf(portal.Invalid, "login failure keys must be distinct and not empty")
	}
	for k, ts := range f.m {
		if !ts[len(ts)-1].After(since) {
			delete(f.m, k)
		}
	}
	cur := make([][]time.Time, len(keys))
	for n, k := range keys {
		for _, t := range f.m[k] {
			if t.After(since) {
				cur[n] = append(cur[n], t)
			}
		}
	}
	if err := fn(cur); err != nil {
		return err
	}
	for n, k := range keys {
		if len(cur[n]) == 0 {
			delete(f.m, k)
			continue
		}
		ts := make([]time.Time, len(cur[n]))
		for i, t := range cur[n] {
			ts[i] = t.UTC().Truncate(time.Microsecond)
		}
		slices.SortFunc(ts, time.Time.Compare)
		f.m[k] = ts
	}
	return nil
}

func (m *memAccounts) CreateAccount(_ context.Context, a *portal.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	user, email := strings.ToLower(a.Username), strings.ToLower(a.Email)
	if _, ok := m.byUsername[user]; ok {
		return portal.FieldErrorf(portal.Conflict, "username", "an account with this username already exists")
	}
	if _, ok := m.byEmail[email]; ok {
		return portal.FieldErrorf(portal.Conflict, "email", "an account with this email already exists")
	}
	now := time.Now().UTC()
	a.CreatedAt, a.UpdatedAt = now, now
	m.bySubject[a.Subject] = cloneAccount(a)
	m.byUsername[user] = a.Subject
	m.byEmail[email] = a.Subject
	return nil
}

func (m *memAccounts) GetAccountByUsername(_ context.Context, username string) (*portal.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	sub, ok := m.byUsername[strings.ToLower(username)]
	if !ok {
		return nil, portal.Errorf(portal.NotFound, "account not found")
	}
	return cloneAccount(m.bySubject[sub]), nil
}

func (m *memAccounts) GetAccountByEmail(_ context.Context, email string) (*portal.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	sub, ok := m.byEmail[strings.ToLower(email)]
	if !ok || email == "" {
		return nil, portal.Errorf(portal.NotFound, "account not found")
	}
	return cloneAccount(m.bySubject[sub]), nil
}

func (m *memAccounts) GetAccountBySubject(_ context.Context, subject string) (*portal.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	a, ok := m.bySubject[subject]
	if !ok {
		return nil, portal.Errorf(portal.NotFound, "account not found")
	}
	return cloneAccount(a), nil
}

func (m *memAccounts) CountAccounts(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return 0, m.failWith
	}
	return int64(len(m.bySubject)), nil
}

func (m *memAccounts) UpdateAccount(_ context.Context, subject string, fn func(*portal.Account) error) (*portal.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	old, ok := m.bySubject[subject]
	if !ok {
		return nil, portal.Errorf(portal.NotFound, "account not found")
	}
	a := cloneAccount(old)
	if err := fn(a); err != nil {
		return nil, err
	}
	user, email := strings.ToLower(a.Username), strings.ToLower(a.Email)
	if s, ok := m.byUsername[user]; ok && s != subject {
		return nil, portal.FieldErrorf(portal.Conflict, "username", "an account with this username already exists")
	}
	if s, ok := m.byEmail[email]; ok && s != subject {
		return nil, portal.FieldErrorf(portal.Conflict, "email", "an account with this email already exists")
	}
	delete(m.byUsername, strings.ToLower(old.Username))
	delete(m.byEmail, strings.ToLower(old.Email))
	a.ID, a.Subject, a.CreatedAt, a.UpdatedAt = old.ID, old.Subject, old.CreatedAt, time.Now().UTC()
	a.Username, a.Email = user, email
	m.bySubject[subject] = a
	m.byUsername[user] = subject
	m.byEmail[email] = subject
	return cloneAccount(a), nil
}

func (m *memAccounts) DeleteAccount(_ context.Context, subject string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	if _, ok := m.bySubject[subject]; !ok {
		return portal.Errorf(portal.NotFound, "account not found")
	}
	m.removeLocked(subject)
	return nil
}

func (m *memAccounts) CountEnabledAccounts(_ context.Context, role portal.Role) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return 0, m.failWith
	}
	n := 0
	for _, a := range m.bySubject {
		if a.Enabled && slices.Contains(a.Roles, role) {
			n++
		}
	}
	return n, nil
}

func (m *memAccounts) PutAccountToken(_ context.Context, t portal.AccountToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	if _, ok := m.bySubject[t.Subject]; !ok {
		return portal.Errorf(portal.NotFound, "account not found")
	}
	for h, old := range m.tokens {
		if old.Subject == t.Subject && old.Kind == t.Kind {
			delete(m.tokens, h)
		}
	}
	m.tokens[t.Hash] = t
	return nil
}

func (m *memAccounts) TakeAccountToken(_ context.Context, hash string, kind portal.TokenKind, now time.Time) (*portal.AccountToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	t, ok := m.tokens[hash]
	if !ok || t.Kind != kind {
		return nil, portal.Errorf(portal.NotFound, "token not found")
	}
	delete(m.tokens, hash)
	if !t.ExpiresAt.After(now) {
		return nil, portal.Errorf(portal.NotFound, "token not found")
	}
	return &t, nil
}

// update changes a stored account in place (tests only: the real store has its own API).
func (m *memAccounts) update(subject string, fn func(*portal.Account)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.bySubject[subject])
}

// remove deletes an account.
func (m *memAccounts) remove(subject string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(subject)
}

func (m *memAccounts) removeLocked(subject string) {
	a := m.bySubject[subject]
	delete(m.byUsername, strings.ToLower(a.Username))
	delete(m.byEmail, strings.ToLower(a.Email))
	delete(m.bySubject, subject)
	for h, t := range m.tokens {
		if t.Subject == subject {
			delete(m.tokens, h)
		}
	}
}

func (m *memAccounts) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failWith = err
}

func cloneAccount(a *portal.Account) *portal.Account {
	c := *a
	c.Roles = slices.Clone(a.Roles)
	return &c
}
