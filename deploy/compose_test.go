package deploy_test

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose specification deploy/compose.yaml uses; decoding it
// strictly refuses keys the test does not know, so a typo cannot hide.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
}

type composeService struct {
	Image       string            `json:"image"`
	Build       *composeBuild     `json:"build"`
	Command     []string          `json:"command"`
	Environment map[string]string `json:"environment"`
	Volumes     []string          `json:"volumes"`
	Ports       []string          `json:"ports"`
	DependsOn   map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
	Healthcheck *struct {
		Test        []string `json:"test"`
		Interval    string   `json:"interval"`
		Timeout     string   `json:"timeout"`
		Retries     int      `json:"retries"`
		StartPeriod string   `json:"start_period"`
	} `json:"healthcheck"`
	Restart string `json:"restart"`
}

type composeBuild struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
}

// interpolate resolves ${VAR:-default} the way Compose does with VAR unset.
func interpolate(s string) string {
	return regexp.MustCompile(`\$\{[A-Z0-9_]+:-([^}]*)\}`).ReplaceAllString(s, "$1")
}

func TestCompose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "keycloak", "portal"} {
		if _, ok := f.Services[name]; !ok {
			t.Fatalf("compose.yaml has no service %s", name)
		}
	}

	// Files the stack is built from or mounts must exist, relative to compose.yaml.
	for name, svc := range f.Services {
		if svc.Build != nil {
			df := filepath.Join(svc.Build.Context, svc.Build.Dockerfile)
			if _, err := os.Stat(df); err != nil {
				t.Errorf("service %s builds from %s: %v", name, df, err)
			}
			if _, err := os.Stat(filepath.Join(svc.Build.Context, "go.mod")); err != nil {
				t.Errorf("service %s: build context %s is not the repository root", name, svc.Build.Context)
			}
		}
		for _, v := range svc.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := f.Volumes[src]; !ok {
				t.Errorf("service %s uses volume %s, which compose.yaml does not declare", name, src)
			}
		}
		for dep, d := range svc.DependsOn {
			if f.Services[dep].Healthcheck == nil || d.Condition != "service_healthy" {
				t.Errorf("service %s starts before %s is healthy", name, dep)
			}
		}
	}

	kc, portal, pg := f.Services["keycloak"], f.Services["portal"], f.Services["postgres"]
	if !regexp.MustCompile(`^quay\.io/keycloak/keycloak:26\.\d+\.\d+$`).MatchString(kc.Image) {
		t.Errorf("Keycloak image %q is not a pinned 26.x.y", kc.Image)
	}
	if !strings.Contains(strings.Join(kc.Command, " "), "--import-realm") {
		t.Errorf("Keycloak command %v does not import the realm", kc.Command)
	}
	if pg.Image != "postgres:16" || pg.Healthcheck == nil {
		t.Errorf("postgres: image %q, healthcheck %v", pg.Image, pg.Healthcheck != nil)
	}

	// The realm's admin client secret reaches Keycloak (import placeholder) and the portal alike.
	realm, err := os.ReadFile("keycloak/realm-portal.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(realm), "${CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET") {
		t.Error("realm-portal.json does not take the admin client secret from CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET")
	}
	kcSecret, pSecret := kc.Environment["CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET"], portal.Environment["PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET"]
	if kcSecret == "" || kcSecret != pSecret {
		t.Errorf("Keycloak gets admin client secret %q, the portal %q", kcSecret, pSecret)
	}

	// Browsers and tokens use Keycloak's published address; the portal's container reaches it
	// through the service name.
	hostname, err := url.Parse(kc.Environment["KC_HOSTNAME"])
	if err != nil || hostname.Host == "" {
		t.Fatalf("KC_HOSTNAME %q is not a full URL: iss would depend on who asks", kc.Environment["KC_HOSTNAME"])
	}
	if want := hostname.String() + "/realms/portal"; portal.Environment["PORTAL_OIDC_ISSUER_URL"] != want {
		t.Errorf("PORTAL_OIDC_ISSUER_URL = %q, want %q (the iss Keycloak puts in tokens)", portal.Environment["PORTAL_OIDC_ISSUER_URL"], want)
	}
	if !publishes(kc.Ports, hostname.Port(), "8080") {
		t.Errorf("Keycloak ports %v do not publish %s (KC_HOSTNAME) to its 8080", kc.Ports, hostname.Port())
	}
	if got := portal.Environment["PORTAL_KEYCLOAK_INTERNAL_URL"]; got != "http://keycloak:8080" {
		t.Errorf("PORTAL_KEYCLOAK_INTERNAL_URL = %q, want http://keycloak:8080", got)
	}
	db, err := url.Parse(interpolate(portal.Environment["PORTAL_DATABASE_URL"]))
	if err != nil || db.Scheme != "postgres" || db.Hostname() != "postgres" ||
		db.User.Username() != pg.Environment["POSTGRES_USER"] || strings.TrimPrefix(db.Path, "/") != pg.Environment["POSTGRES_DB"] {
		t.Errorf("PORTAL_DATABASE_URL %q does not name the postgres service's user and database", portal.Environment["PORTAL_DATABASE_URL"])
	}
	if pw, _ := db.User.Password(); pw != interpolate(pg.Environment["POSTGRES_PASSWORD"]) {
		t.Errorf("PORTAL_DATABASE_URL password %q, postgres has %q", pw, interpolate(pg.Environment["POSTGRES_PASSWORD"]))
	}
	if !publishes(portal.Ports, "8080", "8080") || portal.Environment["PORTAL_PUBLIC_URL"] != "http://localhost:8080" {
		t.Errorf("portal ports %v, PORTAL_PUBLIC_URL %q", portal.Ports, portal.Environment["PORTAL_PUBLIC_URL"])
	}
	if addr := portal.Environment["PORTAL_METRICS_ADDR"]; addr != ":9090" || !publishes(portal.Ports, "9090", "9090") {
		t.Errorf("PORTAL_METRICS_ADDR %q, ports %v", addr, portal.Ports)
	}
	known := configVars(t)
	for k := range portal.Environment {
		if !known[k] {
			t.Errorf("the portal service sets %s, which internal/config does not read", k)
		}
	}
}

