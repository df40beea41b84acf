package main

import (
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
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sandbox || c.Port != "8080" || c.AuthMode != gateway.AuthServer || c.MaxRetries != 2 ||
		c.Timeout != 10*time.Second || c.MaxConcurrency != 32 || c.MaxAliases != 15 || c.RequestMaxBytes != 1<<20 ||
		!c.Introspection || !c.CSRFPrevention || c.RateLimitRPS != 0 || c.CacheTTL != 0 || c.UpstreamPageSize != 100 || c.MaxInFlight != 1024 {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = loadConfig(env(map[string]string{"REVOX_API_KEY": "sk_live"}))
	if err != nil || c.Sandbox {
		t.Fatalf("a key turns the sandbox off: %+v, %v", c, err)
	}
	if c.MetricsAddr != "" {
		t.Fatalf("metrics are on the main port by default, got METRICS_ADDR %q", c.MetricsAddr)
	}
	if c, err = loadConfig(env(map[string]string{"METRICS_ADDR": " :9090 "})); err != nil || c.MetricsAddr != ":9090" {
		t.Fatalf("METRICS_ADDR: %q, %v", c.MetricsAddr, err)
	}
}

func TestConfigReportsEveryBadValueAtOnce(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(env(map[string]string{
		"REVOX_TIMEOUT":    "soon",
		"PAGE_SIZE_MAX":    "0",
		"AUTH_MODE":        "magic",
		"CACHE_TTL":        "-1s",
		"RATE_LIMIT_RPS":   "lots",
		"INTROSPECTION":    "maybe",
		"REVOX_FIRST_PAGE": "2",
		"MAX_IN_FLIGHT":    "0",
		"METRICS_ADDR":     "9090",
		"REDIS_URL":        "http://:secret@cache:6379",
		"REDIS_TIMEOUT":    "0",
		"TRUSTED_PROXIES":  "10.0.0.0/8, lb.internal",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"REVOX_TIMEOUT", "PAGE_SIZE_MAX", "AUTH_MODE", "CACHE_TTL", "RATE_LIMIT_RPS", "INTROSPECTION", "REVOX_FIRST_PAGE", "MAX_IN_FLIGHT", "METRICS_ADDR", "REDIS_URL", "REDIS_TIMEOUT", "TRUSTED_PROXIES"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows REDIS_URL's password: %v", err)
	}
	if _, err := loadConfig(env(map[string]string{"AUTH_MODE": "forward", "REVOX_API_KEY": "sk_x"})); err == nil {
		t.Fatal("forward mode with a server key should be refused")
	}
	c, err := loadConfig(env(map[string]string{"AUTH_MODE": "forward"}))
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
			c, err := loadConfig(env(map[string]string{"SANDBOX_TIME_SCALE": tc.value}))
			if (err == nil) != tc.ok || (tc.ok && c.SandboxTimeScale != tc.want) {
				t.Fatalf("SANDBOX_TIME_SCALE=%q: %v, %v", tc.value, c.SandboxTimeScale, err)
			}
		})
	}
}

func TestSandboxFaults(t *testing.T) {
	t.Parallel()
	f, err := sandboxFaults(env(map[string]string{"SANDBOX_FAULT_429": "0.2", "SANDBOX_FAULT_5XX": "0.1", "SANDBOX_LATENCY": "5ms"}))
	if err != nil || f.RateLimited != 0.2 || f.ServerError != 0.1 || f.Latency != 5*time.Millisecond {
		t.Fatalf("%+v, %v", f, err)
	}
	if f, err := sandboxFaults(env(map[string]string{"SANDBOX_FAULT_LOST_WRITE": "0.3"})); err != nil || f.LostWrite != 0.3 {
		t.Fatalf("SANDBOX_FAULT_LOST_WRITE: %+v, %v", f, err)
	}
	if _, err := sandboxFaults(env(map[string]string{"SANDBOX_FAULT_HANG": "2"})); err == nil {
		t.Fatal("a probability of 2 was accepted")
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5 ,fd00::/8"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.5/32 fd00::/8" {
		t.Fatalf("TrustedProxies = %v", got)
	}
}
