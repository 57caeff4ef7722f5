package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Every object the benchmark creates carries a marker and the run's id in its name, so that
// repeated runs against one database never collide and -skip-seed finds an earlier run's
// customers with ?q=seedMarker. The write scenario's customers use another marker, so they are
// not mistaken for seeded ones.
const (
	seedMarker  = "pbench-"  // pbench-<run>-c000001, pbench-<run>-p0000001
	writeMarker = "pbwrite-" // pbwrite-<run>-w3-000017
)

// dataset is what the scenarios work on.
type dataset struct {
	run       string   // this run's id, for the names of created customers
	query     string   // ?q= that finds the seeded customers
	customers int      // seeded customers
	projects  int      // seeded projects
	assigned  []string // ids of the projects the user is assigned to
	reused    bool     // found by -skip-seed rather than created
}

// phase is one step of seeding, for the throughput table.
type phase struct {
	name    string
	count   int
	elapsed time.Duration
}

// newRunID returns a short random id, lower-case letters and digits.
func newRunID() string { return strings.ToLower(rand.Text()[:8]) }

type idOnly struct {
	ID string `json:"id"`
}

// seed creates the customers, the projects (round-robin over the customers) and the user's
// assignments (spread evenly over the projects) through the API, each step with bounded
// concurrency. The first failure stops seeding and is returned.
func seed(ctx context.Context, api *apiClient, admin *tokenSource, username string, o options, stderr io.Writer) (*dataset, []phase, error) {
	run := newRunID()
	prefix := seedMarker + run + "-"
	fmt.Fprintf(stderr, "portal-bench: seeding %d customers, %d projects and %d assignments of %s with prefix %s\n",
		o.customers, o.projects, o.assigned, username, prefix)

	customerIDs := make([]string, o.customers)
	customers, err := parallel(ctx, "customers", o.customers, o.seedConcurrency, stderr, func(ctx context.Context, i int) error {
		var c idOnly
		err := api.call(ctx, admin, http.MethodPost, "/customers", map[string]any{
			"name":           fmt.Sprintf("%sc%06d", prefix, i),
			"customerNumber": fmt.Sprintf("PB-%s-%06d", run, i),
			"contactName":    "Benchmark Contact",
			"contactEmail":   fmt.Sprintf("contact-%06d@%s.bench.example", i, run),
			"notes":          "created by portal-bench",
		}, &c)
		customerIDs[i] = c.ID
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("seed customers: %w", err)
	}

	projectIDs := make([]string, o.projects)
	projects, err := parallel(ctx, "projects", o.projects, o.seedConcurrency, stderr, func(ctx context.Context, i int) error {
		var p idOnly
		err := api.call(ctx, admin, http.MethodPost, "/projects", map[string]any{
			"customerId":   customerIDs[i%o.customers],
			"name":         fmt.Sprintf("%sp%07d", prefix, i),
			"description":  fmt.Sprintf("Benchmark project %d of customer %d", i, i%o.customers),
			"contactName":  "Benchmark Contact",
			"contactEmail": fmt.Sprintf("project-%07d@%s.bench.example", i, run),
		}, &p)
		projectIDs[i] = p.ID
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("seed projects: %w", err)
	}

	assigned := make([]string, o.assigned)
	for k := range assigned {
		assigned[k] = projectIDs[k*o.projects/o.assigned]
	}
	assignments, err := parallel(ctx, "assignments", o.assigned, o.seedConcurrency, stderr, func(ctx context.Context, k int) error {
		return api.call(ctx, admin, http.MethodPost, "/projects/"+assigned[k]+"/users", map[string]any{"username": username}, nil)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("seed assignments: %w", err)
	}

	data := &dataset{run: run, query: prefix, customers: o.customers, projects: o.projects, assigned: assigned}
	return data, []phase{customers, projects, assignments}, nil
}

// parallel calls fn for 0..n-1 on at most workers goroutines, printing progress to stderr
// every second. It stops at the first error and returns it.
func parallel(ctx context.Context, name string, n, workers int, stderr io.Writer, fn func(context.Context, int) error) (phase, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	start := time.Now()
	report := func() {
		d := done.Load()
		fmt.Fprintf(stderr, "portal-bench: seed %s: %d/%d (%.0f/s)\n", name, d, n, float64(d)/time.Since(start).Seconds())
	}

	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				report()
			case <-stopProgress:
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return phase{}, context.Cause(ctx)
	}
	report()
	return phase{name: name, count: n, elapsed: elapsed}, nil
}

// discover finds the data of earlier runs for -skip-seed: the seeded customers and projects by
// their marker, counted as the admin, and the projects the user sees, listed as the user.
func discover(ctx context.Context, api *apiClient, admin, user *tokenSource, stderr io.Writer) (*dataset, error) {
	fmt.Fprintf(stderr, "portal-bench: -skip-seed: looking for customers and projects named %s*\n", seedMarker)
	customers, err := countPages(ctx, api, admin, "/customers?limit=200&q="+url.QueryEscape(seedMarker), nil)
	if err != nil {
		return nil, err
	}
	if customers == 0 {
		return nil, fmt.Errorf("-skip-seed: no customers named %s* found; run once without -skip-seed", seedMarker)
	}
	projects, err := countPages(ctx, api, admin, "/projects?limit=200&q="+url.QueryEscape(seedMarker), nil)
	if err != nil {
		return nil, err
	}
	var assigned []string
	if _, err := countPages(ctx, api, user, "/projects?limit=200", func(id string) { assigned = append(assigned, id) }); err != nil {
		return nil, err
	}
	if len(assigned) == 0 {
		return nil, fmt.Errorf("-skip-seed: user %s sees no projects; run once without -skip-seed", user.username)
	}
	fmt.Fprintf(stderr, "portal-bench: found %d customers and %d projects; %s sees %d projects\n", customers, projects, user.username, len(assigned))
	return &dataset{run: newRunID(), query: seedMarker, customers: customers, projects: projects, assigned: assigned, reused: true}, nil
}

// countPages follows a list's nextCursor to its end, calling each (when not nil) with every
// item's id, and returns the number of items.
func countPages(ctx context.Context, api *apiClient, ts *tokenSource, path string, each func(id string)) (int, error) {
	n := 0
	cursor := ""
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items      []idOnly `json:"items"`
			NextCursor string   `json:"nextCursor"`
		}
		if err := api.call(ctx, ts, http.MethodGet, p, nil, &page); err != nil {
			return 0, err
		}
		n += len(page.Items)
		if each != nil {
			for _, it := range page.Items {
				each(it.ID)
			}
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			return n, nil
		}
		cursor = page.NextCursor
	}
}
