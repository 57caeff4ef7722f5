// Command portal-bench is the portal's load benchmark. It targets a running portal over HTTP:
// it seeds customers, projects and one user's assignments through the API, then drives four
// scenarios (the scoped project list, project reads, the admin's customer search and customer
// creation) with concurrent keep-alive workers, and prints a Markdown table of throughput and
// latency percentiles that the README reports.
//
// Usage:
//
//	portal-bench -admin-password P -user U -user-password P [flags]
//
// Run portal-bench -h for every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() { os.Exit(exitCode()) }

// exitCode runs the benchmark with the process's arguments, interrupted by SIGINT or SIGTERM,
// and turns its error into the exit status: 0 success, 2 bad usage, 1 anything else.
func exitCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "portal-bench:", err)
		return 2
	default:
		fmt.Fprintln(os.Stderr, "portal-bench:", err)
		return 1
	}
}

// run is the whole program: parse the flags, sign in, seed (or find) the data, run the
// scenarios and print the tables on stdout. Progress and error samples go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	hc := newHTTPClient(max(opts.concurrency, opts.seedConcurrency))
	defer hc.CloseIdleConnections()
	api := &apiClient{base: opts.apiBase(), http: hc}
	admin := newTokenSource(hc, opts.tokenURL, opts.clientID, opts.adminUser, opts.adminPassword)
	user := newTokenSource(hc, opts.tokenURL, opts.clientID, opts.user, opts.userPassword)

	fmt.Fprintf(stderr, "portal-bench: target %s, token endpoint %s\n", opts.url, opts.tokenURL)
	username, err := signIn(ctx, api, admin, user)
	if err != nil {
		return err
	}

	var data *dataset
	var seeding []phase
	if opts.skipSeed {
		data, err = discover(ctx, api, admin, user, stderr)
	} else {
		data, seeding, err = seed(ctx, api, admin, username, opts, stderr)
	}
	if err != nil {
		return err
	}

	results := make([]summary, 0, len(scenarioNames))
	for _, sc := range scenarios(api, admin, user, data) {
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "portal-bench: running %q for %s with %d workers\n", sc.name, opts.limitText(), opts.concurrency)
		s := drive(ctx, sc, opts.concurrency, opts.duration, opts.requests, stderr)
		fmt.Fprintf(stderr, "portal-bench: %q: %d requests, %d errors, %.1f req/s\n", s.name, s.requests, s.errors, s.rate())
		results = append(results, s)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "portal-bench: tokens renewed before expiry: admin %d, user %d\n", admin.Renewals(), user.Renewals())

	fmt.Fprintln(stdout, header(opts, data))
	fmt.Fprintln(stdout)
	if len(seeding) > 0 {
		writeSeedTable(stdout, seeding, opts.seedConcurrency)
		fmt.Fprintln(stdout)
	}
	writeTable(stdout, results)
	return nil
}

// options are the parsed command-line flags.
type options struct {
	url, tokenURL, clientID       string
	adminUser, adminPassword      string
	user, userPassword            string
	customers, projects, assigned int
	concurrency, seedConcurrency  int
	duration                      time.Duration
	requests                      int
	skipSeed                      bool
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("portal-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://localhost:8080", "base URL of the running portal")
	fs.StringVar(&o.tokenURL, "token-url", "", "OIDC token endpoint (default <url>/realms/portal/protocol/openid-connect/token, the built-in issuer)")
	fs.StringVar(&o.clientID, "client-id", "customer-portal", "OIDC client id for the password grant")
	fs.StringVar(&o.adminUser, "admin-user", "admin", "a cp-admin user (password grant)")
	fs.StringVar(&o.adminPassword, "admin-password", "", "the cp-admin user's password (required)")
	fs.StringVar(&o.user, "user", "", "a cp-customer user that exists in the identity provider (required)")
	fs.StringVar(&o.userPassword, "user-password", "", "that user's password (required)")
	fs.IntVar(&o.customers, "customers", 100, "customers to create")
	fs.IntVar(&o.projects, "projects", 10000, "projects to create in total, spread over the customers")
	fs.IntVar(&o.assigned, "assigned", 100, "projects the user is assigned to")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent workers per scenario")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs (0: until -requests)")
	fs.IntVar(&o.requests, "requests", 0, "stop a scenario after this many requests (0: no cap)")
	fs.IntVar(&o.seedConcurrency, "seed-concurrency", 8, "concurrent requests while seeding")
	fs.BoolVar(&o.skipSeed, "skip-seed", false, "reuse the data of an earlier run instead of seeding")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: portal-bench -admin-password P -user U -user-password P [flags]

Seeds customers and projects through a running portal's API, assigns the user to some of the
projects, runs four load scenarios and prints a Markdown table on stdout.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := o.check(); err != nil {
		return o, err
	}
	return o, nil
}

// check validates the options and fills in the token URL.
func (o *options) check() error {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	base, err := parseBaseURL(o.url)
	if err != nil {
		bad("-url: %v", err)
	}
	o.url = base
	if o.tokenURL == "" && base != "" {
		o.tokenURL = base + "/realms/portal/protocol/openid-connect/token"
	} else if o.tokenURL != "" {
		if _, err := parseBaseURL(o.tokenURL); err != nil {
			bad("-token-url: %v", err)
		}
	}
	if o.adminUser == "" || o.adminPassword == "" {
		bad("-admin-user and -admin-password are required")
	}
	if o.user == "" || o.userPassword == "" {
		bad("-user and -user-password are required")
	}
	if !o.skipSeed {
		if o.customers < 1 {
			bad("-customers must be at least 1")
		}
		if o.projects < 1 {
			bad("-projects must be at least 1")
		}
		if o.assigned < 1 || o.assigned > o.projects {
			bad("-assigned must be between 1 and -projects (%d)", o.projects)
		}
	}
	if o.concurrency < 1 {
		bad("-concurrency must be at least 1")
	}
	if o.seedConcurrency < 1 {
		bad("-seed-concurrency must be at least 1")
	}
	if o.requests < 0 {
		bad("-requests must not be negative")
	}
	if o.duration < 0 {
		bad("-duration must not be negative")
	}
	if o.duration == 0 && o.requests == 0 {
		bad("-duration 0 needs -requests, or the scenarios would never stop")
	}
	if len(problems) > 0 {
		msg := problems[0]
		for _, p := range problems[1:] {
			msg += "; " + p
		}
		return usageError{msg}
	}
	return nil
}

// apiBase is the API's base URL.
func (o *options) apiBase() string { return o.url + "/api/v1" }

// limitText says what ends a scenario, for progress lines and the header.
func (o *options) limitText() string {
	switch {
	case o.requests > 0 && o.duration > 0:
		return fmt.Sprintf("%s or %d requests", o.duration, o.requests)
	case o.requests > 0:
		return fmt.Sprintf("%d requests", o.requests)
	default:
		return o.duration.String()
	}
}
