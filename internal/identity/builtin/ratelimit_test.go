package builtin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

var _ LoginFailures = (*store.DB)(nil)

// TestLoginFailuresContract runs one suite over the store, on PostgreSQL and SQLite, and over
// the in-memory fake the other tests use: the fake is only as good as its likeness to it.
func TestLoginFailuresContract(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		runLoginFailuresContract(t, newMemFailures())
	})
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		runLoginFailuresContract(t, db)
	})
}

func runLoginFailuresContract(t *testing.T, lf LoginFailures) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// read returns the failures of keys after since, changing nothing.
	read := func(t *testing.T, since time.Time, keys ...string) [][]time.Time {
		t.Helper()
		var got [][]time.Time
		err := lf.UpdateLoginFailures(ctx, keys, since, func(f [][]time.Time) error {
			got = make([][]time.Time, len(f))
			for n, ts := range f {
				got[n] = append([]time.Time(nil), ts...)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("read %v: %v", keys, err)
		}
		return got
	}
	set := func(t *testing.T, since time.Time, keys []string, values ...[]time.Time) {
		t.Helper()
		err := lf.UpdateLoginFailures(ctx, keys, since, func(f [][]time.Time) error {
			copy(f, values)
			return nil
		})
		if err != nil {
			t.Fatalf("set %v: %v", keys, err)
		}
	}
	equal := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

	tests := []struct {
		name  string
		run   func(t *testing.T) [][]time.Time
		want  [][]time.Time
		check func(t *testing.T, err error)
	}{
		{name: "unknown keys have none", run: func(t *testing.T) [][]time.Time {
			return read(t, t0, "user:nobody", "ip:192.0.2.1")
		}, want: [][]time.Time{nil, nil}},
		{name: "stored sorted, per key, in the caller's order", run: func(t *testing.T) [][]time.Time {
			set(t, t0, []string{"user:b", "user:a"}, []time.Time{at(3 * time.Second), at(time.Second)}, []time.Time{at(2 * time.Second)})
			return read(t, t0, "user:a", "user:b")
		}, want: [][]time.Time{{at(2 * time.Second)}, {at(time.Second), at(3 * time.Second)}}},
		{name: "microseconds survive", run: func(t *testing.T) [][]time.Time {
			set(t, t0, []string{"user:micro"}, []time.Time{at(time.Microsecond)})
			return read(t, t0, "user:micro")
		}, want: [][]time.Time{{at(time.Microsecond)}}},
		{name: "times not after since are dropped", run: func(t *testing.T) [][]time.Time {
			set(t, t0, []string{"user:old"}, []time.Time{at(time.Minute), at(2 * time.Minute)})
			return read(t, at(time.Minute), "user:old")
		}, want: [][]time.Time{{at(2 * time.Minute)}}},
		{name: "emptied key is gone", run: func(t *testing.T) [][]time.Time {
			set(t, t0, []string{"user:gone"}, []time.Time{at(time.Minute)})
			set(t, t0, []string{"user:gone"}, nil)
			return read(t, t0, "user:gone")
		}, want: [][]time.Time{nil}},
		{name: "an error of fn rolls back and is returned", run: func(t *testing.T) [][]time.Time {
			set(t, t0, []string{"user:rb"}, []time.Time{at(time.Minute)})
			boom := errors.New("boom")
			err := lf.UpdateLoginFailures(ctx, []string{"user:rb", "ip:rb"}, t0, func(f [][]time.Time) error {
				f[0], f[1] = nil, []time.Time{at(time.Hour)}
				return boom
			})
			if err != boom {
				t.Errorf("err = %v, want fn's error as it is", err)
			}
			return read(t, t0, "user:rb", "ip:rb")
		}, want: [][]time.Time{{at(time.Minute)}, nil}},
		{name: "duplicate keys are invalid", run: func(t *testing.T) [][]time.Time {
			err := lf.UpdateLoginFailures(ctx, []string{"user:x", "user:x"}, t0, func([][]time.Time) error { return nil })
			if !portal.IsKind(err, portal.Invalid) {
				t.Errorf("err = %v, want Invalid", err)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.run(t), equal); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}

	// Concurrent updates of overlapping keys count exactly: no update is lost.
	t.Run("concurrent", func(t *testing.T) {
		const workers, each = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for n := range each {
					// Every worker touches the shared key and, in varying order, its own.
					keys := []string{"ip:shared", "user:w" + strconv.Itoa(w)}
					if n%2 == 1 {
						keys[0], keys[1] = keys[1], keys[0]
					}
					stamp := at(time.Duration(w*each+n+1) * time.Millisecond)
					errs <- lf.UpdateLoginFailures(ctx, keys, t0, func(f [][]time.Time) error {
						f[0], f[1] = append(f[0], stamp), append(f[1], stamp)
						return nil
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := read(t, t0, "ip:shared")[0]; len(got) != workers*each {
			t.Errorf("shared key holds %d failures, want %d", len(got), workers*each)
		}
	})
}

// TestRateLimitSharedByReplicas starts two issuers over one database, as two replicas run: an
// attacker gets one budget of failures, not one per replica.
func TestRateLimitSharedByReplicas(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		clock := newClock()
		logs := &syncBuffer{}
		replicas := [2]*env{}
		for n := range replicas {
			e := &env{clock: clock, logs: logs}
			e.iss, e.cfg, e.srv = startIssuer(t, db, clock, logs)
			replicas[n] = e
		}
		ctx := context.Background()
		for _, u := range []string{"ada", "bob", "eve"} {
			if _, err := CreateAccount(ctx, db, NewAccount{Username: u, Email: u + "@example.com", Password: adaPassword, Role: portal.RoleCustomer}); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("issuer log:\n%s", logs.String())
			}
		})

		tests := []struct {
			name string
			// failures are sent alternately to the two replicas, each from its own address
			// unless ip is set.
			user, ip  string
			failures  int
			wantAfter int // status of the right password on each replica afterwards
		}{
			{name: "per username", user: "ada", failures: userFailureLimit, wantAfter: http.StatusTooManyRequests},
			{name: "below the username limit", user: "bob", failures: userFailureLimit - 1, wantAfter: http.StatusOK},
			{name: "per client IP", user: "x", ip: "198.51.100.7", failures: ipFailureLimit, wantAfter: http.StatusTooManyRequests},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for n := range tt.failures {
					ip := tt.ip
					user := tt.user
					if ip == "" {
						ip = "10.9." + strconv.Itoa(len(tt.name)) + "." + strconv.Itoa(n)
					} else {
						user += strconv.Itoa(n)
					}
					resp, body := replicas[n%2].postForm(t, passwordForm(user, "guess"), fromIP(ip))
					if resp.StatusCode != http.StatusUnauthorized {
						t.Fatalf("failure %d on replica %d: %d %s", n+1, n%2, resp.StatusCode, body)
					}
				}
				user, ip := tt.user, tt.ip
				if ip != "" {
					user = "eve"
				} else {
					ip = "10.9.99.1"
				}
				for r, e := range replicas {
					resp, body := e.postForm(t, passwordForm(user, adaPassword), fromIP(ip))
					if resp.StatusCode != tt.wantAfter {
						t.Errorf("replica %d: %d %s, want %d", r, resp.StatusCode, body, tt.wantAfter)
					}
					if tt.wantAfter == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "900" {
						t.Errorf("replica %d: Retry-After %q, want 900", r, resp.Header.Get("Retry-After"))
					}
				}
			})
		}

		// Parallel guesses spread over both replicas cannot exceed the one budget.
		t.Run("concurrent", func(t *testing.T) {
			if _, err := CreateAccount(ctx, db, NewAccount{Username: "carol", Email: "carol@example.com", Password: adaPassword, Role: portal.RoleCustomer}); err != nil {
				t.Fatal(err)
			}
			const attempts = 12
			codes := make([]int, attempts)
			var wg sync.WaitGroup
			for n := range attempts {
				wg.Go(func() {
					resp, _ := replicas[n%2].postForm(t, passwordForm("carol", "guess"), fromIP("203.0.113."+strconv.Itoa(n+1)))
					codes[n] = resp.StatusCode
				})
			}
			wg.Wait()
			counts := map[int]int{}
			for _, c := range codes {
				counts[c]++
			}
			if diff := cmp.Diff(map[int]int{401: userFailureLimit, 429: attempts - userFailureLimit}, counts); diff != "" {
				t.Errorf("status counts (-want +got):\n%s", diff)
			}
		})

		// The window slides on every replica; the dead records are cleaned up once they are
		// older than the longest window sharing the table (the password-reset counts').
		t.Run("window and cleanup", func(t *testing.T) {
			clock.Advance(failureWindow)
			replicas[1].login(t, passwordForm("ada", adaPassword))
			clock.Advance(counterRetention - failureWindow)
			replicas[0].login(t, passwordForm("ada", adaPassword))
			var n int64
			if err := countLoginFailures(db, &n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d failure records left after the window", n)
			}
		})
	})
}

