// Command portal is the Customer Portal server. With no configuration it serves the whole API
// on SQLite with a built-in identity provider; with PORTAL_DATABASE_URL and
// PORTAL_OIDC_ISSUER_URL it is the production server on PostgreSQL and Keycloak.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	// Time zones travel in the binary: the Jira sync reads dates in the service account's zone,
	// and container images may have no zoneinfo.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}
