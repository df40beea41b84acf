package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/inbound/inboundtest"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// writeEnv is a gateway over a sandbox that accepts writes.
type writeEnv struct {
	gql  *httptest.Server
	sb   *sandbox.Server
	asst string
}

func newWriteEnv(t testing.TB, configure func(*gateway.Config)) *writeEnv {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithTimeout(300*time.Millisecond), revox.WithBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cfg := gateway.Config{Upstream: client, Logger: quietLogger(), AllowAnonymousWrites: true}
	if configure != nil {
		configure(&cfg)
	}
	gql := httptest.NewServer(gateway.New(cfg))
	t.Cleanup(gql.Close)
	return &writeEnv{gql: gql, sb: sb, asst: sb.AssistantIDs()[0]}
}

// send posts a GraphQL request with extra headers.
func send(t testing.TB, base, query string, vars map[string]any, header map[string]string) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	r, _ := sendRequest(t, req)
	return r
}

const createCall = `mutation($input: CreateCallInput!) { createCall(input: $input) { id status toPhoneNumber isCancelled metadata } }`

type created struct {
	CreateCall *struct {
		ID            string          `json:"id"`
		Status        string          `json:"status"`
		ToPhoneNumber string          `json:"toPhoneNumber"`
		IsCancelled   bool            `json:"isCancelled"`
		Metadata      json.RawMessage `json:"metadata"`
	} `json:"createCall"`
}

func (e *writeEnv) input(key string) map[string]any {
	in := map[string]any{"phoneNumber": "+14155550123", "assistantId": e.asst, "metadata": map[string]any{"lead": "42"}}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return in
}

func TestCreateCallPlacesAnOrderThatReadsBack(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	var got created
	send(t, e.gql.URL, createCall, map[string]any{"input": e.input("lead-42-first-call")}, nil).ok(t, &got)
	if got.CreateCall == nil || got.CreateCall.ToPhoneNumber != "+14155550123" {
		t.Fatalf("createCall answered %+v", got.CreateCall)
	}
	if !strings.Contains(string(got.CreateCall.Metadata), `"gateway_idempotency_key":"lead-42-first-call"`) {
		t.Fatalf("the order's metadata does not carry the key: %s", got.CreateCall.Metadata)
	}
	var back struct {
		Node *struct {
			Typename string `json:"__typename"`
			ID       string `json:"id"`
		} `json:"node"`
	}
	send(t, e.gql.URL, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": got.CreateCall.ID}, nil).ok(t, &back)
	if back.Node == nil || back.Node.ID != got.CreateCall.ID || back.Node.Typename != "Call" {
		t.Fatalf("node(id:) answered %+v", back.Node)
	}
	if s := e.sb.WriteStats(); s.CreateRequests != 1 || s.OrdersCreated != 1 {
		t.Fatalf("upstream saw %+v, want one POST and one order", s)
	}
}

func TestConcurrentCreatesWithOneKeyPostOnce(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			var got created
			send(t, e.gql.URL, createCall, map[string]any{"input": e.input("same-key")}, nil).ok(t, &got)
			ids[i] = got.CreateCall.ID
		})
	}
	wg.Wait()
	if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
		t.Fatalf("the 10 requests got different orders: %v", ids)
	}
	if s := e.sb.WriteStats(); s.CreateRequests != 1 || s.OrdersCreated != 1 {
		t.Fatalf("upstream saw %+v, want one POST", s)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	t.Run("the same key with another input is refused without posting", func(t *testing.T) {
		t.Parallel()
		e := newWriteEnv(t, nil)
		send(t, e.gql.URL, createCall, map[string]any{"input": e.input("k1")}, nil).ok(t, &created{})
		other := e.input("k1")
		other["phoneNumber"] = "+14155550199"
		r := send(t, e.gql.URL, createCall, map[string]any{"input": other}, nil)
		if !slices.Equal(r.codes(), []string{"IDEMPOTENCY_KEY_REUSED"}) {
			t.Fatalf("got %s", r.raw)
		}
		if s := e.sb.WriteStats(); s.CreateRequests != 1 {
			t.Fatalf("upstream saw %d POSTs, want 1", s.CreateRequests)
		}
	})
	t.Run("keys are not shared across credentials", func(t *testing.T) {
		t.Parallel()
		keys := []string{"sk_sandbox_demo", "sk_sandbox_second_tenant"}
		sb := sandbox.NewTenants(keys, sandbox.Options{})
		up := httptest.NewServer(sb)
		t.Cleanup(up.Close)
		client, err := revox.New(up.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), AuthMode: gateway.AuthForward}))
		t.Cleanup(gql.Close)
		ids := map[string]string{}
		for _, key := range keys {
			var got created
			in := map[string]any{"phoneNumber": "+14155550123", "assistant": map[string]any{"prompt": "Say hello"}, "idempotencyKey": "shared"}
			send(t, gql.URL, createCall, map[string]any{"input": in}, map[string]string{"Authorization": "Bearer " + key}).ok(t, &got)
			ids[key] = got.CreateCall.ID
		}
		if s := sb.WriteStats(); s.OrdersCreated != 2 {
			t.Fatalf("two tenants with one key made %d orders, want 2 (%v)", s.OrdersCreated, ids)
		}
	})
	t.Run("the Idempotency-Key header names the key when the input does not", func(t *testing.T) {
		t.Parallel()
		e := newWriteEnv(t, nil)
		h := map[string]string{"Idempotency-Key": "from-header"}
		var a, b created
		send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, h).ok(t, &a)
		send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, h).ok(t, &b)
		if a.CreateCall.ID != b.CreateCall.ID || e.sb.WriteStats().CreateRequests != 1 {
			t.Fatalf("two requests with one header key: %s and %s, %d POSTs", a.CreateCall.ID, b.CreateCall.ID, e.sb.WriteStats().CreateRequests)
		}
		r := send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)})
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
			t.Fatalf("a bad header key: %s", r.raw)
		}
	})
	t.Run("without a key every request places an order", func(t *testing.T) {
		t.Parallel()
		e := newWriteEnv(t, nil)
		send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, nil).ok(t, &created{})
		send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, nil).ok(t, &created{})
		if s := e.sb.WriteStats(); s.OrdersCreated != 2 {
			t.Fatalf("%d orders, want 2", s.OrdersCreated)
		}
	})
}

