package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/telemetry"
)

// TestShutdownTimeoutClosesConnections holds a request past PORTAL_SHUTDOWN_TIMEOUT: when
// shutdown gives up waiting, the request's connection is closed and its context cancelled, so
// that no handler is still using the database that serve() closes right after.
func TestShutdownTimeoutClosesConnections(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	cancelled := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}()
	<-started
	tel, err := telemetry.New(telemetry.Config{Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	syncDone := make(chan struct{})
	close(syncDone)
	log := slog.New(slog.DiscardHandler)
	err = shutdown(shutdownPlan{log: log, svc: portal.NewService(nil, portal.Options{Logger: log}), srv: srv, tel: tel,
		errc: errc, stopSync: func() {}, syncDone: syncDone, timeout: 100 * time.Millisecond})
	if err == nil {
		t.Error("shutdown reported no error although a request outlasted the timeout")
	}
	select {
	case <-cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("the request still runs after shutdown returned: its connection was not closed")
	}
}
