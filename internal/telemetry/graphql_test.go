package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// testSchema is the schema of testGraphQL. Each field stands for a kind of
// result: hello answers, missing fails beside data (NOT_FOUND), weird fails
// with a code outside the allow-list, broken is non-null and fails (null
// data), unauthenticated fails as a refused credential does, upstream makes an HTTP request with the test's client.
var testSchema = gqlparser.MustLoadSchema(&ast.Source{Input: `
	type Query {
		hello: String!
		missing: String
		weird: String
		broken: String!
		upstream: String
		unauthenticated: String
	}
`})

// tooDeep refuses, like the gateway's query limits, every operation named
// Deep with QUERY_TOO_DEEP before execution.
type tooDeep struct{}

func (tooDeep) ExtensionName() string                   { return "TooDeep" }
func (tooDeep) Validate(graphql.ExecutableSchema) error { return nil }
func (tooDeep) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation.Name != "Deep" {
		return nil
	}
	return &gqlerror.Error{Message: "query too deep", Extensions: map[string]any{"code": "QUERY_TOO_DEEP"}}
}

// testGraphQL is a gqlgen server over testSchema with tel's extension used,
// as the gateway does. upstream, when set, is what the upstream field calls.
func testGraphQL(t *testing.T, tel *Telemetry, upstream func(ctx context.Context) (string, error)) http.Handler {
	t.Helper()
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return testSchema },
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			opCtx := graphql.GetOperationContext(ctx)
			done := false
			return func(ctx context.Context) *graphql.Response {
				if done {
					return nil
				}
				done = true
				data, null := map[string]any{}, false
				for _, sel := range opCtx.Operation.SelectionSet {
					f := sel.(*ast.Field)
					fail := func(code string) {
						graphql.AddError(ctx, &gqlerror.Error{
							Message:    f.Name + " failed",
							Path:       ast.Path{ast.PathName(f.Alias)},
							Extensions: map[string]any{"code": code},
						})
					}
					switch f.Name {
					case "hello":
						data[f.Alias] = "world"
					case "missing":
						data[f.Alias] = nil
						fail("NOT_FOUND")
					case "weird":
						data[f.Alias] = nil
						fail("SOMETHING_NEW")
					case "unauthenticated":
						null = true
						fail("UNAUTHENTICATED")
					case "broken":
						null = true
						fail("UPSTREAM_UNAVAILABLE")
					case "upstream":
						v, err := upstream(ctx)
						if err != nil {
							data[f.Alias] = nil
							fail("UPSTREAM_UNAVAILABLE")
						} else {
							data[f.Alias] = v
						}
					}
				}
				if null {
					return &graphql.Response{Data: json.RawMessage("null")}
				}
				b, err := json.Marshal(data)
				if err != nil {
					panic(err)
				}
				return &graphql.Response{Data: b}
			}
		},
	})
	srv.AddTransport(transport.POST{})
	srv.Use(tel.GraphQLExtension())
	srv.Use(tooDeep{})
	return srv
}

// gqlResponse is the part of a GraphQL response the tests look at.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends one GraphQL request to h and decodes the answer.
func post(t *testing.T, h http.Handler, operationName, query string) gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "operationName": operationName})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q: %v", rec.Body.String(), err)
	}
	return resp
}

