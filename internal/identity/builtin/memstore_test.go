package builtin

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// memAccounts is an in-memory portal.AccountStore that behaves like the real store: lookups are
// case-insensitive, duplicates are Conflict errors naming the field, misses are NotFound.
type memAccounts struct {
	mu         sync.Mutex
	bySubject  map[string]*portal.Account
	byUsername map[string]string // lower-cased username -> subject
	byEmail    map[string]string // lower-cased email -> subject
	failWith   error             // when set, every method returns it
}

var _ portal.AccountStore = (*memAccounts)(nil)

func newMemAccounts() *memAccounts {
	return &memAccounts{
		bySubject:  map[string]*portal.Account{},
		byUsername: map[string]string{},
		byEmail:    map[string]string{},
	}
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
	a := m.bySubject[subject]
	delete(m.byUsername, strings.ToLower(a.Username))
	delete(m.byEmail, strings.ToLower(a.Email))
	delete(m.bySubject, subject)
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
