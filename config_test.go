package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(cmdServe, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	g, u := c.Gateway, c.Upstream
	if !c.Sandbox || c.Port != "8080" || g.AuthMode != gateway.AuthServer || u.MaxRetries != 2 ||
		u.Timeout != 10*time.Second || u.MaxConcurrency != 32 || g.Operation.MaxAliases != 15 ||
		g.MaxBodyBytes != 1<<20 || u.MaxBodyBytes != 8<<20 ||
		g.DisableIntrospection || g.DisableCSRFPrevention || g.RateLimitRPS != 0 || u.CacheTTL != 0 ||
		g.Limits.UpstreamPageSize != 100 || g.MaxInFlight != 1024 || g.NoMetricsRoute {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = loadConfig(cmdServe, env(map[string]string{"REVOX_API_KEY": "sk_live"}))
	if err != nil || c.Sandbox {
		t.Fatalf("a key turns the sandbox off: %+v, %v", c, err)
	}
	if c.MetricsAddr != "" {
		t.Fatalf("metrics are on the main port by default, got METRICS_ADDR %q", c.MetricsAddr)
	}
	if c, err = loadConfig(cmdServe, env(map[string]string{"METRICS_ADDR": " :9090 "})); err != nil || c.MetricsAddr != ":9090" || !c.Gateway.NoMetricsRoute {
		t.Fatalf("METRICS_ADDR: %q, %v", c.MetricsAddr, err)
	}
}

// The two body limits have one name each, end to end.
func TestConfigBodyLimitsReachTheirOwnComponent(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(cmdServe, env(map[string]string{"MAX_BODY_BYTES": "2048", "REVOX_MAX_BODY_BYTES": "4096"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Gateway.MaxBodyBytes != 2048 || c.Upstream.MaxBodyBytes != 4096 {
		t.Fatalf("gateway %d, upstream %d", c.Gateway.MaxBodyBytes, c.Upstream.MaxBodyBytes)
	}
}

func TestConfigPort(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, cmd, port, want string
	}{
		{"the gateway defaults to 8080", cmdServe, "", "8080"},
		{"the sandbox defaults to 8081", cmdSandbox, "", "8081"},
		{"PORT applies to both", cmdSandbox, " 9000 ", "9000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(tt.cmd, env(map[string]string{"PORT": tt.port}))
			if err != nil || c.Port != tt.want {
				t.Fatalf("port %q, %v; want %q", c.Port, err, tt.want)
			}
		})
	}
}

func TestConfigReportsEveryBadValueAtOnce(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"PORT":                 "http",
		"REVOX_TIMEOUT":        "soon",
		"PAGE_SIZE_MAX":        "0",
		"AUTH_MODE":            "magic",
		"CACHE_TTL":            "-1s",
		"RATE_LIMIT_RPS":       "lots",
		"INTROSPECTION":        "maybe",
		"REVOX_FIRST_PAGE":     "2",
		"MAX_IN_FLIGHT":        "0",
		"METRICS_ADDR":         "9090",
		"LOG_LEVEL":            "loud",
		"SANDBOX_FAULT_429":    "2",
		"SANDBOX_LATENCY":      "-1s",
		"OTEL_TRACES_EXPORTER": "zipkin",
	}
	_, err := loadConfig(cmdSandbox, env(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if _, err := loadConfig(cmdServe, env(map[string]string{"AUTH_MODE": "forward", "REVOX_API_KEY": "sk_x"})); err == nil {
		t.Fatal("forward mode with a server key should be refused")
	}
	c, err := loadConfig(cmdServe, env(map[string]string{"AUTH_MODE": "forward"}))
	if err != nil || c.Sandbox {
		t.Fatalf("forward mode without a key talks to the real API: %+v, %v", c, err)
	}
}

func TestSandboxTimeScale(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string
		want  float64
		ok    bool
	}{
		{"unset is real time", "", 1, true},
		{"60 makes a minute pass in a second", "60", 60, true},
		{"a fraction slows the sandbox down", "0.5", 0.5, true},
		{"zero is refused", "0", 0, false},
		{"a negative factor is refused", "-2", 0, false},
		{"a factor above 3600 is refused", "7200", 0, false},
		{"a word is refused", "fast", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(cmdServe, env(map[string]string{"SANDBOX_TIME_SCALE": tc.value}))
			if (err == nil) != tc.ok || (tc.ok && c.SandboxTimeScale != tc.want) {
				t.Fatalf("SANDBOX_TIME_SCALE=%q: %v, %v", tc.value, c.SandboxTimeScale, err)
			}
		})
	}
}

func TestConfigSandboxFaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(cmdSandbox, env(map[string]string{"SANDBOX_FAULT_429": "0.2", "SANDBOX_FAULT_5XX": "0.1", "SANDBOX_LATENCY": "5ms", "SANDBOX_RETRY_AFTER": "3"}))
	f := c.Faults
	if err != nil || f.RateLimited != 0.2 || f.ServerError != 0.1 || f.Latency != 5*time.Millisecond || f.RetryAfterSeconds != 3 {
		t.Fatalf("%+v, %v", f, err)
	}
	if c, err := loadConfig(cmdSandbox, env(map[string]string{"SANDBOX_FAULT_LOST_WRITE": "0.3"})); err != nil || c.Faults.LostWrite != 0.3 {
		t.Fatalf("SANDBOX_FAULT_LOST_WRITE: %+v, %v", c.Faults, err)
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		args       []string
		want       invocation
		usageError bool
	}{
		{"no command serves", nil, invocation{cmd: cmdServe}, false},
		{"serve serves", []string{"serve"}, invocation{cmd: cmdServe}, false},
		{"schema prints the client schema", []string{"schema"}, invocation{cmd: cmdSchema}, false},
		{"schema --federation prints the subgraph SDL", []string{"schema", "--federation"}, invocation{cmd: cmdSchema, federation: true}, false},
		{"sandbox serves the sandbox", []string{"sandbox"}, invocation{cmd: cmdSandbox}, false},
		{"help asks for help", []string{"help"}, invocation{cmd: cmdHelp}, false},
		{"--help asks for help", []string{"--help"}, invocation{cmd: cmdHelp}, false},
		{"-h asks for help", []string{"-h"}, invocation{cmd: cmdHelp}, false},
		{"schema -h asks for help", []string{"schema", "-h"}, invocation{cmd: cmdHelp}, false},
		{"a misspelt flag is refused", []string{"schema", "--federaton"}, invocation{}, true},
		{"a flag of another command is refused", []string{"serve", "--federation"}, invocation{}, true},
		{"an unknown command is refused", []string{"serv"}, invocation{}, true},
		{"an unknown flag without a command is refused", []string{"--port=1"}, invocation{}, true},
		{"an extra argument is refused", []string{"schema", "federation"}, invocation{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseArgs(tt.args)
			var usage *usageError
			if tt.usageError {
				if !errors.As(err, &usage) {
					t.Fatalf("got %+v, %v; want a usage error", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// The help lists every variable loadConfig reads, and nothing it does not.
func TestHelpListsEverySettingRead(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	if _, err := loadConfig(cmdSandbox, func(k string) string { read[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeHelp(&out); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for name := range read {
		if strings.HasPrefix(name, "OTEL_") {
			name = "OTEL_EXPORTER_OTLP_ENDPOINT" // the tracing settings are one line
		}
		if !strings.Contains(help, "\n  "+name+" ") {
			t.Errorf("help does not list %s", name)
		}
	}
	for _, cmd := range []string{"gateway schema --federation", "gateway sandbox", "gateway [serve]", "gateway help"} {
		if !strings.Contains(help, cmd) {
			t.Errorf("help does not list %q", cmd)
		}
	}
	for _, line := range strings.Split(help, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.ToUpper(name) == name && strings.Contains(name, "_") && !read[name] && !strings.HasPrefix(name, "OTEL_") {
			t.Errorf("help lists %s, which loadConfig does not read", name)
		}
	}
}

func TestConfigSharedStateAndWriteSettings(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(cmdServe, env(map[string]string{
		"REDIS_URL":       "http://:secret@cache:6379",
		"TRUSTED_PROXIES": "10.0.0.0/8, lb.internal",
		"INBOUND_AUTH":    "jwt",
		"MAX_MUTATIONS":   "0",
	}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, want := range []string{"REDIS_URL", "TRUSTED_PROXIES", "lb.internal", "INBOUND_AUTH=jwt needs JWT_JWKS_URL", "MAX_MUTATIONS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows REDIS_URL's password: %v", err)
	}
	if _, err := loadConfig(cmdServe, env(map[string]string{"AUTH_MODE": "forward", "INBOUND_AUTH": "token", "INBOUND_TOKENS_FILE": "/dev/null"})); err == nil || !strings.Contains(err.Error(), "AUTH_MODE=forward") {
		t.Errorf("inbound auth with forward mode: %v", err)
	}

	c, err := loadConfig(cmdServe, env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.Gateway.TrustedProxies); got != "[10.0.0.0/8 192.168.1.5/32]" {
		t.Errorf("trusted proxies %s", got)
	}
	if !c.Gateway.AllowAnonymousWrites || c.Gateway.MaxMutations != 10 || c.IdempotencyTTL != 24*time.Hour || c.Inbound.Mode != "none" {
		t.Errorf("sandbox defaults: anonymous writes %v, max mutations %d, TTL %v, inbound %q", c.Gateway.AllowAnonymousWrites, c.Gateway.MaxMutations, c.IdempotencyTTL, c.Inbound.Mode)
	}
	c, err = loadConfig(cmdServe, env(map[string]string{"REVOX_API_KEY": "sk_live"}))
	if err != nil || c.Gateway.AllowAnonymousWrites {
		t.Errorf("with a real key writes must need INBOUND_AUTH or ALLOW_ANONYMOUS_WRITES: %v, %v", c.Gateway.AllowAnonymousWrites, err)
	}
}