// histogramCount returns the number of observations of the histogram name
// with the given label value of operation or endpoint.
func histogramCount(t *testing.T, tel *Telemetry, name, label, value string) uint64 {
	t.Helper()
	families, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, label) == value {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

func TestGraphQLExtensionCountsOperationsByOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		operationName   string
		query           string
		wantOperation   string
		wantOutcome     string
		wantCode        string
		wantErrorsCodes []string // what the client got, to prove the test server
	}{
		{
			name:  "a query without errors is ok, with no code",
			query: `query Hello { hello }`, wantOperation: "Hello", wantOutcome: "ok", wantCode: "",
		},
		{
			name:  "errors beside data are error, with the first error's code",
			query: `query Mixed { hello missing weird }`, wantOperation: "Mixed", wantOutcome: "error", wantCode: "NOT_FOUND",
			wantErrorsCodes: []string{"NOT_FOUND", "SOMETHING_NEW"},
		},
		{
			name:  "a code outside the allow-list is OTHER",
			query: `query Weird { weird hello }`, wantOperation: "Weird", wantOutcome: "error", wantCode: "OTHER",
			wantErrorsCodes: []string{"SOMETHING_NEW"},
		},
		{
			name:  "null data is failed",
			query: `query Broken { hello broken }`, wantOperation: "Broken", wantOutcome: "failed", wantCode: "UPSTREAM_UNAVAILABLE",
			wantErrorsCodes: []string{"UPSTREAM_UNAVAILABLE"},
		},
		{
			name:  "an operation without a name is anonymous",
			query: `{ hello }`, wantOperation: "anonymous", wantOutcome: "ok", wantCode: "",
		},
		{
			name:  "a document that does not parse is failed",
			query: `{ hello`, wantOperation: "anonymous", wantOutcome: "failed", wantCode: "GRAPHQL_PARSE_FAILED",
			wantErrorsCodes: []string{"GRAPHQL_PARSE_FAILED"},
		},
		{
			name:  "a rejected request's unchecked operationName is not admitted as a label",
			query: `query Unknown { nope }`, operationName: "Unknown", wantOperation: "other", wantOutcome: "failed", wantCode: "GRAPHQL_VALIDATION_FAILED",
			wantErrorsCodes: []string{"GRAPHQL_VALIDATION_FAILED"},
		},
		{
			name:  "a refusal by a limit admits no name: only operations that ran do",
			query: `query Deep { hello }`, wantOperation: "other", wantOutcome: "failed", wantCode: "QUERY_TOO_DEEP",
			wantErrorsCodes: []string{"QUERY_TOO_DEEP"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tel := New()
			resp := post(t, testGraphQL(t, tel, nil), tt.operationName, tt.query)
			var gotCodes []string
			for _, e := range resp.Errors {
				gotCodes = append(gotCodes, fmt.Sprint(e.Extensions["code"]))
			}
			if fmt.Sprint(gotCodes) != fmt.Sprint(tt.wantErrorsCodes) {
				t.Fatalf("response error codes %v, want %v (data %s)", gotCodes, tt.wantErrorsCodes, resp.Data)
			}

			if got := testutil.ToFloat64(tel.graphql.operations.WithLabelValues(tt.wantOperation, tt.wantOutcome, tt.wantCode)); got != 1 {
				t.Errorf("graphql_operations_total{operation=%q,outcome=%q,code=%q} = %v, want 1", tt.wantOperation, tt.wantOutcome, tt.wantCode, got)
			}
			if n := testutil.CollectAndCount(tel.graphql.operations); n != 1 {
				t.Errorf("graphql_operations_total has %d series, want 1 (each operation counted once)", n)
			}
			if n := histogramCount(t, tel, "graphql_operation_duration_seconds", "operation", tt.wantOperation); n != 1 {
				t.Errorf("graphql_operation_duration_seconds{operation=%q} has %d observations, want 1", tt.wantOperation, n)
			}
		})
	}
}

func TestGraphQLExtensionKnownNameLabelsRejectedRequests(t *testing.T) {
	t.Parallel()
	tel := New()
	h := testGraphQL(t, tel, nil)
	post(t, h, "", `query Calls { hello }`)
	post(t, h, "Calls", `query Calls { nope }`)

	if got := testutil.ToFloat64(tel.graphql.operations.WithLabelValues("Calls", "ok", "")); got != 1 {
		t.Errorf("ok Calls = %v, want 1", got)
	}
	if got := testutil.ToFloat64(tel.graphql.operations.WithLabelValues("Calls", "failed", "GRAPHQL_VALIDATION_FAILED")); got != 1 {
		t.Errorf("failed Calls = %v, want 1: a name already admitted labels a rejected request", got)
	}
}

func TestGraphQLExtensionBoundsOperationNames(t *testing.T) {
	t.Parallel()
	tel := New()
	h := testGraphQL(t, tel, nil)
	for i := range maxOperationNames {
		post(t, h, "", fmt.Sprintf("query Op%d { hello }", i))
	}
	post(t, h, "", "query Op200 { hello }")                                    // the 201st name
	post(t, h, "", "query Op0 { hello }")                                      // admitted before the cap
	post(t, h, "", "query "+strings.Repeat("L", maxNameLength+1)+" { hello }") // too long

	ops := tel.graphql.operations
	if got := testutil.ToFloat64(ops.WithLabelValues("Op199", "ok", "")); got != 1 {
		t.Errorf("Op199 = %v, want 1: the 200th name has a label of its own", got)
	}
	if got := testutil.ToFloat64(ops.WithLabelValues("Op0", "ok", "")); got != 2 {
		t.Errorf("Op0 = %v, want 2", got)
	}
	if got := testutil.ToFloat64(ops.WithLabelValues("other", "ok", "")); got != 2 {
		t.Errorf("other = %v, want 2 (the 201st name and the 65-character one)", got)
	}
	if n := testutil.CollectAndCount(ops); n != maxOperationNames+1 {
		t.Errorf("%d series, want %d", n, maxOperationNames+1)
	}
	if n := testutil.CollectAndCount(tel.graphql.duration); n != maxOperationNames+1 {
		t.Errorf("duration: %d series, want %d", n, maxOperationNames+1)
	}
}