func TestALostAnswerIsOutcomeUnknownAndNeverDialsTwice(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	if err := e.sb.InjectWriteFaults(sandbox.WriteFault{Kind: sandbox.WriteAnswerLost}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := send(t, e.gql.URL, createCall, map[string]any{"input": e.input("lost")}, nil)
		if !slices.Equal(r.codes(), []string{"OUTCOME_UNKNOWN"}) {
			t.Fatalf("try %d: got %s", i, r.raw)
		}
	}
	if s := e.sb.WriteStats(); s.CreateRequests != 1 || s.OrdersCreated != 1 {
		t.Fatalf("upstream saw %+v, want exactly one POST and one order", s)
	}
}

func TestARateLimitedCreateIsRetriedIntoOneOrder(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	if err := e.sb.InjectWriteFaults(sandbox.WriteFault{Kind: sandbox.WriteRateLimited}); err != nil {
		t.Fatal(err)
	}
	send(t, e.gql.URL, createCall, map[string]any{"input": e.input("rl")}, nil).ok(t, &created{})
	if s := e.sb.WriteStats(); s.CreateRequests != 2 || s.OrdersCreated != 1 {
		t.Fatalf("upstream saw %+v, want 2 POSTs and one order", s)
	}
}

func TestBadCreateInputNamesTheFieldWithoutPosting(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	for field, edit := range map[string]func(map[string]any){
		"input.phoneNumber":     func(in map[string]any) { in["phoneNumber"] = "0612345678" },
		"input.assistantId":     func(in map[string]any) { in["assistant"] = map[string]any{"prompt": "hi"} },
		"input.metadata":        func(in map[string]any) { in["metadata"] = map[string]any{"n": 1} },
		"input.concurrency.max": func(in map[string]any) { in["concurrency"] = map[string]any{"key": "k", "max": 0} },
	} {
		in := e.input("")
		edit(in)
		r := send(t, e.gql.URL, createCall, map[string]any{"input": in}, nil)
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, field) {
			t.Errorf("%s: got %s", field, r.raw)
		}
	}
	if s := e.sb.WriteStats(); s.CreateRequests != 0 {
		t.Fatalf("bad inputs made %d POSTs", s.CreateRequests)
	}
}

