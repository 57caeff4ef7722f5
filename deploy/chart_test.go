package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const chartDir = "helm/customer-portal"

// kubeVersion is the cluster version the chart is rendered for; the library's own default
// (v1.20) is older than the chart's kubeVersion constraint.
var kubeVersion = &chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}

// production is what deploy/README.md installs: Keycloak, PostgreSQL from CloudNativePG's
// Secret, a shared secret key, three pods scaled by an HPA, an ingress with TLS, and a
// ServiceMonitor.
func production() map[string]any {
	return map[string]any{
		"replicaCount": 3,
		"image":        map[string]any{"tag": "1.2.3"},
		"portal":       map[string]any{"webOrigins": []any{"https://intranet.example.com"}},
		"database":     map[string]any{"existingSecret": "portal-db-app", "key": "uri"},
		"secretKey":    map[string]any{"existingSecret": "portal-secrets", "key": "secret-key"},
		"oidc": map[string]any{
			"issuerURL":         "https://sso.example.com/realms/portal",
			"internalURL":       "http://keycloak-service.keycloak.svc:8080",
			"adminClientID":     "customer-portal-admin",
			"adminClientSecret": map[string]any{"existingSecret": "portal-secrets", "key": "keycloak-admin-client-secret"},
		},
		"ingress": map[string]any{"enabled": true, "className": "nginx", "host": "portal.example.com",
			"annotations": map[string]any{"cert-manager.io/cluster-issuer": "letsencrypt"},
			"tls":         map[string]any{"enabled": true, "secretName": "portal-tls"}},
		"autoscaling": map[string]any{"enabled": true, "minReplicas": 3, "maxReplicas": 12},
		"metrics":     map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}}},
		"tracing":     map[string]any{"otlpEndpoint": "http://otel-collector.observability:4318"},
	}
}

// with returns base with the dotted path set to v.
func with(base map[string]any, path string, v any) map[string]any {
	out := deepCopy(base)
	m := out
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
	return out
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return c
}

// rendered is a chart rendered like `helm template`, every manifest decoded strictly into its
// Kubernetes type.
type rendered struct {
	text           string
	notes          string
	configMap      *corev1.ConfigMap
	serviceAccount *corev1.ServiceAccount
	deployment     *appsv1.Deployment
	service        *corev1.Service
	ingress        *networkingv1.Ingress
	hpa            *autoscalingv2.HorizontalPodAutoscaler
	pdb            *policyv1.PodDisruptionBudget
	networkPolicy  *networkingv1.NetworkPolicy
	serviceMonitor *monitoringv1.ServiceMonitor
	objects        []metav1.Object
}

