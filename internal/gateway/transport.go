package gateway

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// CodeBadRequest is the extensions.code of a request that is not a GraphQL
// request at all: a body that is not JSON, a wrong method, media type or
// Accept header. gqlgen sends such errors without a code, and the presenter
// would otherwise call them internal.
const CodeBadRequest = "BAD_REQUEST"

// The two response media types of the GraphQL-over-HTTP specification.
const (
	mediaTypeJSON            = "application/json"
	mediaTypeGraphQLResponse = "application/graphql-response+json"
)

// addTransports adds gqlgen's GET and POST transports, wrapped so that /query
// follows the GraphQL-over-HTTP specification, and a last transport that
// answers every other request with the right 4xx status.
//
// gqlgen already decodes GET and JSON POST requests, answers
// application/graphql-response+json and answers 400 for undecodable bodies.
// The wrapper adds what it lacks: content negotiation with q-values and 406
// for an Accept it cannot satisfy, charset=utf-8 on every Content-Type, 200
// rather than 422 for parse, validation and variable errors under
// application/json, 400 for a request without a query, 405 rather than 406
// for a mutation or subscription sent with GET, and a code for request
// errors. Bodies, error messages and the presenter's codes stay gqlgen's.
func addTransports(srv *handler.Server) {
	srv.AddTransport(overHTTP{transport.GET{}})
	srv.AddTransport(overHTTP{jsonPOST{}})
	srv.AddTransport(unsupportedRequest{})
}

// overHTTP wraps one of gqlgen's HTTP transports.
type overHTTP struct {
	graphql.Transport
}

func (t overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		writeRequestError(w, http.StatusNotAcceptable,
			"the Accept header allows neither "+mediaTypeGraphQLResponse+" nor "+mediaTypeJSON)
		return
	}
	// gqlgen picks the first media type it knows in Accept; hand it the one
	// negotiation chose.
	ctx := r.Context()
	if r.Method == http.MethodGet {
		ctx = context.WithValue(ctx, overGETKey{}, true)
	}
	r = r.Clone(ctx)
	r.Header.Set("Accept", mediaType)

	ex := &recordingExecutor{GraphExecutor: exec, get: r.Method == http.MethodGet}
	rw := &conformingWriter{ResponseWriter: w, mediaType: mediaType, exec: ex}
	if ex.get {
		// gqlgen's GET writes these refusals itself, past the presenter.
		if msg := undecodableGETParameter(r); msg != "" {
			resp := ex.DispatchError(r.Context(), gqlerror.List{{Message: msg, Extensions: map[string]any{"code": CodeBadRequest}}})
			rw.WriteHeader(http.StatusBadRequest)
			writeResponse(rw, resp)
			return
		}
	}
	t.Transport.Do(rw, r, ex)
}

// undecodableGETParameter says which parameter of a GET request is not the
// JSON object it must be, or "".
func undecodableGETParameter(r *http.Request) string {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "the URL's query string could not be decoded"
	}
	for _, name := range []string{"variables", "extensions"} {
		v := query.Get(name)
		if v == "" {
			continue
		}
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil || dec.More() {
			return name + " could not be decoded: want a JSON object"
		}
	}
	return ""
}

// negotiate picks the response media type from the Accept header values:
// the acceptable type with the highest q, exact types before wildcards on a
// tie, then the earlier one. No Accept means application/json, and so does
// a wildcard. A charset other than utf-8 makes a type unacceptable.
func negotiate(accept []string) (string, bool) {
	if len(accept) == 0 || strings.TrimSpace(strings.Join(accept, "")) == "" {
		return mediaTypeJSON, true
	}
	best, bestQ, bestExact := "", 0.0, false
	for _, value := range accept {
		for part := range strings.SplitSeq(value, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			var offer string
			exact := true
			switch mt {
			case mediaTypeGraphQLResponse, mediaTypeJSON:
				offer = mt
			case "application/*", "*/*":
				offer, exact = mediaTypeJSON, false
			default:
				continue
			}
			if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil || q > 1 {
					continue
				}
			}
			if q <= 0 {
				continue // q=0 means "not acceptable"
			}
			if q > bestQ || (q == bestQ && exact && !bestExact) {
				best, bestQ, bestExact = offer, q, exact
			}
		}
	}
	return best, best != ""
}

// recordingExecutor notes what the transport's status depends on while
// gqlgen creates the operation.
type recordingExecutor struct {
	graphql.GraphExecutor
	get bool

	missingQuery  bool // the request has no query: a request error, not a document error
	queryNotKnown bool // an automatic persisted query the gateway does not know yet
	notForGet     bool // a GET request selects a mutation or subscription
	requestError  bool // execution never started, so the response has no data entry
}