func TestMetricsHandlerServesTheRegistry(t *testing.T) {
	t.Parallel()
	tel := New()
	post(t, testGraphQL(t, tel, nil), "", `query Hello { hello }`)
	tel.Observer().UpstreamRequest("list_calls", 200, 0)

	srv := httptest.NewServer(tel.MetricsHandler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`graphql_operations_total{code="",operation="Hello",outcome="ok"} 1`,
		`graphql_operation_duration_seconds_count{operation="Hello"} 1`,
		`revox_upstream_requests_total{endpoint="list_calls",status="2xx"} 1`,
		`revox_circuit_breaker_state 0`,
		`http_requests_in_flight 0`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestInFlightCountsRequestsBeingServed(t *testing.T) {
	t.Parallel()
	tel := New()
	entered, release := make(chan struct{}), make(chan struct{})
	h := tel.InFlight(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	done := make(chan struct{})
	for range 2 {
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			done <- struct{}{}
		}()
	}
	<-entered
	<-entered
	if got := testutil.ToFloat64(tel.inFlight); got != 2 {
		t.Errorf("while serving two: %v, want 2", got)
	}
	close(release)
	<-done
	<-done
	if got := testutil.ToFloat64(tel.inFlight); got != 0 {
		t.Errorf("after: %v, want 0", got)
	}
}

func TestGraphQLExtensionCountsUndecodableRequests(t *testing.T) {
	t.Parallel()
	tel := New()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/query", strings.NewReader("{not json"))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	testGraphQL(t, tel, nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	if got := testutil.ToFloat64(tel.graphql.operations.WithLabelValues("anonymous", "failed", "OTHER")); got != 1 {
		t.Errorf("anonymous failed OTHER = %v, want 1", got)
	}
}

func TestGraphQLExtensionAdmitsNamesFairly(t *testing.T) {
	t.Parallel()
	t.Run("one client admits at most its share of names", func(t *testing.T) {
		t.Parallel()
		tel := New()
		h := withClient(testGraphQL(t, tel, nil), "evil")
		for i := range maxOperationNames {
			post(t, h, "", fmt.Sprintf("query Evil%d { hello }", i))
		}
		good := withClient(testGraphQL(t, tel, nil), "good")
		post(t, good, "", "query Real { hello }")
		ops := tel.graphql.operations
		if got := testutil.ToFloat64(ops.WithLabelValues("Real", "ok", "")); got != 1 {
			t.Errorf("Real = %v, want 1: another client's names must not starve it", got)
		}
		if got := testutil.ToFloat64(ops.WithLabelValues("other", "ok", "")); got != maxOperationNames-maxNamesPerClient {
			t.Errorf("other = %v, want %d: names past the client's share", got, maxOperationNames-maxNamesPerClient)
		}
	})
	t.Run("an operation whose credential was refused admits no name", func(t *testing.T) {
		t.Parallel()
		tel := New()
		h := testGraphQL(t, tel, nil)
		post(t, h, "", "query Forged { unauthenticated }")
		post(t, h, "", "query Forged { hello }")
		ops := tel.graphql.operations
		if got := testutil.ToFloat64(ops.WithLabelValues("other", "failed", "UNAUTHENTICATED")); got != 1 {
			t.Errorf("other/UNAUTHENTICATED = %v, want 1", got)
		}
		if got := testutil.ToFloat64(ops.WithLabelValues("Forged", "ok", "")); got != 1 {
			t.Errorf("Forged = %v, want 1: admitted once authenticated", got)
		}
	})
}

// withClient marks every request to h as sent by client.
func withClient(h http.Handler, client string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(WithClient(r.Context(), client)))
	})
}