// render does what `helm template` does (values coalesced and checked against
// values.schema.json, the chart's kubeVersion checked, templates rendered, NOTES.txt apart),
// through the Helm library's chartutil and engine rather than its action package, which would
// more than double the test's compile time for a cluster client it never uses.
func render(t *testing.T, vals map[string]any) (*rendered, error) {
	t.Helper()
	c := loadChart(t)
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = *kubeVersion
	if !chartutil.IsCompatibleRange(c.Metadata.KubeVersion, caps.KubeVersion.String()) {
		t.Fatalf("chart kubeVersion %s excludes the test's %s", c.Metadata.KubeVersion, caps.KubeVersion.String())
	}
	top, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{Name: "portal", Namespace: "portal", Revision: 1, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	// Strict: a template that reads a value values.yaml does not define fails, instead of
	// rendering an empty string.
	files, err := engine.Engine{Strict: true}.Render(c, top)
	if err != nil {
		return nil, err
	}
	notesFile := c.Name() + "/templates/NOTES.txt"
	notes := files[notesFile]
	delete(files, notesFile)
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	if len(hooks) > 0 {
		t.Fatalf("the chart has %d hooks; the portal needs none (migrations run at start)", len(hooks))
	}
	var text strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&text, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	r := &rendered{text: text.String(), notes: notes}
	for name, doc := range releaseutil.SplitManifests(r.text) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// UnmarshalStrict refuses unknown and duplicate fields: a misplaced key (say, a probe
		// one level too deep) fails here instead of being dropped by the API server.
		decode := func(into any) {
			t.Helper()
			if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
				t.Fatalf("%s (%s) does not decode strictly: %v\n%s", tm.Kind, name, err, doc)
			}
			r.objects = append(r.objects, into.(metav1.Object))
		}
		key := tm.APIVersion + "/" + tm.Kind
		switch key {
		case "v1/ConfigMap":
			r.configMap = &corev1.ConfigMap{}
			decode(r.configMap)
		case "v1/ServiceAccount":
			r.serviceAccount = &corev1.ServiceAccount{}
			decode(r.serviceAccount)
		case "apps/v1/Deployment":
			r.deployment = &appsv1.Deployment{}
			decode(r.deployment)
		case "v1/Service":
			r.service = &corev1.Service{}
			decode(r.service)
		case "networking.k8s.io/v1/Ingress":
			r.ingress = &networkingv1.Ingress{}
			decode(r.ingress)
		case "autoscaling/v2/HorizontalPodAutoscaler":
			r.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			decode(r.hpa)
		case "policy/v1/PodDisruptionBudget":
			r.pdb = &policyv1.PodDisruptionBudget{}
			decode(r.pdb)
		case "networking.k8s.io/v1/NetworkPolicy":
			r.networkPolicy = &networkingv1.NetworkPolicy{}
			decode(r.networkPolicy)
		case "monitoring.coreos.com/v1/ServiceMonitor":
			r.serviceMonitor = &monitoringv1.ServiceMonitor{}
			decode(r.serviceMonitor)
		default:
			t.Fatalf("%s: unexpected kind %s (add it to the test, with its checks)", name, key)
		}
	}
	return r, nil
}

func mustRender(t *testing.T, vals map[string]any) *rendered {
	t.Helper()
	r, err := render(t, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}

func TestLint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vals map[string]any
		want string // a message lint must report; empty: none above info
	}{
		{"defaults", nil, ""},
		{"production", production(), ""},
		// Lint reports a template's fail() only as info (Helm's lint mode); TestRefused covers
		// those through rendering.
		{"schema violation", with(nil, "service.type", "Headless"), "/service/type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// What `helm lint --strict` runs: a warning fails as an error does.
			res := lint.AllWithKubeVersion(chartDir, tt.vals, "portal", kubeVersion)
			var found []string
			for _, m := range res.Messages {
				if m.Severity > support.InfoSev {
					found = append(found, m.Error())
				}
			}
			switch {
			case tt.want == "" && len(found) > 0:
				t.Errorf("lint: %s", strings.Join(found, "\n"))
			case tt.want != "" && !strings.Contains(strings.Join(found, "\n"), tt.want):
				t.Errorf("lint found %q, want a message containing %q", found, tt.want)
			}
		})
	}
}

