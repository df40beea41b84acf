package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// jsonPOST is gqlgen's transport.POST with one change: the response is
// written without passing its data through encoding/json again. gqlgen
// marshals a *graphql.Response with json.Marshal, which re-validates and
// compacts the data the executor already wrote as compact JSON: 13% of the
// CPU of a 20-attempt page with transcripts (BenchmarkGatewayFull, pprof).
// Request decoding, statuses and bodies are gqlgen's own.
type jsonPOST struct{}

// postTransport is gqlgen's POST, whose request matching jsonPOST keeps.
var postTransport = transport.POST{}

var _ graphql.Transport = jsonPOST{}

// Supports takes what gqlgen's POST takes: a JSON POST that is no upgrade.
func (jsonPOST) Supports(r *http.Request) bool {
	return postTransport.Supports(r)
}

// Do decodes, executes and answers one POST request.
func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	// overHTTP has negotiated Accept down to the one media type to answer.
	graphQLResponse := r.Header.Get("Accept") == mediaTypeGraphQLResponse
	if graphQLResponse {
		w.Header().Set("Content-Type", mediaTypeGraphQLResponse)
	} else {
		w.Header().Set("Content-Type", mediaTypeJSON)
	}
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %v; the body starts %s", err, quotePrefix(body))}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	opCtx, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if graphQLResponse {
				status = http.StatusBadRequest
				if hasCode(opErr, CodeForbidden) {
					status = http.StatusForbidden
				}
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, responses(ctx))
}

// writeResponse writes resp as encoding/json would (same keys, same order,
// same omissions), but copies Data as it is: the executor produced it.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if len(resp.Errors) == 0 && len(resp.Data) > 0 && resp.Label == "" && len(resp.Path) == 0 && resp.HasNext == nil && len(resp.Extensions) == 0 {
		// The common case, written without copying the data (a response
		// with errors is written in one piece: conformingWriter may rewrite
		// it).
		_, _ = io.WriteString(w, `{"data":`)
		_, _ = w.Write(resp.Data)
		_, _ = io.WriteString(w, "}")
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(resp.Data) + 128)
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			errs = []byte(`[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]`)
		}
		buf.WriteString(`"errors":`)
		buf.Write(errs)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		buf.WriteString("null")
	} else {
		buf.Write(resp.Data)
	}
	if resp.Label == "" && len(resp.Path) == 0 && resp.HasNext == nil && len(resp.Extensions) == 0 {
		buf.WriteByte('}')
		_, _ = w.Write(buf.Bytes())
		return
	}
	rest, err := json.Marshal(struct {
		Label      string         `json:"label,omitempty"`
		Path       any            `json:"path,omitempty"`
		HasNext    *bool          `json:"hasNext,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Label, nilIfEmpty(resp.Path), resp.HasNext, resp.Extensions})
	if err == nil && len(rest) > 2 {
		buf.WriteByte(',')
		buf.Write(rest[1 : len(rest)-1])
	}
	buf.WriteByte('}')
	_, _ = w.Write(buf.Bytes())
}

func nilIfEmpty[T any](s []T) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

// hasCode reports whether one of errs has extensions.code code.
func hasCode(errs gqlerror.List, code string) bool {
	for _, e := range errs {
		if c, _ := e.Extensions["code"].(string); c == code {
			return true
		}
	}
	return false
}

// maxQuotedBody is how much of a malformed body an error message quotes.
const maxQuotedBody = 64

// quotePrefix quotes the start of a body for an error message: a large
// body is not echoed back whole.
func quotePrefix(body []byte) string {
	if len(body) <= maxQuotedBody {
		return strconv.Quote(string(body))
	}
	return strconv.Quote(string(body[:maxQuotedBody])) + "…"
}
