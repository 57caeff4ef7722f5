package builtin

import (
	"context"
	"time"
)

// Failed-login limits, as the brief for the embedded issuer sets them.
const (
	userFailureLimit = 5
	ipFailureLimit   = 20
	failureWindow    = 15 * time.Minute
	// counterRetention is how far back every user of LoginFailures reads (its since): the
	// longest window of any counter in the table (resetWindow). The store deletes records
	// without times after the since of any call, so a shorter since would delete the
	// password-reset counts of the last hour. Each counter applies its own window when it
	// reads.
	counterRetention = resetWindow
	// counterTimeout bounds the writes that withdraw or clear counted failures after the
	// password check, which run even when the client has gone away.
	counterTimeout = 5 * time.Second
)

// LoginFailures keeps the times of recent failed logins per key where every replica sees
// them: counted in one process's memory, N replicas would give an attacker N times the budget.
// *store.DB implements it on PostgreSQL and SQLite.
type LoginFailures interface {
	// UpdateLoginFailures calls fn with the failure times after since of each of the distinct
	// keys (oldest first; none for a key never seen), holding them against concurrent updates
	// on any replica, and stores what fn leaves in their place, in one transaction. Times are
	// kept to the microsecond. An error of fn rolls back and is returned as it is. Records
	// without failures after since may be deleted at any time, which is why every caller
	// passes since = now - counterRetention. Besides failed logins (keys "user:", "ip:") it
	// counts password-reset requests ("reset-user:", "reset-ip:").
	UpdateLoginFailures(ctx context.Context, keys []string, since time.Time, fn func(failures [][]time.Time) error) error
}

// loginGuard limits failed password logins per username and per client IP within a sliding
// window. The counts live in the shared database only (LoginFailures): there is no in-process
// first filter, because a blocked request already costs only one small transaction and no
// password hashing, and a local cache of blocks would disagree with the database whenever
// another replica withdraws an attempt.
//
// An attempt is counted as a failure before the password is checked and withdrawn when it
// succeeds, so concurrent requests, on one replica or many, cannot test more passwords than the
// limit allows.
type loginGuard struct {
	store LoginFailures
}

// attempt is a password check in progress, provisionally counted as a failure.
type attempt struct {
	user, ip string
	at       time.Time
	// userFailures and ipFailures count the failures in the window including this attempt.
	userFailures, ipFailures int
}

func userKey(user string) string { return "user:" + user }
func ipKey(ip string) string     { return "ip:" + ip }

// begin returns retryAfter > 0 when user or ip is blocked; otherwise it counts the attempt as a
// failure until succeeded or cancel says otherwise.
func (g *loginGuard) begin(ctx context.Context, user, ip string, now time.Time) (a attempt, retryAfter time.Duration, err error) {
	now = now.Truncate(time.Microsecond)
	err = g.store.UpdateLoginFailures(ctx, []string{userKey(user), ipKey(ip)}, now.Add(-counterRetention), func(f [][]time.Time) error {
		f[0], f[1] = inWindow(f[0], now.Add(-failureWindow)), inWindow(f[1], now.Add(-failureWindow))
		a, retryAfter = attempt{}, max(blockedFor(f[0], userFailureLimit, now), blockedFor(f[1], ipFailureLimit, now))
		if retryAfter > 0 {
			return nil
		}
		f[0], f[1] = addFailure(f[0], now, userFailureLimit), addFailure(f[1], now, ipFailureLimit)
		a = attempt{user: user, ip: ip, at: now, userFailures: len(f[0]), ipFailures: len(f[1])}
		return nil
	})
	if err != nil {
		return attempt{}, 0, err
	}
	return a, retryAfter, nil
}

// succeeded clears the username's failures and withdraws the attempt from the IP's count.
func (g *loginGuard) succeeded(ctx context.Context, a attempt) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), counterTimeout)
	defer cancel()
	return g.store.UpdateLoginFailures(ctx, []string{userKey(a.user), ipKey(a.ip)}, a.at.Add(-counterRetention), func(f [][]time.Time) error {
		f[0], f[1] = nil, removeFailure(f[1], a.at)
		return nil
	})
}

// cancel withdraws an attempt that was neither a success nor a wrong password (a disabled
// account, an internal error, a request cancelled by its client).
func (g *loginGuard) cancel(ctx context.Context, a attempt) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), counterTimeout)
	defer cancel()
	return g.store.UpdateLoginFailures(ctx, []string{userKey(a.user), ipKey(a.ip)}, a.at.Add(-counterRetention), func(f [][]time.Time) error {
		f[0], f[1] = removeFailure(f[0], a.at), removeFailure(f[1], a.at)
		return nil
	})
}

// inWindow returns the times of ts (oldest first) after from.
func inWindow(ts []time.Time, from time.Time) []time.Time {
	for n, t := range ts {
		if t.After(from) {
			return ts[n:]
		}
	}
	return nil
}

// blockedFor is how long a key with failure times ts (those in the window, oldest first) stays
// blocked at now, or 0: until its limit-th latest failure leaves the window.
func blockedFor(ts []time.Time, limit int, now time.Time) time.Duration {
	if len(ts) < limit {
		return 0
	}
	return max(0, ts[len(ts)-limit].Add(failureWindow).Sub(now))
}

// addFailure records a failure at now, keeping at most the latest limit failures.
func addFailure(ts []time.Time, now time.Time, limit int) []time.Time {
	ts = append(ts, now)
	if len(ts) > limit {
		ts = ts[len(ts)-limit:]
	}
	return ts
}

// removeFailure withdraws one failure recorded at time at.
func removeFailure(ts []time.Time, at time.Time) []time.Time {
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(at) {
			return append(ts[:i:i], ts[i+1:]...)
		}
	}
	return ts
}
