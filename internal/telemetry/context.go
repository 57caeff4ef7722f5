package telemetry

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id that LogHandler adds to log lines.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ValidRequestID reports whether an incoming X-Request-ID may be reused: a short token of
// letters, digits, '.', '_' and '-'. Anything else (log injection, megabytes of header) is
// replaced by a fresh id.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Middleware is the API's outermost Echo middleware. It settles the request id (the caller's
// X-Request-ID when sane, else a new one, written back into the request header so Echo's
// RequestID middleware echoes it), puts it into the request context for the logs, names the
// server span after the route, and records the request's metrics once its status is final.
func (t *Telemetry) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			req := c.Request()
			id := req.Header.Get(echo.HeaderXRequestID)
			if !ValidRequestID(id) {
				id = rand.Text()
				req.Header.Set(echo.HeaderXRequestID, id)
			}
			// Echo's route template: a bounded set, unlike the path with its ids.
			op := c.Path()
			if op == "" {
				op = "unmatched"
			}
			meth := method(req.Method)
			ctx := WithRequestID(req.Context(), id)
			if rh, ok := ctx.Value(routeKey{}).(*routeHolder); ok {
				rh.route = op
			}
			if span := trace.SpanFromContext(ctx); span.IsRecording() {
				span.SetAttributes(attribute.String("http.route", op), attribute.String("portal.request_id", id))
			}
			c.SetRequest(req.WithContext(ctx))
			if err := next(c); err != nil {
				// Let the error handler write the response now, so the status recorded is the
				// one the client gets.
				c.Error(err)
			}
			t.m.observeRequest(op, meth, c.Response().Status, time.Since(start))
			return nil
		}
	}
}

// LogHandler wraps next so that every record logged with a context carries that context's
// requestId and, when a span is recording, traceId and spanId: any log line written while
// serving a request can be found from the access log line or the trace.
func LogHandler(next slog.Handler) slog.Handler { return &logHandler{next: next} }

type logHandler struct{ next slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("traceId", sc.TraceID().String()), slog.String("spanId", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name)}
}