// publishes reports whether ports maps host port to container port (with or without a host IP).
func publishes(ports []string, host, container string) bool {
	for _, p := range ports {
		parts := strings.Split(p, ":")
		if len(parts) >= 2 && parts[len(parts)-2] == host && parts[len(parts)-1] == container {
			return true
		}
	}
	return false
}

// TestDockerfile: the image builds the widgets from source before the Go binary, with the one
// build script CI also runs, and ends non-root on distroless.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := strings.ReplaceAll(string(b), "\\\n", " ")
	var runs, froms []string
	for _, line := range strings.Split(df, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "RUN":
			runs = append(runs, line)
		case "FROM":
			froms = append(froms, line)
		}
	}
	var build, npm int
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			t.Errorf("the Dockerfile runs go build itself (%q); deploy/build.sh is the one build command", r)
		}
		if strings.Contains(r, "deploy/build.sh") {
			build++
		}
		if strings.Contains(r, "npm run build") {
			npm++
		}
	}
	if build != 1 || npm != 1 {
		t.Errorf("RUN deploy/build.sh %d times, npm run build %d times; want once each", build, npm)
	}
	if strings.Index(df, "npm run build") > strings.Index(df, "deploy/build.sh") {
		t.Error("the frontend is built after the Go binary that embeds it")
	}
	if len(froms) != 3 || !strings.Contains(df, "gcr.io/distroless/static-debian12:nonroot") {
		t.Errorf("stages %v, want node, golang and distroless static nonroot", froms)
	}
	for _, want := range []string{"USER 65532:65532", "EXPOSE 8080 9090", "PORTAL_ADDR=:8080", "PORTAL_DATA_DIR=/data", "org.opencontainers.image.source"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	script, err := os.ReadFile("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"set -eu", `CGO_ENABLED=0 go build -trimpath -ldflags "-s -w"`, "./cmd/portal"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("build.sh lacks %q", want)
		}
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"node_modules", "portal-data", ".git", "!deploy/build.sh"} {
		if !strings.Contains(string(ignore), want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}