// TestRender renders the chart with several values sets and checks, on each, what makes the
// deployment safe and working; then what each set changes.
func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		vals  map[string]any
		check func(t *testing.T, r *rendered)
	}{
		{"defaults", nil, func(t *testing.T, r *rendered) {
			d := r.deployment
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
				t.Errorf("replicas = %v, want 1", d.Spec.Replicas)
			}
			if r.hpa != nil || r.ingress != nil || r.serviceMonitor != nil {
				t.Error("defaults render an HPA, Ingress or ServiceMonitor")
			}
			if env := envNamed(container(t, d), "PORTAL_DATABASE_URL"); env != nil {
				t.Errorf("defaults set PORTAL_DATABASE_URL: %+v", env)
			}
			if _, ok := r.configMap.Data["PORTAL_OIDC_ISSUER_URL"]; ok {
				t.Error("defaults configure Keycloak")
			}
			if !strings.Contains(r.notes, "LOST when the pod is") {
				t.Errorf("NOTES do not warn that the emptyDir SQLite database is lost:\n%s", r.notes)
			}
		}},
		{"production", production(), func(t *testing.T, r *rendered) {
			d := r.deployment
			if d.Spec.Replicas != nil {
				t.Errorf("replicas = %d although the HPA owns the count", *d.Spec.Replicas)
			}
			if r.hpa == nil || *r.hpa.Spec.MinReplicas != 3 || r.hpa.Spec.MaxReplicas != 12 {
				t.Fatalf("HPA = %+v, want 3..12", r.hpa)
			}
			if ref := r.hpa.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
				t.Errorf("HPA scales %+v, want Deployment %s", ref, d.Name)
			}
			m := r.hpa.Spec.Metrics
			if len(m) != 1 || m[0].Resource == nil || m[0].Resource.Name != corev1.ResourceCPU ||
				m[0].Resource.Target.AverageUtilization == nil || *m[0].Resource.Target.AverageUtilization != 70 {
				t.Errorf("HPA metrics = %+v, want CPU at 70%%", m)
			}
			c := container(t, d)
			if c.Image != "ghcr.io/customer-portal/portal:1.2.3" {
				t.Errorf("image = %s", c.Image)
			}
			wantSecretRefs := map[string][2]string{
				"PORTAL_DATABASE_URL":                 {"portal-db-app", "uri"},
				"PORTAL_SECRET_KEY":                   {"portal-secrets", "secret-key"},
				"PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET": {"portal-secrets", "keycloak-admin-client-secret"},
			}
			for name, want := range wantSecretRefs {
				env := envNamed(c, name)
				if env == nil || env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
					t.Errorf("%s is not read from a Secret: %+v", name, env)
					continue
				}
				ref := env.ValueFrom.SecretKeyRef
				if ref.Name != want[0] || ref.Key != want[1] {
					t.Errorf("%s from Secret %s key %s, want %s key %s", name, ref.Name, ref.Key, want[0], want[1])
				}
			}
			cm := r.configMap.Data
			for k, want := range map[string]string{
				"PORTAL_PUBLIC_URL":               "https://portal.example.com",
				"PORTAL_OIDC_ISSUER_URL":          "https://sso.example.com/realms/portal",
				"PORTAL_KEYCLOAK_INTERNAL_URL":    "http://keycloak-service.keycloak.svc:8080",
				"PORTAL_KEYCLOAK_ADMIN_CLIENT_ID": "customer-portal-admin",
				"PORTAL_WEB_ORIGINS":              "https://intranet.example.com",
				"OTEL_EXPORTER_OTLP_ENDPOINT":     "http://otel-collector.observability:4318",
			} {
				if cm[k] != want {
					t.Errorf("ConfigMap %s = %q, want %q", k, cm[k], want)
				}
			}
			ing := r.ingress
			if ing == nil || ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
				t.Fatalf("ingress = %+v, want class nginx", ing)
			}
			if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "portal-tls" || !slices.Equal(ing.Spec.TLS[0].Hosts, []string{"portal.example.com"}) {
				t.Errorf("ingress TLS = %+v", ing.Spec.TLS)
			}
			be := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
			if be.Name != r.service.Name || be.Port.Name != "http" {
				t.Errorf("ingress backend = %+v, want service %s port http", be, r.service.Name)
			}
			sm := r.serviceMonitor
			if sm == nil || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Fatalf("ServiceMonitor = %+v", sm)
			}
			if sm.Labels["release"] != "kube-prometheus-stack" {
				t.Errorf("ServiceMonitor labels = %v", sm.Labels)
			}
			if !selects(&sm.Spec.Selector, r.service.Labels) {
				t.Errorf("ServiceMonitor selector %v does not select the Service (labels %v)", sm.Spec.Selector, r.service.Labels)
			}
			np := r.networkPolicy
			var jira *networkingv1.NetworkPolicyEgressRule
			for i, rule := range np.Spec.Egress {
				if len(rule.Ports) == 1 && rule.Ports[0].Port.IntValue() == 443 {
					jira = &np.Spec.Egress[i]
				}
			}
			if jira == nil || len(jira.To) != 1 || jira.To[0].IPBlock == nil || jira.To[0].IPBlock.CIDR != "0.0.0.0/0" ||
				!slices.Contains(jira.To[0].IPBlock.Except, "10.0.0.0/8") {
				t.Errorf("Jira egress = %+v, want HTTPS to addresses outside the private ranges", jira)
			}
			if !egressAllowsPort(np, 5432) || !egressAllowsPort(np, 8080) || !egressAllowsPort(np, 443) || !egressAllowsPort(np, 4318) {
				t.Errorf("NetworkPolicy egress lacks PostgreSQL, Keycloak, Jira or OTLP: %+v", np.Spec.Egress)
			}
		}},
		{"three replicas without HPA", with(production(), "autoscaling.enabled", false), func(t *testing.T, r *rendered) {
			if r.deployment.Spec.Replicas == nil || *r.deployment.Spec.Replicas != 3 {
				t.Errorf("replicas = %v, want 3", r.deployment.Spec.Replicas)
			}
			if r.hpa != nil {
				t.Error("HPA rendered although autoscaling is off")
			}
		}},
		{"metrics off", with(nil, "metrics.enabled", false), func(t *testing.T, r *rendered) {
			if _, ok := r.configMap.Data["PORTAL_METRICS_ADDR"]; ok {
				t.Error("PORTAL_METRICS_ADDR set with metrics off")
			}
			for _, p := range r.service.Spec.Ports {
				if p.Name == "metrics" {
					t.Error("Service exposes metrics with metrics off")
				}
			}
		}},
		{"single replica on a claim", with(nil, "persistence.existingClaim", "portal-data"), func(t *testing.T, r *rendered) {
			if r.deployment.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("strategy = %s, want Recreate for a ReadWriteOnce claim", r.deployment.Spec.Strategy.Type)
			}
			v := volume(t, r.deployment, "data")
			if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "portal-data" {
				t.Errorf("/data volume = %+v, want the claim", v)
			}
		}},
		// The NetworkPolicy is on by default: a configured mail server must be reachable without
		// any further value.
		{"built-in identity with SMTP", with(nil, "smtp", map[string]any{"host": "mail.example.com", "from": "Portal <portal@example.com>",
			"username": "portal", "password": map[string]any{"existingSecret": "smtp", "key": "password"}}), func(t *testing.T, r *rendered) {
			env := envNamed(container(t, r.deployment), "PORTAL_SMTP_PASSWORD")
			if env == nil || env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil || env.ValueFrom.SecretKeyRef.Name != "smtp" {
				t.Errorf("PORTAL_SMTP_PASSWORD = %+v, want Secret smtp", env)
			}
			if r.configMap.Data["PORTAL_SMTP_HOST"] != "mail.example.com" || !egressAllowsPort(r.networkPolicy, 587) {
				t.Errorf("SMTP host %q, egress 587 allowed: %v", r.configMap.Data["PORTAL_SMTP_HOST"], egressAllowsPort(r.networkPolicy, 587))
			}
		}},
		{"SMTP on port 465", with(nil, "smtp", map[string]any{"host": "mail.example.com", "from": "portal@example.com", "port": 465, "tls": "tls"}),
			func(t *testing.T, r *rendered) {
				if !egressAllowsPort(r.networkPolicy, 465) {
					t.Errorf("SMTP on 465 blocked: %+v", r.networkPolicy.Spec.Egress)
				}
			}},
		{"Keycloak and collector on their URLs' ports", with(with(with(production(), "oidc.issuerURL", "https://sso.example.com:8443/realms/portal"),
			"oidc.internalURL", "http://keycloak.keycloak.svc"), "tracing.otlpEndpoint", "http://otel-collector.observability"),
			func(t *testing.T, r *rendered) {
				for _, port := range []int{8443, 80} {
					if !egressAllowsPort(r.networkPolicy, port) {
						t.Errorf("egress to port %d (Keycloak's URLs, the collector) blocked: %+v", port, r.networkPolicy.Spec.Egress)
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, tt.vals)
			checkInvariants(t, r)
			tt.check(t, r)
		})
	}
}