func TestCancelCall(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	var got created
	send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, nil).ok(t, &got)
	const cancel = `mutation($id: ID!) { cancelCall(id: $id) { id isCancelled status } }`
	for i := range 2 { // the second cancel answers the order as it is
		var c struct {
			CancelCall struct {
				ID          string `json:"id"`
				IsCancelled bool   `json:"isCancelled"`
				Status      string `json:"status"`
			} `json:"cancelCall"`
		}
		send(t, e.gql.URL, cancel, map[string]any{"id": got.CreateCall.ID}, nil).ok(t, &c)
		if c.CancelCall.ID != got.CreateCall.ID || !c.CancelCall.IsCancelled || c.CancelCall.Status != "CANCELLED" {
			t.Fatalf("cancel %d answered %+v", i, c.CancelCall)
		}
	}
	if r := send(t, e.gql.URL, cancel, map[string]any{"id": "no-such-order"}, nil); !slices.Equal(r.codes(), []string{"NOT_FOUND"}) {
		t.Fatalf("unknown id: %s", r.raw)
	}
}

func TestWhoMayWrite(t *testing.T) {
	t.Parallel()
	tokens, err := inbound.ParseTokens(strings.NewReader(fmt.Sprintf("%s calls:read\n%s\n", sha256Hex("reader"), sha256Hex("writer"))))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		configure func(*gateway.Config)
		auth      string
		status    int
		code      string
	}{
		{"server mode without inbound auth refuses writes", func(c *gateway.Config) { c.AllowAnonymousWrites = false }, "", 403, "FORBIDDEN"},
		{"a token without calls:write is forbidden", func(c *gateway.Config) { c.Inbound = tokens }, "Bearer reader", 403, "FORBIDDEN"},
		{"an unknown token is unauthenticated", func(c *gateway.Config) { c.Inbound = tokens }, "Bearer stranger", 401, "UNAUTHENTICATED"},
		{"no token is unauthenticated", func(c *gateway.Config) { c.Inbound = tokens }, "", 401, "UNAUTHENTICATED"},
		{"a token with calls:write places the call", func(c *gateway.Config) { c.Inbound, c.AllowAnonymousWrites = tokens, false }, "Bearer writer", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newWriteEnv(t, tc.configure)
			h := map[string]string{"Accept": "application/graphql-response+json"}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			r := send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, h)
			if r.status != tc.status || tc.code != "" && !slices.Equal(r.codes(), []string{tc.code}) || tc.code == "" && len(r.Errors) > 0 {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			want := int64(0)
			if tc.code == "" {
				want = 1
			}
			if s := e.sb.WriteStats(); s.CreateRequests != want {
				t.Fatalf("%d POSTs, want %d", s.CreateRequests, want)
			}
		})
	}
	t.Run("a read-only token reads", func(t *testing.T) {
		t.Parallel()
		e := newWriteEnv(t, func(c *gateway.Config) { c.Inbound = tokens })
		r := send(t, e.gql.URL, `{ calls(first: 1) { nodes { id } } }`, nil, map[string]string{"Authorization": "Bearer reader"})
		if len(r.Errors) > 0 {
			t.Fatalf("got %s", r.raw)
		}
	})
}

func TestMutationFieldsAreBounded(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, func(c *gateway.Config) { c.MaxMutations = 2 })
	var q strings.Builder
	q.WriteString("mutation($input: CreateCallInput!) {")
	for i := range 3 {
		fmt.Fprintf(&q, " c%d: createCall(input: $input) { id }", i)
	}
	q.WriteString(" }")
	r := send(t, e.gql.URL, q.String(), map[string]any{"input": e.input("")}, nil)
	if !slices.Equal(r.codes(), []string{"TOO_MANY_MUTATIONS"}) || e.sb.WriteStats().CreateRequests != 0 {
		t.Fatalf("got %s after %d POSTs", r.raw, e.sb.WriteStats().CreateRequests)
	}
}

