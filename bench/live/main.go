// Command live measures the gateway's subscriptions on loopback: what 1,000
// WebSocket subscribers of one call cost upstream, the memory of idle
// WebSocket and SSE subscriptions, the time from an upstream change to the
// last of 1,000 subscribers receiving it, and a soak of subscribers joining
// and leaving at random. It builds the gateway, runs the sandbox upstream
// and each gateway as processes of their own, and stops everything itself.
//
//	go run ./bench/live                  # every part, a 5-minute soak
//	go run ./bench/live -soak 1m -rounds 10
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	soak := flag.Duration("soak", 5*time.Minute, "length of the join/leave soak (0 skips it)")
	rounds := flag.Int("rounds", 20, "rounds of the change-to-last-subscriber measurement")
	counts := flag.String("counts", "1000,5000", "subscription counts of the memory measurement")
	flag.Parse()
	if err := run(*soak, *rounds, *counts); err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(1)
	}
}

// env is one measurement's processes: the sandbox upstream and a gateway.
type env struct {
	dir      string
	bin      string
	upstream string // sandbox base URL
	gateway  string // gateway base URL
	gwPID    int
	stop     []func()
}

const (
	sandboxKey = "sk_sandbox_demo"
	secret     = "bench-webhook-secret-0123"
)

func run(soak time.Duration, rounds int, counts string) error {
	ctx, cancel := context.WithTimeout(context.Background(), soak+20*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "bench-live")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gateway")
	start := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	fmt.Printf("# bench/live (built in %v; %d CPUs; loopback; gateway and sandbox are separate processes, clients run in this one)\n\n", time.Since(start).Round(time.Second), numCPU())

	// 1. One upstream GET per interval for 1,000 subscribers.
	e, err := startEnv(ctx, dir, bin, "POLL_INTERVAL=1s", "SANDBOX_TIME_SCALE=1")
	if err != nil {
		return err
	}
	if err := sharedPoll(ctx, e); err != nil {
		e.close()
		return err
	}
	// 2. Change to last subscriber, webhook-pushed.
	if err := fanOutLatency(ctx, e, rounds); err != nil {
		e.close()
		return err
	}
	e.close()

	// 3. Memory per idle subscription, a fresh gateway per figure.
	fmt.Println("\n## Memory per idle subscription")
	fmt.Println("\n| transport | subscriptions | connections | RSS growth | RSS / subscription | heap in use growth | heap / subscription | goroutines / subscription |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, transport := range []string{"WebSocket", "SSE"} {
		for _, f := range strings.Split(counts, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return err
			}
			e, err := startEnv(ctx, dir, bin, "POLL_INTERVAL=1h", "MAX_SUBSCRIPTIONS=100000")
			if err != nil {
				return err
			}
			err = idleMemory(ctx, e, transport, n)
			e.close()
			if err != nil {
				return err
			}
		}
	}

	// 4. Soak.
	if soak > 0 {
		e, err := startEnv(ctx, dir, bin, "POLL_INTERVAL=500ms", "SANDBOX_TIME_SCALE=10")
		if err != nil {
			return err
		}
		err = runSoak(ctx, e, soak)
		e.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// startEnv starts a sandbox and a gateway in front of it with extra env.
func startEnv(ctx context.Context, dir, bin string, extra ...string) (*env, error) {
	e := &env{dir: dir, bin: bin}
	upPort, err := freePort()
	if err != nil {
		return nil, err
	}
	scale := "1"
	for _, kv := range extra {
		if v, ok := strings.CutPrefix(kv, "SANDBOX_TIME_SCALE="); ok {
			scale = v
		}
	}
	if _, err := e.start(ctx, "sandbox", []string{"sandbox"}, "PORT="+upPort, "SANDBOX_TIME_SCALE="+scale); err != nil {
		return nil, err
	}
	e.upstream = "http://127.0.0.1:" + upPort
	gwPort, err := freePort()
	if err != nil {
		e.close()
		return nil, err
	}
	env := append([]string{"PORT=" + gwPort, "REVOX_BASE_URL=" + e.upstream, "REVOX_API_KEY=" + sandboxKey, "WEBHOOK_SECRET=" + secret, "LOG_LEVEL=error"}, extra...)
	pid, err := e.start(ctx, "gateway", nil, env...)
	if err != nil {
		e.close()
		return nil, err
	}
	e.gateway, e.gwPID = "http://127.0.0.1:"+gwPort, pid
	return e, nil
}

// start runs the binary with args and env and waits for /healthz (the
// sandbox answers it as an unknown path: any answer counts).
func (e *env) start(ctx context.Context, name string, args []string, env ...string) (int, error) {
	logf, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	e.stop = append(e.stop, func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	var port string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PORT="); ok {
			port = v
		}
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(e.dir, name+".log"))
			return 0, fmt.Errorf("%s exited at start-up: %s", name, b)
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		if resp, err := http.Get("http://127.0.0.1:" + port + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd.Process.Pid, nil
		}
	}
	return 0, fmt.Errorf("%s did not start", name)
}

func (e *env) close() {
	for i := len(e.stop) - 1; i >= 0; i-- {
		e.stop[i]()
	}
	e.stop = nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