// checkInvariants holds for every values set the chart accepts.
func checkInvariants(t *testing.T, r *rendered) {
	t.Helper()
	d := r.deployment
	if d == nil || r.service == nil || r.configMap == nil || r.networkPolicy == nil || r.pdb == nil || r.serviceAccount == nil {
		t.Fatalf("missing objects: deployment %v service %v configmap %v networkpolicy %v pdb %v serviceaccount %v",
			d != nil, r.service != nil, r.configMap != nil, r.networkPolicy != nil, r.pdb != nil, r.serviceAccount != nil)
	}
	for _, o := range r.objects {
		if o.GetLabels()["app.kubernetes.io/name"] == "" || o.GetLabels()["app.kubernetes.io/instance"] != "portal" {
			t.Errorf("%s lacks the standard labels: %v", o.GetName(), o.GetLabels())
		}
	}
	pod := d.Spec.Template
	podLabels := pod.Labels
	if !selects(d.Spec.Selector, podLabels) {
		t.Errorf("Deployment selector %v does not select its pods %v", d.Spec.Selector, podLabels)
	}
	if !labels.SelectorFromSet(r.service.Spec.Selector).Matches(labels.Set(podLabels)) || len(r.service.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the pods %v", r.service.Spec.Selector, podLabels)
	}
	if !selects(r.pdb.Spec.Selector, podLabels) {
		t.Errorf("PDB selector %v does not select the pods", r.pdb.Spec.Selector)
	}
	if !selects(&r.networkPolicy.Spec.PodSelector, podLabels) || len(r.networkPolicy.Spec.PodSelector.MatchLabels) == 0 {
		t.Errorf("NetworkPolicy podSelector %v does not select (only) the pods", r.networkPolicy.Spec.PodSelector)
	}
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		if !selects(tsc.LabelSelector, podLabels) {
			t.Errorf("topology spread over %s counts other pods: %v", tsc.TopologyKey, tsc.LabelSelector)
		}
	}
	if r.hpa != nil && r.hpa.Spec.ScaleTargetRef.Name != d.Name {
		t.Errorf("HPA targets %s, not the Deployment %s", r.hpa.Spec.ScaleTargetRef.Name, d.Name)
	}

	c := container(t, d)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 8080 {
		t.Errorf("container port http = %d, want 8080 (PORTAL_ADDR)", ports["http"])
	}
	if r.configMap.Data["PORTAL_ADDR"] != ":8080" {
		t.Errorf("PORTAL_ADDR = %q", r.configMap.Data["PORTAL_ADDR"])
	}
	if addr, ok := r.configMap.Data["PORTAL_METRICS_ADDR"]; ok || ports["metrics"] != 0 {
		if addr != fmt.Sprintf(":%d", ports["metrics"]) {
			t.Errorf("PORTAL_METRICS_ADDR %q does not match the metrics container port %d", addr, ports["metrics"])
		}
	}
	for _, probe := range []struct {
		name string
		p    *corev1.Probe
		path string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if probe.p == nil || probe.p.HTTPGet == nil {
			t.Errorf("%s probe missing or not HTTP", probe.name)
			continue
		}
		if probe.p.HTTPGet.Path != probe.path || probe.p.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe = %s on %s, want %s on http", probe.name, probe.p.HTTPGet.Path, probe.p.HTTPGet.Port.String(), probe.path)
		}
	}
	for _, sp := range r.service.Spec.Ports {
		if sp.TargetPort.Type != intstr.String || ports[sp.TargetPort.StrVal] == 0 {
			t.Errorf("Service port %s targets %s, which is no named container port", sp.Name, sp.TargetPort.String())
		}
		if sp.Name != sp.TargetPort.StrVal {
			t.Errorf("Service port %s targets container port %s", sp.Name, sp.TargetPort.StrVal)
		}
	}
	for _, rule := range r.networkPolicy.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.Type != intstr.String || ports[p.Port.StrVal] == 0 {
				t.Errorf("NetworkPolicy ingress port %v is no named container port", p.Port)
			}
		}
	}
	if !egressAllowsPort(r.networkPolicy, 53) {
		t.Error("NetworkPolicy blocks DNS")
	}

	// Security: non-root, read-only root, no capabilities, default seccomp, no token.
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext = %+v", sc)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken ||
		r.serviceAccount.AutomountServiceAccountToken == nil || *r.serviceAccount.AutomountServiceAccountToken {
		t.Error("the service account token is mounted")
	}
	if pod.Spec.ServiceAccountName != r.serviceAccount.Name {
		t.Errorf("pods run as %q, the chart creates %q", pod.Spec.ServiceAccountName, r.serviceAccount.Name)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts["/data"] == "" || mounts["/tmp"] == "" {
		t.Errorf("volume mounts = %v, want /data and /tmp (the root filesystem is read-only)", mounts)
	}
	if v := volume(t, d, mounts["/tmp"]); v.EmptyDir == nil {
		t.Errorf("/tmp is %+v, want an emptyDir", v)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want CPU and memory requests and a memory limit", c.Resources)
	}

	// Draining: Kubernetes must not kill a pod before the portal has drained it.
	delay := duration(t, r.configMap.Data["PORTAL_SHUTDOWN_DELAY"])
	timeout := duration(t, r.configMap.Data["PORTAL_SHUTDOWN_TIMEOUT"])
	if grace := time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second; grace <= delay+timeout {
		t.Errorf("terminationGracePeriodSeconds %v <= shutdown delay %v + timeout %v", grace, delay, timeout)
	}

	// Configuration: every PORTAL_* name is one the portal reads; secrets come only from
	// Secrets; the pods roll when the ConfigMap changes.
	known := configVars(t)
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != r.configMap.Name {
		t.Errorf("envFrom = %+v, want the ConfigMap %s", c.EnvFrom, r.configMap.Name)
	}
	for k := range r.configMap.Data {
		if !known[k] {
			t.Errorf("ConfigMap sets %s, which internal/config does not read", k)
		}
		if secretish(k) {
			t.Errorf("ConfigMap holds %s, which must come from a Secret", k)
		}
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "PORTAL_") && !known[e.Name] {
			t.Errorf("env %s is not read by internal/config", e.Name)
		}
		if secretish(e.Name) && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("env %s is not read from a Secret: %+v", e.Name, e)
		}
	}
	if sum := pod.Annotations["checksum/config"]; !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sum) {
		t.Errorf("checksum/config = %q, want a sha256", sum)
	}
	if strings.Contains(r.text, "kind: Secret\n") || regexp.MustCompile(`postgres(ql)?://`).MatchString(r.text) {
		t.Error("the manifests embed a Secret or a database URL")
	}
}