func TestNodesAnswersEachIDInItsPlace(t *testing.T) {
	t.Parallel()
	e := newWriteEnv(t, nil)
	var got created
	send(t, e.gql.URL, createCall, map[string]any{"input": e.input("")}, nil).ok(t, &got)
	r := send(t, e.gql.URL, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Call { toPhoneNumber } } }`,
		map[string]any{"ids": []string{got.CreateCall.ID, "no-such-order"}}, nil)
	want := fmt.Sprintf(`{"nodes":[{"id":%q,"toPhoneNumber":"+14155550123"},null]}`, got.CreateCall.ID)
	if string(r.Data) != want || !slices.Equal(r.codes(), []string{"NOT_FOUND"}) || fmt.Sprint(r.Errors[0].Path) != "[nodes 1]" {
		t.Fatalf("got %s", r.raw)
	}
}

func TestAWriteDropsTheCredentialsCachedAnswers(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithCache(time.Hour, 100))
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), AllowAnonymousWrites: true}))
	t.Cleanup(gql.Close)
	const newest = `{ calls(first: 1) { nodes { phoneNumber } } }`
	var before, after struct {
		Calls struct {
			Nodes []struct {
				PhoneNumber string `json:"phoneNumber"`
			} `json:"nodes"`
		} `json:"calls"`
	}
	send(t, gql.URL, newest, nil, nil).ok(t, &before)
	requests := sb.Requests()
	send(t, gql.URL, newest, nil, nil).ok(t, &before)
	if sb.Requests() != requests {
		t.Fatal("the page was not cached: the test proves nothing")
	}
	in := map[string]any{"phoneNumber": "+14155550166", "assistant": map[string]any{"prompt": "Say hello."}}
	send(t, gql.URL, createCall, map[string]any{"input": in}, nil).ok(t, &created{})
	send(t, gql.URL, newest, nil, nil).ok(t, &after)
	if len(after.Calls.Nodes) != 1 || after.Calls.Nodes[0].PhoneNumber != "+14155550166" {
		t.Fatalf("after placing a call the newest attempt is %+v, still the cached page's %+v", after.Calls.Nodes, before.Calls.Nodes)
	}
}

func TestWhoMayWriteWithJWTs(t *testing.T) {
	t.Parallel()
	keys := inboundtest.NewJWKS(t, "k1")
	auth, err := inbound.NewJWT(t.Context(), inbound.JWTConfig{JWKSURL: keys.URL, Issuer: inboundtest.Issuer, Audience: inboundtest.Audience})
	if err != nil {
		t.Fatal(err)
	}
	e := newWriteEnv(t, func(c *gateway.Config) { c.Inbound, c.AllowAnonymousWrites = auth, false })
	expired := func(b *jwt.Builder) *jwt.Builder {
		return inboundtest.Valid("calls:write")(b).Expiration(time.Now().Add(-time.Hour))
	}
	for _, tc := range []struct {
		name, token, query string
		status             int
		code               string
		posts              int64
	}{
		{"a writer places a call", keys.Sign(t, "k1", inboundtest.Valid("calls:read calls:write")), createCall, 200, "", 1},
		{"a reader may not write", keys.Sign(t, "k1", inboundtest.Valid("calls:read")), createCall, 403, "FORBIDDEN", 0},
		{"a writer without calls:read may not read", keys.Sign(t, "k1", inboundtest.Valid("calls:write")), `{ calls(first: 1) { nodes { id } } }`, 403, "FORBIDDEN", 0},
		{"an expired token is unauthenticated", keys.Sign(t, "k1", expired), createCall, 401, "UNAUTHENTICATED", 0},
		{"a token of another key set is unauthenticated", keys.Sign(t, "stranger", inboundtest.Valid("calls:write")), createCall, 401, "UNAUTHENTICATED", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.sb.WriteStats().CreateRequests
			r := send(t, e.gql.URL, tc.query, map[string]any{"input": e.input("")}, map[string]string{
				"Authorization": "Bearer " + tc.token, "Accept": "application/graphql-response+json",
			})
			if r.status != tc.status || tc.code != "" && !slices.Equal(r.codes(), []string{tc.code}) || tc.code == "" && len(r.Errors) > 0 {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if n := e.sb.WriteStats().CreateRequests - before; n != tc.posts {
				t.Fatalf("%d POSTs, want %d", n, tc.posts)
			}
		})
	}
}
