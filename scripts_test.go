package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The browser the playground test drives is the one CHROMIUM_PATH names,
// and nothing is installed then; a CHROMIUM_PATH that is no executable
// stops the run with a message naming it.
func TestChromiumScriptHonoursChromiumPath(t *testing.T) {
	t.Parallel()
	exe, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) on this machine")
	}
	for _, tc := range []struct {
		name, path string
		ok         bool
	}{
		{"an executable CHROMIUM_PATH is used as it is", exe, true},
		{"a missing CHROMIUM_PATH is refused", filepath.Join(t.TempDir(), "no-such-chromium"), false},
		{"a directory as CHROMIUM_PATH is refused", t.TempDir(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("bash", "e2e/http/chromium.sh")
			cmd.Env = append(os.Environ(), "CHROMIUM_PATH="+tc.path)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tc.ok && (err != nil || strings.TrimSpace(string(out)) != tc.path) {
				t.Fatalf("printed %q, err %v, stderr %q; want %q", out, err, stderr.String(), tc.path)
			}
			if !tc.ok && (err == nil || !strings.Contains(stderr.String(), "CHROMIUM_PATH="+tc.path)) {
				t.Fatalf("accepted (err %v, stderr %q)", err, stderr.String())
			}
			if strings.Contains(stderr.String(), "installing") {
				t.Fatal("installed a browser although CHROMIUM_PATH was set")
			}
		})
	}
}

// Every apt-get install of the test and CI scripts leaves recommended
// packages out: Chromium's recommends were 100 packages of desktop extras
// that a headless test never uses.
func TestScriptsInstallWithoutRecommends(t *testing.T) {
	t.Parallel()
	scripts, _ := filepath.Glob("e2e/*/*.sh")
	more, _ := filepath.Glob("e2e/*.sh")
	scripts = append(append(scripts, more...), ".ci/run", "test.sh")
	install := regexp.MustCompile(`(?m)^[^#\n]*apt-get\s+install\b.*$`)
	found := 0
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range install.FindAllString(string(b), -1) {
			found++
			if !strings.Contains(line, "--no-install-recommends") {
				t.Errorf("%s: %q installs recommended packages too", s, strings.TrimSpace(line))
			}
		}
	}
	if found == 0 {
		t.Fatal("no apt-get install found in the scripts; the scan is broken")
	}
}
