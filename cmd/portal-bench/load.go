package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// The scenarios, in the order they run and appear in the table.
const (
	scListProjects   = "GET /projects?limit=50 (cp-customer, 1-3 pages)"
	scGetProject     = "GET /projects/{id} (cp-customer)"
	scListCustomers  = "GET /customers?limit=50&q=prefix (cp-admin)"
	scCreateCustomer = "POST /customers (cp-admin)"
)

var scenarioNames = []string{scListProjects, scGetProject, scListCustomers, scCreateCustomer}

// maxErrorSamples is how many distinct failed answers each scenario prints to stderr.
const maxErrorSamples = 5

// scenario is one row of the table: a unit of work that workers repeat until the run's limit.
type scenario struct {
	name   string
	api    *apiClient
	tokens *tokenSource
	// iteration sends one or more requests through w.request and returns; it must send at
	// least one, so that a worker notices when the run is over.
	iteration func(ctx context.Context, w *worker)
}

// scenarios returns the four scenarios over the data.
func scenarios(api *apiClient, admin, user *tokenSource, d *dataset) []scenario {
	return []scenario{
		{name: scListProjects, api: api, tokens: user, iteration: func(ctx context.Context, w *worker) {
			// The hot path: the scoped list, following nextCursor for a random number of pages.
			path := "/projects?limit=50"
			for range 1 + w.rng.IntN(3) {
				r, ok := w.request(ctx, http.MethodGet, path, nil)
				if !ok || !r.ok() {
					return
				}
				var page struct {
					NextCursor string `json:"nextCursor"`
				}
				if err := json.Unmarshal(r.body, &page); err != nil || page.NextCursor == "" {
					return
				}
				path = "/projects?limit=50&cursor=" + url.QueryEscape(page.NextCursor)
			}
		}},
		{name: scGetProject, api: api, tokens: user, iteration: func(ctx context.Context, w *worker) {
			w.request(ctx, http.MethodGet, "/projects/"+d.assigned[w.rng.IntN(len(d.assigned))], nil)
		}},
		{name: scListCustomers, api: api, tokens: admin, iteration: func(ctx context.Context, w *worker) {
			w.request(ctx, http.MethodGet, "/customers?limit=50&q="+url.QueryEscape(d.query), nil)
		}},
		{name: scCreateCustomer, api: api, tokens: admin, iteration: func(ctx context.Context, w *worker) {
			w.seq++
			w.request(ctx, http.MethodPost, "/customers", map[string]any{
				"name":           fmt.Sprintf("%s%s-w%d-%06d", writeMarker, d.run, w.id, w.seq),
				"customerNumber": fmt.Sprintf("PW-%s-%d-%06d", d.run, w.id, w.seq),
				"contactEmail":   fmt.Sprintf("w%d-%06d@%s.bench.example", w.id, w.seq, d.run),
			})
		}},
	}
}

// limit ends a scenario at its deadline or after its request budget, whichever comes first.
type limit struct {
	deadline time.Time // zero: none
	budget   int64     // 0: none
	taken    atomic.Int64
}

// take reserves one request, or reports that the scenario is over.
func (l *limit) take(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if !l.deadline.IsZero() && !time.Now().Before(l.deadline) {
		return false
	}
	return l.budget == 0 || l.taken.Add(1) <= l.budget
}

// worker is one load goroutine, with its own random source and record, so that recording
// needs no locks.
type worker struct {
	id     int
	rng    *rand.Rand
	api    *apiClient
	tokens *tokenSource
	limit  *limit
	errs   *errorSamples
	seq    int // the worker's own counter, for unique names

	requests, errors int
	latencies        []time.Duration
	stopped          bool
}

// request sends one timed request, unless the scenario is over (ok false). The timer covers
// the HTTP exchange, including reading the answer, but not getting a token.
func (w *worker) request(ctx context.Context, method, path string, body any) (r response, ok bool) {
	if !w.limit.take(ctx) {
		w.stopped = true
		return response{}, false
	}
	w.requests++
	token, err := w.tokens.Token(ctx)
	if err != nil {
		r = response{err: err}
	} else {
		start := time.Now()
		r = w.api.do(ctx, method, path, token, body)
		if r.status != 0 {
			w.latencies = append(w.latencies, time.Since(start))
		}
	}
	if !r.ok() {
		w.errors++
		w.errs.add(r)
	}
	return r, true
}

// drive runs the scenario on concurrency workers until the duration has passed or the
// requests are spent, and summarizes it. Requests in flight at the deadline finish and count.
func drive(ctx context.Context, sc scenario, concurrency int, duration time.Duration, requests int, stderr io.Writer) summary {
	lim := &limit{budget: int64(requests)}
	start := time.Now()
	if duration > 0 {
		lim.deadline = start.Add(duration)
	}
	errs := &errorSamples{seen: map[string]bool{}}
	workers := make([]*worker, concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{
			id:     i,
			rng:    rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i))),
			api:    sc.api,
			tokens: sc.tokens,
			limit:  lim,
			errs:   errs,
		}
		workers[i] = w
		wg.Go(func() {
			for !w.stopped {
				sc.iteration(ctx, w)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	var nreq, nerr int
	for _, w := range workers {
		all = append(all, w.latencies...)
		nreq += w.requests
		nerr += w.errors
	}
	for _, s := range errs.samples {
		fmt.Fprintf(stderr, "portal-bench: %s: error: %s\n", sc.name, s)
	}
	return summarize(sc.name, all, nreq, nerr, elapsed)
}

// errorSamples keeps the first few distinct failed answers of a scenario.
type errorSamples struct {
	mu      sync.Mutex
	seen    map[string]bool
	samples []string
}

// volatileFields are the parts of a problem answer that differ between otherwise equal errors.
var volatileFields = regexp.MustCompile(`"(requestId|instance)"\s*:\s*"[^"]*"`)

func (e *errorSamples) add(r response) {
	text := r.describe()
	key := volatileFields.ReplaceAllString(text, "")
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.samples) >= maxErrorSamples || e.seen[key] {
		return
	}
	e.seen[key] = true
	e.samples = append(e.samples, text)
}
