package deploy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.yaml.in/yaml/v3"

	"github.com/parley-chat/parley/internal/app"
)

// composeFile is what `docker compose` reads, after interpolation.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Networks map[string]composeNetwork `yaml:"networks"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeNetwork struct {
	IPAM struct {
		Config []struct {
			Subnet string `yaml:"subnet"`
		} `yaml:"config"`
	} `yaml:"ipam"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	Build           any                          `yaml:"build"`
	Command         []string                     `yaml:"command"`
	Environment     map[string]string            `yaml:"environment"`
	Ports           []string                     `yaml:"ports"`
	Volumes         []string                     `yaml:"volumes"`
	Networks        any                          `yaml:"networks"`
	DependsOn       map[string]composeDependency `yaml:"depends_on"`
	Healthcheck     *composeHealthcheck          `yaml:"healthcheck"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
}

// dotenv reads KEY=VALUE lines, as compose reads .env.
func dotenv(tb testing.TB, name string) map[string]string {
	tb.Helper()
	f, err := os.Open(repoFile(name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			tb.Fatalf("%s: malformed line %q", name, line)
		}
		vars[k] = v
	}
	return vars
}

// interpolation matches compose's ${NAME}, ${NAME:-default}, ${NAME-default},
// ${NAME:?error}, ${NAME?error}, and $$ for a literal $.
var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate substitutes vars into text as compose does; names are the
// variables used, required those marked with ?.
func interpolate(text string, vars map[string]string) (out string, used, required []string, err error) {
	out = interpolation.ReplaceAllStringFunc(text, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := interpolation.FindStringSubmatch(m)
		name, op, arg := g[1], g[2], g[3]
		used = append(used, name)
		v, set := vars[name]
		switch op {
		case ":-":
			if v == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?", "?":
			required = append(required, name)
			if !set || (op == ":?" && v == "") {
				err = fmt.Errorf("required variable %s: %s", name, arg)
			}
		}
		return v
	})
	return out, used, required, err
}

// loadCompose parses compose.yaml interpolated with .env.example.
func loadCompose(tb testing.TB) (c composeFile, used, required []string) {
	tb.Helper()
	return loadComposeWith(tb, dotenv(tb, ".env.example"))
}

