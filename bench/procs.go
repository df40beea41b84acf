package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a process the harness started: the sandbox upstream, the
// reverse proxy or a gateway.
type server struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  string // file receiving its stdout and stderr
	done chan struct{}
}

// startServer starts bin with args and env, its output going to a log file
// in dir, and waits until ready answers true.
func startServer(ctx context.Context, dir, name, base, bin string, args, env []string, ready func(ctx context.Context, base string) bool) (*server, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, base: base, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited at start-up:\n%s", name, s.tail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		if ready(ctx, base) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after 15s:\n%s", name, s.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 5s.
func (s *server) stop() {
	if s == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// tail returns the end of the server's log.
func (s *server) tail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// procStatus reads one "kB" field of /proc/<pid>/status (VmRSS, VmHWM) in bytes.
func (s *server) procStatus(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// get fetches url with an optional Bearer key.
func get(ctx context.Context, url, key string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// postQuery sends one GraphQL request and fails on any error in it.
func postQuery(ctx context.Context, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) || !bytes.Contains(b, []byte(`"data"`)) {
		return nil, fmt.Errorf("status %d: %.400s", resp.StatusCode, b)
	}
	return b, nil
}

// upstreamRequests reads the sandbox's request counter.
func upstreamRequests(ctx context.Context, base, key string) (int64, error) {
	status, b, err := get(ctx, base+"/_sandbox/stats", key)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET /_sandbox/stats: status %d", status)
	}
	var v struct {
		Requests *int64 `json:"requests"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Requests == nil {
		return 0, fmt.Errorf("GET /_sandbox/stats: unexpected body %.200s", b)
	}
	return *v.Requests, nil
}

// mallocs reads memstats.Mallocs from the expvar handler at base/debug/vars,
// if the process serves one.
func mallocs(ctx context.Context, base string) (uint64, bool) {
	status, b, err := get(ctx, base+"/debug/vars", "")
	if err != nil || status != http.StatusOK {
		return 0, false
	}
	var v struct {
		Memstats *struct {
			Mallocs uint64 `json:"Mallocs"`
		} `json:"memstats"`
	}
	if json.Unmarshal(b, &v) != nil || v.Memstats == nil {
		return 0, false
	}
	return v.Memstats.Mallocs, true
}

// goCmd runs the go command in dir and returns its combined output.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the harness inside the module (go run ./bench from the repository root)")
	}
	return filepath.Dir(mod), nil
}
