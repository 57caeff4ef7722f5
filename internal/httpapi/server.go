// Package httpapi serves the portal's REST API with Echo: the generated strict handlers, request
// validation against openapi.yaml, bearer authentication, and the one error handler that turns
// every failure into application/problem+json.
package httpapi

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Verifier checks a bearer token offline and says who it names.
type Verifier interface {
	Verify(ctx context.Context, token string) (portal.Principal, error)
}

// Config wires the API to the domain.
type Config struct {
	Service  *portal.Service
	Verifier Verifier
	Logger   *slog.Logger
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// Middleware runs first on every request, before the request id and the access log: the
	// place for metrics and tracing (internal/telemetry), which see the final status.
	Middleware []echo.MiddlewareFunc
	// UI serves the portal page and the widget bundle at / (nil: no web UI).
	UI http.Handler
	// WebOrigins are the other sites whose pages embed the widgets: their scripts may call
	// the API (CORS). The portal's own origin needs no entry.
	WebOrigins []string
}

//go:embed docs
var docsFS embed.FS

//go:embed pages
var pagesFS embed.FS

// New returns the HTTP handler of the whole API.
func New(cfg Config) (http.Handler, error) {
	if cfg.Service == nil || cfg.Verifier == nil {
		return nil, errors.New("httpapi: Service and Verifier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	validate, err := requestValidator()
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(cfg.Logger, cfg.MaxBodyBytes)
	e.Use(cfg.Middleware...)
	e.Use(middleware.RequestID())
	e.Use(accessLog(cfg.Logger))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		cfg.Logger.Error("panic", "requestId", c.Response().Header().Get(echo.HeaderXRequestID), "error", err.Error(), "stack", string(stack))
		return err
	}}))
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			return next(c)
		}
	})

	if len(cfg.WebOrigins) > 0 {
		// Before authentication, so that preflights (which carry no token) are answered.
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  cfg.WebOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "If-Match", "If-None-Match", "Idempotency-Key", echo.HeaderXRequestID},
			ExposeHeaders: []string{"ETag", echo.HeaderLocation, echo.HeaderXRequestID, "Retry-After"},
			MaxAge:        600,
		}))
	}

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		if err := cfg.Service.Ready(c.Request().Context()); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	e.GET("/api/v1/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", api.SpecYAML)
	})
	docs, _ := fs.Sub(docsFS, "docs")
	docsHandler := http.StripPrefix("/api/v1/docs/", http.FileServer(http.FS(docs)))
	e.GET("/api/v1/docs", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/api/v1/docs/")
	})
	e.GET("/api/v1/docs/*", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
		docsHandler.ServeHTTP(c.Response(), c.Request())
		return nil
	})

	// The pages behind invitation and password-reset links (built-in identity provider).
	page := func(name, contentType string) echo.HandlerFunc {
		b, _ := pagesFS.ReadFile("pages/" + name)
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")
			h.Set("Cache-Control", "no-store")
			return c.Blob(http.StatusOK, contentType, b)
		}
	}
	e.GET("/invitation", page("link.html", "text/html; charset=utf-8"))
	e.GET("/password-reset", page("link.html", "text/html; charset=utf-8"))
	e.GET("/assets/link.js", page("link.js", "text/javascript; charset=utf-8"))
	e.GET("/assets/link.css", page("link.css", "text/css; charset=utf-8"))

	if cfg.UI != nil {
		ui := echo.WrapHandler(cfg.UI)
		for _, p := range []string{"/", "/index.html", "/portal-config.json", "/silent-check-sso.html", "/ui/*"} {
			e.Match([]string{http.MethodGet, http.MethodHead}, p, ui)
		}
	}

	g := e.Group("/api/v1", middleware.BodyLimit(fmt.Sprint(cfg.MaxBodyBytes)), authenticate(cfg.Verifier, cfg.Service), validate)
	api.RegisterHandlers(g, api.NewStrictHandler(&handlers{svc: cfg.Service, log: cfg.Logger}, nil))
	return e, nil
}

// publicPaths need no token: the secret in a mailed link is their credential.
var publicPaths = []string{"/api/v1/invitations/", "/api/v1/password-resets/", "/api/v1/webhooks/"}

// authenticate verifies the bearer token and puts the caller into the request context.
func authenticate(v Verifier, svc *portal.Service) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			for _, p := range publicPaths {
				if strings.HasPrefix(c.Request().URL.Path, p) {
					return next(c)
				}
			}
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, token, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				if h == "" {
					return portal.Errorf(portal.Unauthenticated, "send an access token in the Authorization header: Bearer <token>")
				}
				return portal.Errorf(portal.Unauthenticated, "the Authorization header must be: Bearer <token>")
			}
			ctx := c.Request().Context()
			p, err := v.Verify(ctx, strings.TrimSpace(token))
			if err != nil {
				return err
			}
			caller, err := svc.Authenticate(ctx, p)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(portal.WithCaller(ctx, caller)))
			return next(c)
		}
	}
}

// requestValidator checks every API request against openapi.yaml before a handler runs.
func requestValidator() (echo.MiddlewareFunc, error) {
	doc, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("httpapi: load embedded spec: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("httpapi: build spec router: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.EnableFormatValidation(),
			openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(s string) error {
				if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
					return errors.New("must be a UUID such as 0191b3f2-7a3e-7c4d-9e2f-123456789abc")
				}
				return nil
			})),
		},
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			if err != nil {
				if allow := allowedMethods(router, req); len(allow) > 0 {
					c.Response().Header().Set("Allow", strings.Join(allow, ", "))
					return routers.ErrMethodNotAllowed
				}
				return routers.ErrPathNotFound
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				return flattenMulti(err)
			}
			return next(c)
		}
	}, nil
}

// allowedMethods lists the methods the spec defines for the request's path, for a 405's Allow.
func allowedMethods(router routers.Router, req *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r := req.Clone(req.Context())
		r.Method = m
		if _, _, err := router.FindRoute(r); err == nil {
			allow = append(allow, m)
		}
	}
	return allow
}

// flattenMulti keeps the first request error of a multi-error but merges the body's schema
// errors, so one problem names every field at fault.
func flattenMulti(err error) error {
	var me openapi3.MultiError
	if !errors.As(err, &me) || len(me) == 0 {
		return err
	}
	var first *openapi3filter.RequestError
	var schema openapi3.MultiError
	for _, e := range me {
		var re *openapi3filter.RequestError
		if errors.As(e, &re) {
			if first == nil {
				first = re
			}
			if re.RequestBody != nil && first.RequestBody != nil && re.Err != nil {
				schema = append(schema, re.Err)
			}
		}
	}
	if first == nil {
		return me[0]
	}
	if len(schema) > 1 {
		merged := *first
		merged.Err = schema
		return &merged
	}
	return first
}

// accessLog writes one structured line per request.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			attrs := []any{
				"requestId", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "path", c.Request().URL.Path, "route", c.Path(),
				"status", status, "durationMs", float64(time.Since(start).Microseconds()) / 1000,
			}
			if caller, ok := portal.CallerFrom(c.Request().Context()); ok {
				attrs = append(attrs, "subject", caller.Subject)
			}
			log.Info("request", attrs...)
			return nil
		}
	}
}
