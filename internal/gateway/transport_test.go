package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// httpCase is one raw request to /query and what the GraphQL-over-HTTP
// specification asks of the answer.
type httpCase struct {
	name     string
	method   string
	query    url.Values // GET parameters
	sendType string     // Content-Type of the request
	accept   string
	body     string

	status     int
	wantType   string // Content-Type of the response, charset included
	wantHeader map[string]string
	codes      []string // extensions.code of each error, in order
	dataEntry  string   // "absent", "null" or "present"
}

func TestQueryAnswersPerGraphQLOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	const (
		jsonUTF8     = "application/json; charset=utf-8"
		responseUTF8 = "application/graphql-response+json; charset=utf-8"
		gqlResponse  = "application/graphql-response+json"
	)
	get := func(params ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(params); i += 2 {
			v.Set(params[i], params[i+1])
		}
		return v
	}
	cases := []httpCase{
		{name: "a POST without Accept is answered as application/json",
			method: "POST", sendType: "application/json", body: `{"query":"{ __typename }"}`,
			status: 200, wantType: jsonUTF8, dataEntry: "present"},
		{name: "a POST accepting graphql-response+json gets it",
			method: "POST", sendType: "application/json", accept: gqlResponse, body: `{"query":"{ __typename }"}`,
			status: 200, wantType: responseUTF8, dataEntry: "present"},
		{name: "a wildcard Accept is answered as application/json",
			method: "POST", sendType: "application/json", accept: "*/*", body: `{"query":"{ __typename }"}`,
			status: 200, wantType: jsonUTF8, dataEntry: "present"},
		{name: "the Accept type with the higher q wins over the earlier one",
			method: "POST", sendType: "application/json", accept: "application/json;q=0.5, application/graphql-response+json;q=0.9",
			body:   `{"query":"{ __typename }"}`,
			status: 200, wantType: responseUTF8, dataEntry: "present"},
		{name: "an exact Accept type wins over a wildcard of the same q",
			method: "POST", sendType: "application/json", accept: "*/*, application/graphql-response+json",
			body:   `{"query":"{ __typename }"}`,
			status: 200, wantType: responseUTF8, dataEntry: "present"},
		{name: "a charset parameter on the request body is accepted",
			method: "POST", sendType: "application/json; charset=utf-8", accept: "application/json; charset=utf-8",
			body:   `{"query":"{ __type(name: \"Run🏃Swim🏊\") { name } }"}`,
			status: 200, wantType: jsonUTF8, dataEntry: "present"},
		{name: "an Accept the gateway cannot satisfy is 406",
			method: "POST", sendType: "application/json", accept: "text/html", body: `{"query":"{ __typename }"}`,
			status: 406, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "an Accept with q=0 for every JSON type is 406",
			method: "GET", query: get("query", "{ __typename }"), accept: "application/json;q=0, application/graphql-response+json;q=0",
			status: 406, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "a body that is not JSON is 400 under application/json",
			method: "POST", sendType: "application/json", accept: "application/json", body: `{ "not a JSON`,
			status: 400, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "a body that is not JSON is 400 under graphql-response+json",
			method: "POST", sendType: "application/json", accept: gqlResponse, body: `{ "not a JSON`,
			status: 400, wantType: responseUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "an empty POST body is 400",
			method: "POST", sendType: "application/json",
			status: 400, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "a query that is not a string is 400",
			method: "POST", sendType: "application/json", body: `{"query":{"obj":"ect"}}`,
			status: 400, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "variables that are not a map are 400",
			method: "POST", sendType: "application/json", body: `{"query":"{ __typename }","variables":["array"]}`,
			status: 400, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "a missing query is 400 under application/json",
			method: "POST", sendType: "application/json", accept: "application/json", body: `{"qeury":"{ __typename }"}`,
			status: 400, wantType: jsonUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "a missing query is 400 under graphql-response+json",
			method: "POST", sendType: "application/json", accept: gqlResponse, body: `{"notquery":"{ __typename }"}`,
			status: 400, wantType: responseUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "a GET without a query is 400",
			method: "GET", query: get(),
			status: 400, wantType: jsonUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "a document that does not parse is 200 under application/json",
			method: "POST", sendType: "application/json", accept: "application/json", body: `{"query":"{"}`,
			status: 200, wantType: jsonUTF8, codes: []string{"GRAPHQL_PARSE_FAILED"}, dataEntry: "absent"},
		{name: "a document that does not parse is 400 under graphql-response+json",
			method: "POST", sendType: "application/json", accept: gqlResponse, body: `{"query":"{"}`,
			status: 400, wantType: responseUTF8, codes: []string{"GRAPHQL_PARSE_FAILED"}, dataEntry: "absent"},
		{name: "a document that does not validate is 200 under application/json",
			method: "POST", sendType: "application/json", accept: "application/json", body: `{"query":"{ noSuchField }"}`,
			status: 200, wantType: jsonUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "a document that does not validate is 400 under graphql-response+json",
			method: "POST", sendType: "application/json", accept: gqlResponse, body: `{"query":"{ noSuchField }"}`,
			status: 400, wantType: responseUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "variables that do not coerce are 200 under application/json",
			method: "POST", sendType: "application/json", accept: "application/json",
			body:   `{"query":"query Q($id: ID!) { __typename }","variables":{"id":null}}`,
			status: 200, wantType: jsonUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "variables that do not coerce are 400 under graphql-response+json",
			method: "POST", sendType: "application/json", accept: gqlResponse,
			body:   `{"query":"query Q($id: ID!) { __typename }","variables":{"id":null}}`,
			status: 400, wantType: responseUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "a mutation the schema lacks is a validation error over POST",
			method: "POST", sendType: "application/json", accept: gqlResponse, body: `{"query":"mutation { deleteEverything }"}`,
			status: 400, wantType: responseUTF8, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, dataEntry: "absent"},
		{name: "a mutation over GET is 405 and points at POST",
			method: "GET", query: get("query", "mutation { __typename }"), accept: gqlResponse,
			status: 405, wantType: responseUTF8, wantHeader: map[string]string{"Allow": "POST"},
			codes: []string{"METHOD_NOT_ALLOWED"}, dataEntry: "absent"},
		{name: "a mutation selected by operationName over GET is 405 under application/json too",
			method: "GET", query: get("query", "query A { __typename } mutation B { __typename }", "operationName", "B"), accept: "application/json",
			status: 405, wantType: jsonUTF8, wantHeader: map[string]string{"Allow": "POST"},
			codes: []string{"METHOD_NOT_ALLOWED"}, dataEntry: "absent"},
		{name: "the query of a document with a mutation is answered over GET",
			method: "GET", query: get("query", "query A { __typename } query B { calls(first: 1) { edges { cursor } } }", "operationName", "A"),
			status: 200, wantType: jsonUTF8, dataEntry: "present"},
		{name: "a GET query with variables is answered",
			method: "GET", query: get("query", "query T($name: String!) { __type(name: $name) { name } }", "variables", `{"name":"CallStatus"}`), accept: gqlResponse,
			status: 200, wantType: responseUTF8, dataEntry: "present"},
		{name: "a POST without Content-Type is 415",
			method: "POST", body: `{"query":"{ __typename }"}`,
			status: 415, wantType: jsonUTF8, wantHeader: map[string]string{"Accept-Post": "application/json"},
			codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "a POST of another media type is 415",
			method: "POST", sendType: "text/plain", body: `{"query":"{ __typename }"}`,
			status: 415, wantType: jsonUTF8, codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "another method is 405 and lists GET and POST",
			method: "PUT", sendType: "application/json", body: `{"query":"{ __typename }"}`,
			status: 405, wantType: jsonUTF8, wantHeader: map[string]string{"Allow": "GET, POST"},
			codes: []string{"BAD_REQUEST"}, dataEntry: "absent"},
		{name: "a field error keeps its presenter code, status 200 and data",
			method: "POST", sendType: "application/json", accept: gqlResponse,
			body:   `{"query":"{ calls(first: 1, pageSize: 5) { edges { cursor } } }"}`,
			status: 200, wantType: responseUTF8, codes: []string{"BAD_USER_INPUT"}, dataEntry: "present"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := e.gql.URL + "/query"
			if tc.query != nil {
				target += "?" + tc.query.Encode()
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, target, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.sendType != "" {
				req.Header.Set("Content-Type", tc.sendType)
			}
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			// A client that satisfies the gateway's CSRF prevention, so GET
			// and non-JSON POSTs reach the transports under test.
			req.Header.Set("Apollo-Require-Preflight", "true")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}

			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatalf("body is not a JSON object: %s", raw)
			}
			data, hasData := fields["data"]
			switch {
			case tc.dataEntry == "absent" && hasData:
				t.Errorf("data entry present in a request error: %s", raw)
			case tc.dataEntry == "present" && (!hasData || string(data) == "null"):
				t.Errorf("no data: %s", raw)
			}
			var r response
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.codes(), ","); got != strings.Join(tc.codes, ",") {
				t.Errorf("codes %q, want %q: %s", got, strings.Join(tc.codes, ","), raw)
			}
		})
	}
}

func TestPersistedQueryHashAloneIsNotAMissingQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const query = "{ __typename }"
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	send := func(body map[string]any) (int, string) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.gql.URL+"/query", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}

	if status, body := send(map[string]any{"query": query, "extensions": ext}); status != 200 || !strings.Contains(body, `"__typename":"Query"`) {
		t.Fatalf("registering the query: %d %s", status, body)
	}
	if status, body := send(map[string]any{"extensions": ext}); status != 200 || !strings.Contains(body, `"__typename":"Query"`) {
		t.Fatalf("the hash alone: %d %s", status, body)
	}
}
