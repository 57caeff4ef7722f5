package builtin

import (
	"sync"
	"time"
)

// Failed-login limits, as the brief for the embedded issuer sets them.
const (
	userFailureLimit = 5
	ipFailureLimit   = 20
	failureWindow    = 15 * time.Minute
	// maxTrackedKeys bounds each table (usernames, client IPs) so that a flood of distinct
	// usernames or addresses cannot grow memory without limit.
	maxTrackedKeys = 10000
)

// loginGuard limits failed password logins per username and per client IP within a sliding
// window.
//
// It lives in this process's memory only. That is deliberate and sufficient for the built-in
// issuer, which is the single-node embedded default; a replicated deployment uses Keycloak,
// whose brute-force detection is shared by its cluster. The tables are bounded: when one is
// full, expired entries go first, then the entry whose last failure is oldest.
//
// An attempt is counted as a failure before the password is checked and withdrawn when it
// succeeds, so concurrent requests cannot test more passwords than the limit allows.
type loginGuard struct {
	mu    sync.Mutex
	users *failureTable
	ips   *failureTable
}

func newLoginGuard() *loginGuard {
	return &loginGuard{
		users: &failureTable{limit: userFailureLimit, window: failureWindow, maxKeys: maxTrackedKeys, m: map[string][]time.Time{}},
		ips:   &failureTable{limit: ipFailureLimit, window: failureWindow, maxKeys: maxTrackedKeys, m: map[string][]time.Time{}},
	}
}

// attempt is a password check in progress, provisionally counted as a failure.
type attempt struct {
	user, ip string
	at       time.Time
	// userFailures and ipFailures count the failures in the window including this attempt.
	userFailures, ipFailures int
}

// begin returns retryAfter > 0 when user or ip is blocked; otherwise it counts the attempt as a
// failure until succeeded or cancel says otherwise.
func (g *loginGuard) begin(user, ip string, now time.Time) (a attempt, retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	retryAfter = max(g.users.retryAfter(user, now), g.ips.retryAfter(ip, now))
	if retryAfter > 0 {
		return attempt{}, retryAfter
	}
	return attempt{
		user:         user,
		ip:           ip,
		at:           now,
		userFailures: g.users.add(user, now),
		ipFailures:   g.ips.add(ip, now),
	}, 0
}

// succeeded clears the username's failures and withdraws the attempt from the IP's count.
func (g *loginGuard) succeeded(a attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.users.m, a.user)
	g.ips.remove(a.ip, a.at)
}

// cancel withdraws an attempt that was neither a success nor a wrong password (a disabled
// account, an internal error).
func (g *loginGuard) cancel(a attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.users.remove(a.user, a.at)
	g.ips.remove(a.ip, a.at)
}

// failureTable keeps, per key, the times of the latest failures (oldest first, at most limit).
type failureTable struct {
	limit   int
	window  time.Duration
	maxKeys int
	m       map[string][]time.Time
}

// live drops the key's failures that have left the window and returns the rest.
func (t *failureTable) live(key string, now time.Time) []time.Time {
	ts := t.m[key]
	i := 0
	for i < len(ts) && !ts[i].Add(t.window).After(now) {
		i++
	}
	if i == len(ts) {
		delete(t.m, key)
		return nil
	}
	if i > 0 {
		ts = append(ts[:0], ts[i:]...)
		t.m[key] = ts
	}
	return ts
}

// retryAfter is how long key stays blocked, or 0.
func (t *failureTable) retryAfter(key string, now time.Time) time.Duration {
	ts := t.live(key, now)
	if len(ts) < t.limit {
		return 0
	}
	return ts[len(ts)-t.limit].Add(t.window).Sub(now)
}

// add records a failure and returns the number of failures of key in the window.
func (t *failureTable) add(key string, now time.Time) int {
	ts := t.live(key, now)
	if ts == nil && len(t.m) >= t.maxKeys {
		t.evict(now)
	}
	ts = append(ts, now)
	if len(ts) > t.limit {
		ts = append(ts[:0], ts[len(ts)-t.limit:]...)
	}
	t.m[key] = ts
	return len(ts)
}

// remove withdraws one failure recorded at time at.
func (t *failureTable) remove(key string, at time.Time) {
	ts := t.m[key]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(at) {
			ts = append(ts[:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(t.m, key)
	} else {
		t.m[key] = ts
	}
}

// evict makes room for one key: it drops every expired key, and when none had expired, the key
// whose latest failure is oldest.
func (t *failureTable) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	found := false
	for k, ts := range t.m {
		last := ts[len(ts)-1]
		if !last.Add(t.window).After(now) {
			delete(t.m, k)
			continue
		}
		if !found || last.Before(oldest) {
			oldestKey, oldest, found = k, last, true
		}
	}
	if found && len(t.m) >= t.maxKeys {
		delete(t.m, oldestKey)
	}
}