// TestBlockedFor checks the sliding window's arithmetic.
func TestBlockedFor(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 15, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name  string
		ts    []time.Time
		limit int
		want  time.Duration
	}{
		{"none", nil, 3, 0},
		{"below the limit", []time.Time{ago(time.Minute), ago(0)}, 3, 0},
		{"at the limit: until the oldest leaves", []time.Time{ago(10 * time.Minute), ago(time.Minute), ago(0)}, 3, 5 * time.Minute},
		{"over the limit: the limit-th latest counts", []time.Time{ago(14 * time.Minute), ago(10 * time.Minute), ago(time.Minute), ago(0)}, 3, 5 * time.Minute},
		{"never negative", []time.Time{ago(20 * time.Minute), ago(20 * time.Minute), ago(20 * time.Minute)}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := blockedFor(tt.ts, tt.limit, now); got != tt.want {
				t.Errorf("blockedFor = %v, want %v", got, tt.want)
			}
		})
	}
	if got := addFailure([]time.Time{ago(3), ago(2), ago(1)}, now, 3); !cmp.Equal(got, []time.Time{ago(2), ago(1), now}) {
		t.Errorf("addFailure keeps %v, want the latest 3", got)
	}
	if got := removeFailure([]time.Time{ago(2), ago(1), ago(1)}, ago(1)); len(got) != 2 {
		t.Errorf("removeFailure left %v, want one of the equal times removed", got)
	}
}

// countLoginFailures counts the failure records in the database.
func countLoginFailures(db *store.DB, n *int64) error {
	return db.SQL().QueryRow(`SELECT count(*) FROM login_failures`).Scan(n)
}