// loadComposeWith parses compose.yaml interpolated with vars, as compose
// reads it with that .env.
func loadComposeWith(tb testing.TB, vars map[string]string) (c composeFile, used, required []string) {
	tb.Helper()
	raw, err := os.ReadFile(repoFile("compose.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	text, used, required, err := interpolate(string(raw), vars)
	if err != nil {
		tb.Fatalf("compose.yaml: %v", err)
	}
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		tb.Fatalf("compose.yaml: %v", err)
	}
	return c, used, required
}

// chatdVariables are the PARLEY_* variables chatd reads, from its own usage
// text (every flag names its variable).
func chatdVariables(tb testing.TB) map[string]bool {
	tb.Helper()
	var usage bytes.Buffer
	_, _ = app.ParseConfig([]string{"-h"}, func(string) string { return "" }, &usage)
	vars := map[string]bool{}
	for _, m := range regexp.MustCompile(`\((PARLEY_[A-Z0-9_]+)\)`).FindAllStringSubmatch(usage.String(), -1) {
		vars[m[1]] = true
	}
	if len(vars) < 5 {
		tb.Fatalf("found only %v in chatd's usage:\n%s", vars, usage.String())
	}
	return vars
}

// chatdServices are the services built from this repository.
func chatdServices(c composeFile) []string {
	var names []string
	for name, s := range c.Services {
		if s.Build != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// composeSubnets are the subnets of the default network, the one every
// service is on; compose must fix them, or nobody knows what to trust.
func composeSubnets(tb testing.TB, c composeFile) []netip.Prefix {
	tb.Helper()
	var subnets []netip.Prefix
	for _, cfg := range c.Networks["default"].IPAM.Config {
		p, err := netip.ParsePrefix(cfg.Subnet)
		if err != nil {
			tb.Fatalf("default network subnet %q: %v", cfg.Subnet, err)
		}
		subnets = append(subnets, p.Masked())
	}
	if len(subnets) == 0 {
		tb.Fatal("compose.yaml gives the default network no fixed subnet, so PARLEY_TRUSTED_PROXIES cannot name it")
	}
	return subnets
}

// covers reports whether every address of inner is in outer.
func covers(outer, inner netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// port is the port of a listen address such as ":8080".
func port(tb testing.TB, addr string) string {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// pinned is an image reference with an exact version tag.
var pinned = regexp.MustCompile(`^[a-z0-9./-]+:[0-9]+\.[0-9]+(\.[0-9]+)?(-[a-z0-9.]+)?$`)

func TestCompose(t *testing.T) {
	c, used, required := loadCompose(t)
	known := chatdVariables(t)
	chatds := chatdServices(c)
	if len(chatds) != 2 {
		t.Fatalf("want two chatd replicas built from this repository, got %v", chatds)
	}

	t.Run("ImagesPinned", func(t *testing.T) {
		for name, s := range c.Services {
			if s.Build != nil {
				continue
			}
			if !pinned.MatchString(s.Image) {
				t.Errorf("service %s: image %q has no exact version tag", name, s.Image)
			}
		}
		for name, prefix := range map[string]string{"mysql": "mysql:8.4.", "redis": "redis:7.", "proxy": "nginx:"} {
			if !strings.HasPrefix(c.Services[name].Image, prefix) {
				t.Errorf("service %s: image %q, want %s*", name, c.Services[name].Image, prefix)
			}
		}
	})

	t.Run("ChatdReadsEveryVariable", func(t *testing.T) {
		for _, name := range chatds {
			for k := range c.Services[name].Environment {
				if strings.HasPrefix(k, "PARLEY_") && !known[k] {
					t.Errorf("service %s sets %s, which chatd does not read", name, k)
				}
			}
		}
	})

	t.Run("ChatdAcceptsTheConfig", func(t *testing.T) {
		for _, name := range chatds {
			env := c.Services[name].Environment
			cfg, err := app.ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Fatalf("service %s: chatd refuses its configuration: %v", name, err)
			}
			if cfg.AdminAddr == "" || strings.HasPrefix(cfg.AdminAddr, "127.") {
				t.Errorf("service %s: admin listener %q is not reachable on the compose network", name, cfg.AdminAddr)
			}
		}
	})

	t.Run("TrustsTheProxysNetworkOnly", func(t *testing.T) {
		subnets := composeSubnets(t, c)
		for _, name := range chatds {
			env := c.Services[name].Environment
			cfg, err := app.ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			trusted := cfg.Limits.TrustedProxies
			if len(trusted) == 0 {
				t.Errorf("service %s sets no PARLEY_TRUSTED_PROXIES: behind nginx every client would be one address", name)
			}
			for _, sub := range subnets {
				if !slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return covers(p, sub) }) {
					t.Errorf("service %s: PARLEY_TRUSTED_PROXIES %v does not cover the compose network %s, where nginx is", name, trusted, sub)
				}
			}
			for _, p := range trusted {
				if !slices.ContainsFunc(subnets, func(sub netip.Prefix) bool { return covers(sub, p) }) {
					t.Errorf("service %s trusts %s, outside the compose network %v: peers there could choose their address", name, p, subnets)
				}
			}
		}
		for name, s := range c.Services {
			if s.Networks != nil {
				t.Errorf("service %s picks its own networks %v; the trusted subnet is the default network's", name, s.Networks)
			}
		}
	})

	t.Run("ReplicasShareOneState", func(t *testing.T) {
		first := c.Services[chatds[0]]
		for _, name := range chatds[1:] {
			s := c.Services[name]
			for _, k := range []string{"PARLEY_MYSQL_DSN", "PARLEY_REDIS_URL", "PARLEY_REDIS_PREFIX", "PARLEY_JWT_SECRET"} {
				if s.Environment[k] != first.Environment[k] {
					t.Errorf("%s differs between %s and %s", k, chatds[0], name)
				}
			}
			if s.Image != first.Image {
				t.Errorf("%s runs %q, %s runs %q", name, s.Image, chatds[0], first.Image)
			}
		}
	})

	t.Run("DSNPointsAtMySQL", func(t *testing.T) {
		my := c.Services["mysql"].Environment
		for _, name := range chatds {
			dsn, err := mysql.ParseDSN(c.Services[name].Environment["PARLEY_MYSQL_DSN"])
			if err != nil {
				t.Fatalf("service %s: PARLEY_MYSQL_DSN: %v", name, err)
			}
			if dsn.Addr != "mysql:3306" || dsn.User != my["MYSQL_USER"] || dsn.Passwd != my["MYSQL_PASSWORD"] || dsn.DBName != my["MYSQL_DATABASE"] || !dsn.ParseTime {
				t.Errorf("service %s: DSN %s does not match the mysql service (user %s, database %s)", name, dsn.FormatDSN(), my["MYSQL_USER"], my["MYSQL_DATABASE"])
			}
		}
	})

	t.Run("RedisURLPointsAtRedis", func(t *testing.T) {
		redis := c.Services["redis"]
		cmd := strings.Join(redis.Command, " ")
		if !strings.Contains(cmd, "--appendonly yes") {
			t.Errorf("redis does not persist: %q", cmd)
		}
		if !strings.Contains(cmd, "--requirepass") {
			t.Errorf("redis has no password: %q", cmd)
		}
		for _, name := range chatds {
			u, err := url.Parse(c.Services[name].Environment["PARLEY_REDIS_URL"])
			if err != nil {
				t.Fatalf("service %s: PARLEY_REDIS_URL: %v", name, err)
			}
			pw, _ := u.User.Password()
			if u.Host != "redis:6379" || pw != redis.Environment["REDIS_PASSWORD"] {
				t.Errorf("service %s: Redis URL %s does not match the redis service", name, u.Redacted())
			}
		}
	})

	t.Run("HealthChecks", func(t *testing.T) {
		for name, s := range c.Services {
			if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 {
				t.Errorf("service %s has no health check", name)
			}
		}
		for _, name := range chatds {
			test := c.Services[name].Healthcheck.Test
			if !slices.Equal(test, []string{"CMD", "/healthcheck", "/readyz"}) && !slices.Equal(test, []string{"CMD", "/healthcheck", "/healthz"}) {
				t.Errorf("service %s: health check %v does not run /healthcheck against /readyz or /healthz", name, test)
			}
		}
		proxyTest := strings.Join(c.Services["proxy"].Healthcheck.Test, " ")
		if !strings.Contains(proxyTest, "http://127.0.0.1:"+c.Services["proxy"].Environment["LISTEN_HTTP"]+"/healthz") {
			t.Errorf("proxy health check %q does not ask its HTTP port for /healthz", proxyTest)
		}
	})

	t.Run("StartsInOrder", func(t *testing.T) {
		for _, name := range chatds {
			for _, dep := range []string{"mysql", "redis"} {
				if got := c.Services[name].DependsOn[dep].Condition; got != "service_healthy" {
					t.Errorf("service %s waits for %s with %q, want service_healthy", name, dep, got)
				}
			}
		}
		for _, name := range chatds {
			if got := c.Services["proxy"].DependsOn[name].Condition; got != "service_healthy" {
				t.Errorf("proxy waits for %s with %q, want service_healthy", name, got)
			}
		}
	})

	t.Run("ProxyUpstreamsAreTheReplicas", func(t *testing.T) {
		px := c.Services["proxy"]
		var upstreams, want []string
		for k, v := range px.Environment {
			if strings.HasPrefix(k, "CHATD_") {
				upstreams = append(upstreams, v)
			}
		}
		for _, name := range chatds {
			want = append(want, name+":"+port(t, c.Services[name].Environment["PARLEY_ADDR"]))
		}
		slices.Sort(upstreams)
		if !slices.Equal(upstreams, want) {
			t.Errorf("proxy upstreams %v, want the replicas %v", upstreams, want)
		}
		// The template compose mounts is the one the tests run, and every
		// variable it uses is given.
		mount := "./" + proxyTemplate + ":/etc/nginx/templates/default.conf.template:ro"
		if !slices.Contains(px.Volumes, mount) {
			t.Errorf("proxy volumes %v lack %s", px.Volumes, mount)
		}
		tmpl, err := os.ReadFile(repoFile(proxyTemplate))
		if err != nil {
			t.Fatal(err)
		}
		rendered := envsubst(string(tmpl), px.Environment)
		if m := regexp.MustCompile(`\$\{[A-Z_0-9]+\}`).FindString(rendered); m != "" {
			t.Errorf("the template uses %s, which the proxy service does not set", m)
		}
		var published []string
		for _, p := range px.Ports {
			parts := strings.Split(p, ":")
			published = append(published, parts[len(parts)-1])
		}
		for _, k := range []string{"LISTEN_HTTP", "LISTEN_GRPC"} {
			if !slices.Contains(published, px.Environment[k]) {
				t.Errorf("proxy listens on %s=%s, which is not published (%v)", k, px.Environment[k], px.Ports)
			}
		}
	})

	t.Run("OnlyTheProxyIsPublished", func(t *testing.T) {
		for name, s := range c.Services {
			if name != "proxy" && len(s.Ports) > 0 {
				t.Errorf("service %s publishes %v; only the proxy should", name, s.Ports)
			}
		}
	})

	t.Run("StopDrainsBeforeKill", func(t *testing.T) {
		for _, name := range chatds {
			s := c.Services[name]
			grace, err := time.ParseDuration(s.StopGracePeriod)
			if err != nil {
				t.Fatalf("service %s: stop_grace_period %q: %v", name, s.StopGracePeriod, err)
			}
			shutdown, err := time.ParseDuration(s.Environment["PARLEY_SHUTDOWN_TIMEOUT"])
			if err != nil {
				t.Fatalf("service %s: PARLEY_SHUTDOWN_TIMEOUT: %v", name, err)
			}
			if grace <= shutdown {
				t.Errorf("service %s: stop_grace_period %s must exceed PARLEY_SHUTDOWN_TIMEOUT %s, or Docker kills a draining chatd", name, grace, shutdown)
			}
		}
	})

	t.Run("EnvExampleDocumentsEveryVariable", func(t *testing.T) {
		example := dotenv(t, ".env.example")
		for _, name := range used {
			if _, ok := example[name]; !ok {
				t.Errorf("compose.yaml uses ${%s}, which .env.example does not document", name)
			}
		}
		for _, name := range required {
			if example[name] == "" {
				t.Errorf("compose.yaml requires %s, which .env.example leaves empty", name)
			}
		}
		if s := example["PARLEY_JWT_SECRET"]; s != "" && len(s) < 32 {
			t.Errorf("PARLEY_JWT_SECRET in .env.example is shorter than 32 bytes")
		}
	})

	t.Run("DockerComposeAgrees", func(t *testing.T) {
		// The real validator, where the compose plugin is installed. CI
		// machines may have a bare docker CLI without it, which fails
		// `docker compose version`.
		if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
			t.Skipf("docker compose is not installed: %s", bytes.TrimSpace(out))
		}
		cmd := exec.Command("docker", "compose", "--env-file", ".env.example", "-f", "compose.yaml", "config", "-q")
		cmd.Dir = repoFile("")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker compose config: %v\n%s", err, out)
		}
	})
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(repoFile("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ARG (\w+)=(\S+)$`).FindAllStringSubmatch(text, -1) {
		args[m[1]] = m[2]
	}
	var froms []string
	for _, m := range regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(text, -1) {
		froms = append(froms, regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(m[1], func(v string) string {
			return args[strings.Trim(v, "${}")]
		}))
	}

	t.Run("BaseImagesPinned", func(t *testing.T) {
		if len(froms) != 3 {
			t.Fatalf("want three stages (web app, server, runtime), got %v", froms)
		}
		for _, f := range froms {
			if strings.HasSuffix(f, ":latest") || !strings.Contains(f, ":") {
				t.Errorf("base image %s is not pinned", f)
			}
		}
		if !regexp.MustCompile(`^node:20\.\d+\.\d+-`).MatchString(froms[0]) {
			t.Errorf("web app stage %s is not an exact Node 20", froms[0])
		}
		if !strings.HasPrefix(froms[2], "gcr.io/distroless/static") {
			t.Errorf("runtime %s is not distroless static", froms[2])
		}
	})

	t.Run("GoMatchesGoMod", func(t *testing.T) {
		mod, err := os.ReadFile(repoFile("go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
		if m == nil {
			t.Fatal("go.mod has no go line")
		}
		want, got := string(m[1]), args["GO_VERSION"]
		if !strings.HasPrefix(froms[1], "golang:"+got+"-") || versionLess(got, want) {
			t.Errorf("server stage %s (GO_VERSION %s) is older than go.mod's go %s", froms[1], got, want)
		}
	})

	t.Run("StaticNonRootWithHealthCheck", func(t *testing.T) {
		for _, want := range []string{
			"CGO_ENABLED=0", "GOTOOLCHAIN=local", "npm ci", "npm run build",
			"COPY --from=webapp /src/webapp/dist/app ./webapp/dist/app",
			"./deploy/healthcheck", "USER nonroot", `CMD ["/healthcheck", "/healthz"]`, `ENTRYPOINT ["/chatd"]`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("Dockerfile lacks %q", want)
			}
		}
	})

	t.Run("DockerignoreKeepsContextSmall", func(t *testing.T) {
		ignore, err := os.ReadFile(repoFile(".dockerignore"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(ignore), "\n")
		for _, want := range []string{".git", ".env", "webapp/node_modules/", "bin/"} {
			if !slices.Contains(lines, want) {
				t.Errorf(".dockerignore lacks %s", want)
			}
		}
	})
}

// versionLess compares dotted versions such as 1.26.8.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