func (e *recordingExecutor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	opCtx, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	// An automatic persisted query sends only its hash; the APQ extension
	// fills in the query when it knows it, and a miss is its own error.
	e.missingQuery = params.Query == "" && params.Extensions["persistedQuery"] == nil
	for _, err := range errs {
		e.queryNotKnown = e.queryNotKnown || err.Extensions["code"] == CodePersistedQueryNotFound
	}
	if !e.get && errs == nil && opCtx.Operation != nil && opCtx.Operation.Operation == ast.Subscription {
		// A plain POST has one response: the event stream is the SSE
		// transport's (subscriptions.go), which saw no text/event-stream.
		return opCtx, gqlerror.List{{
			Message:    "subscriptions need a WebSocket (graphql-transport-ws) or a POST with Accept: text/event-stream (graphql-sse)",
			Extensions: map[string]any{"code": CodeBadRequest},
		}}
	}
	if !e.get || e.missingQuery {
		return opCtx, errs
	}
	var op *ast.OperationDefinition
	if errs == nil {
		op = opCtx.Operation
	} else if doc, err := parser.ParseQuery(&ast.Source{Input: params.Query}); err == nil {
		// An invalid document (say, a mutation the schema does not have)
		// still says which operation it selects.
		op = doc.Operations.ForName(params.OperationName)
	}
	e.notForGet = op != nil && op.Operation != ast.Query
	if e.notForGet && errs == nil {
		// Refused here rather than by gqlgen's GET transport, so that the
		// refusal goes through the error presenter and has no data entry.
		errs = gqlerror.List{{
			Message:    "GET requests only allow query operations: send mutations and subscriptions with POST",
			Extensions: map[string]any{"code": CodeMethodNotAllowed},
		}}
	}
	return opCtx, errs
}

func (e *recordingExecutor) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	e.requestError = true
	for _, err := range list {
		if _, ok := err.Extensions["code"]; !ok {
			errcode.Set(err, CodeBadRequest) // gqlgen's undecodable-body errors
		}
	}
	return e.GraphExecutor.DispatchError(ctx, list)
}

// conformingWriter corrects the status and Content-Type gqlgen's transports
// write, once, when the header is written.
type conformingWriter struct {
	http.ResponseWriter
	mediaType   string
	exec        *recordingExecutor
	wroteHeader bool
}

func (w *conformingWriter) WriteHeader(status int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.wroteHeader = true
	switch {
	case w.exec.missingQuery && status < 500:
		status = http.StatusBadRequest
	case w.exec.notForGet:
		// gqlgen says 406; the method, not the media type, is wrong.
		w.Header().Set("Allow", http.MethodPost)
		status = http.StatusMethodNotAllowed
	case status == http.StatusUnprocessableEntity && w.mediaType == mediaTypeJSON:
		// Under application/json a document that does not parse or
		// validate is a GraphQL error in a 200 response.
		status = http.StatusOK
	}
	if w.exec.get && w.exec.queryNotKnown {
		// The client sends the query next: no cache between may keep the miss.
		w.Header().Set("Cache-Control", "private, no-cache, must-revalidate")
	}
	w.Header().Set("Content-Type", w.mediaType+"; charset=utf-8")
	w.ResponseWriter.WriteHeader(status)
}

func (w *conformingWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.exec.requestError {
		if _, err := w.ResponseWriter.Write(withoutData(b)); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// withoutData drops the "data":null gqlgen writes into every error
// response: a request that failed before execution has no data entry.
func withoutData(body []byte) []byte {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || string(fields["data"]) != "null" {
		return body
	}
	delete(fields, "data")
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *conformingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unsupportedRequest answers every request no other transport took: a POST
// whose body is not declared as JSON, a GET that asks to upgrade, any other
// method.
type unsupportedRequest struct{}

func (unsupportedRequest) Supports(*http.Request) bool { return true }

func (unsupportedRequest) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	switch r.Method {
	case http.MethodPost:
		w.Header().Set("Accept-Post", mediaTypeJSON)
		writeRequestError(w, http.StatusUnsupportedMediaType, "a POST request's Content-Type must be "+mediaTypeJSON)
	case http.MethodGet:
		writeRequestError(w, http.StatusBadRequest, "protocol upgrades are not supported")
	default:
		w.Header().Set("Allow", http.MethodGet+", "+http.MethodPost)
		writeRequestError(w, http.StatusMethodNotAllowed, "GraphQL requests use GET or POST")
	}
}

// writeRequestError answers a request that never reached GraphQL.
func writeRequestError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{{Message: msg, Extensions: map[string]any{"code": CodeBadRequest}}}})
	w.Header().Set("Content-Type", mediaTypeJSON+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// CodeMethodNotAllowed refuses a mutation or subscription sent with GET (405).
const CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"

// overGETKey marks the context of a GET request: its transport refuses
// mutations itself (405), before any write guard need judge them.
type overGETKey struct{}

func overGET(ctx context.Context) bool { v, _ := ctx.Value(overGETKey{}).(bool); return v }