func TestChecksumFollowsConfig(t *testing.T) {
	t.Parallel()
	a := mustRender(t, nil).deployment.Spec.Template.Annotations["checksum/config"]
	b := mustRender(t, with(nil, "portal.logLevel", "debug")).deployment.Spec.Template.Annotations["checksum/config"]
	c := mustRender(t, nil).deployment.Spec.Template.Annotations["checksum/config"]
	if a == b {
		t.Error("changing the configuration leaves checksum/config alone: pods would keep the old env")
	}
	if a != c {
		t.Error("checksum/config differs between two renders of the same values")
	}
}

// TestRefused: values that would start pods which lose or split data, or that break a rule of
// the schema, fail the install with a message naming what to set.
func TestRefused(t *testing.T) {
	t.Parallel()
	multi := func(edit func(map[string]any) map[string]any) map[string]any { return edit(production()) }
	tests := []struct {
		name string
		vals map[string]any
		want string
	}{
		{"replicas without PostgreSQL", with(nil, "replicaCount", 2), "replicaCount=2 needs PostgreSQL: set database.existingSecret"},
		{"HPA without PostgreSQL", multi(func(v map[string]any) map[string]any { return with(v, "database.existingSecret", "") }),
			"autoscaling.enabled needs PostgreSQL: set database.existingSecret"},
		{"replicas without a secret key", multi(func(v map[string]any) map[string]any {
			return with(with(v, "autoscaling.enabled", false), "secretKey.existingSecret", "")
		}), "replicaCount=3 needs one secret key for all pods: set secretKey.existingSecret"},
		{"HPA with the built-in identity provider", multi(func(v map[string]any) map[string]any {
			return with(v, "oidc", map[string]any{"issuerURL": ""})
		}), "autoscaling.enabled needs Keycloak: set oidc.issuerURL"},
		{"admin client without its secret", with(with(nil, "oidc.issuerURL", "https://sso.example.com/realms/portal"), "oidc.adminClientID", "customer-portal-admin"),
			"set oidc.adminClientSecret.existingSecret"},
		{"internal URL without Keycloak", with(nil, "oidc.internalURL", "http://keycloak:8080"), "set oidc.issuerURL too"},
		{"grace period shorter than the drain", with(nil, "terminationGracePeriodSeconds", 20), "terminationGracePeriodSeconds (20) must exceed"},
		{"ingress without host", with(with(nil, "ingress.enabled", true), "ingress.host", ""), "ingress.enabled needs ingress.host"},
		{"SMTP without sender", with(nil, "smtp.host", "mail.example.com"), "smtp.host needs smtp.from"},
		{"schema: log level", with(nil, "portal.logLevel", "loud"), "logLevel"},
		{"schema: unknown value", with(nil, "replicas", 3), "replicas"},
		{"schema: issuer not a realm", with(nil, "oidc.issuerURL", "https://sso.example.com"), "issuerURL"},
		{"schema: metrics on the API port", with(nil, "metrics.port", 8080), "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := render(t, tt.vals)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

// TestValuesDocumented: every value in values.yaml has a comment right above it, or sits in
// a mapping that has one, since values.yaml is the chart's reference.
func TestValuesDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`^( *)([A-Za-z][A-Za-z0-9]*):( *(.*))$`)
	lines := strings.Split(string(b), "\n")
	documented := -1 // indent of the commented mapping being skipped, or -1
	for i, line := range lines {
		m := key.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		indent := len(m[1])
		if documented >= 0 && indent > documented {
			continue
		}
		documented = -1
		if strings.HasPrefix(prevNonBlank(lines, i), "#") {
			documented = indent
			continue
		}
		// An uncommented mapping is fine when each of its keys is commented; a list or a
		// scalar is not.
		if m[4] == "" && i+1 < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "- ") {
			continue
		}
		t.Errorf("values.yaml:%d: %s has no comment", i+1, strings.TrimSpace(line))
	}
}

