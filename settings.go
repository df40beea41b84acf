package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// setting documents one environment variable where it is read: the help
// lists exactly what loadConfig reads.
type setting struct {
	Name string
	// Default is the default as the help shows it; empty means the
	// default value the reader is given, printed.
	Default string
	Meaning string
	// Sandbox marks settings only the sandbox command reads.
	Sandbox bool
}

// envReader reads settings, collects every bad value, and records what it
// read for the help.
type envReader struct {
	getenv func(string) string
	errs   []string
	read   []setting
}

func (r *envReader) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// get records s (its default shown as def when it has none of its own) and
// returns the variable's trimmed value.
func (r *envReader) get(s setting, def string) string {
	if s.Default == "" {
		s.Default = def
	}
	r.read = append(r.read, s)
	return strings.TrimSpace(r.getenv(s.Name))
}

func (r *envReader) str(s setting, def string) string {
	if v := r.get(s, def); v != "" {
		return v
	}
	return def
}

func (r *envReader) oneOf(s setting, def string, allowed ...string) string {
	v := r.str(s, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail("%s=%q: want %s", s.Name, v, strings.Join(allowed, ", "))
	return def
}

func (r *envReader) integer(s setting, def, lo, hi int) int {
	v := r.get(s, strconv.Itoa(def))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail("%s=%q: want an integer in [%d, %d]", s.Name, v, lo, hi)
		return def
	}
	return n
}

func (r *envReader) duration(s setting, def time.Duration) time.Duration {
	v := r.get(s, def.String())
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail("%s=%q: want a positive duration such as 10s", s.Name, v)
		return def
	}
	return d
}

// ttl reads a duration whose zero turns something off.
func (r *envReader) ttl(s setting, def time.Duration) time.Duration {
	v := r.get(s, def.String())
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail("%s=%q: want a duration such as 1s (0 turns it off)", s.Name, v)
		return 0
	}
	return d
}

// latency reads a non-negative duration.
func (r *envReader) latency(s setting) time.Duration {
	v := r.get(s, "0")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail("%s=%q: want a duration such as 5ms", s.Name, v)
		return 0
	}
	return d
}

func (r *envReader) boolean(s setting, def bool) bool {
	v := r.get(s, strconv.FormatBool(def))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail("%s=%q: want true or false", s.Name, v)
		return def
	}
	return b
}

// rate reads requests per second; 0 is off.
func (r *envReader) rate(s setting) float64 {
	v := r.get(s, "0")
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e6 {
		r.fail("%s=%q: want a number of requests per second (0 is off)", s.Name, v)
		return 0
	}
	return f
}

func (r *envReader) probability(s setting) float64 {
	v := r.get(s, "0")
	if v == "" {
		return 0
	}
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || p < 0 || p > 1 {
		r.fail("%s=%q: want a probability between 0 and 1", s.Name, v)
		return 0
	}
	return p
}

// list reads comma-separated values, blanks dropped.
func (r *envReader) list(s setting) []string {
	var out []string
	for v := range strings.SplitSeq(r.get(s, ""), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// timeScale reads a speed factor in (0, 3600], 1 being real time.
func (r *envReader) timeScale(s setting) float64 {
	v := r.get(s, "1")
	if v == "" {
		return 1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 3600) {
		r.fail("%s=%q: want a factor in (0, 3600], 1 being real time", s.Name, v)
		return 1
	}
	return f
}

// prefixes reads a comma-separated list of IP addresses and CIDR prefixes.
func (r *envReader) prefixes(s setting) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range r.list(s) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				r.fail("%s: %q is neither an IP nor a CIDR prefix", s.Name, p)
				continue
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		out = append(out, prefix.Masked())
	}
	return out
}