// prevNonBlank is the last non-blank line before line i, trimmed.
func prevNonBlank(lines []string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if s := strings.TrimSpace(lines[j]); s != "" {
			return s
		}
	}
	return ""
}

// configVars are the environment variables internal/config reads, from its Vars table.
func configVars(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../internal/config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{"((?:PORTAL|OTEL)_[A-Z0-9_]+)",`).FindAllStringSubmatch(string(b), -1) {
		known[m[1]] = true
	}
	if !known["PORTAL_DATABASE_URL"] {
		t.Fatal("found no PORTAL_* variables in internal/config/config.go")
	}
	return known
}

func secretish(name string) bool {
	return strings.Contains(name, "SECRET") || strings.Contains(name, "PASSWORD") || name == "PORTAL_DATABASE_URL"
}

func container(t *testing.T, d *appsv1.Deployment) *corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "portal" {
		t.Fatalf("containers = %v, want one named portal", cs)
	}
	return &cs[0]
}

func envNamed(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func volume(t *testing.T, d *appsv1.Deployment, name string) corev1.Volume {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q", name)
	return corev1.Volume{}
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(set))
}

func egressAllowsPort(np *networkingv1.NetworkPolicy, port int) bool {
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			if p.Port != nil && p.Port.Type == intstr.Int && p.Port.IntValue() == port {
				return true
			}
		}
	}
	return false
}

func duration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}
