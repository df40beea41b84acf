package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
)

func TestAttemptFieldsMatchUpstream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	up, err := e.upstream.ListCalls(t.Context(), revox.ListCallsOptions{Page: 0, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	type attempt struct {
		ID               string          `json:"id"`
		PhoneNumber      string          `json:"phoneNumber"`
		Status           string          `json:"status"`
		StatusRaw        string          `json:"statusRaw"`
		Result           *string         `json:"result"`
		ResultRaw        *string         `json:"resultRaw"`
		DialError        *string         `json:"dialError"`
		DialErrorRaw     *string         `json:"dialErrorRaw"`
		StartedAt        *string         `json:"startedAt"`
		AnsweredAt       *string         `json:"answeredAt"`
		EndedAt          *string         `json:"endedAt"`
		DurationSeconds  *float64        `json:"durationSeconds"`
		RecordingURL     *string         `json:"recordingUrl"`
		EndReason        *string         `json:"endReason"`
		EndedBy          *string         `json:"endedBy"`
		EndedByRaw       *string         `json:"endedByRaw"`
		StructuredOutput json.RawMessage `json:"structuredOutput"`
		TranscriptLength int             `json:"transcriptLength"`
		Transcript       []struct {
			Role          string          `json:"role"`
			RoleRaw       string          `json:"roleRaw"`
			Content       string          `json:"content"`
			ToolName      *string         `json:"toolName"`
			ToolArguments json.RawMessage `json:"toolArguments"`
			ToolIsError   *bool           `json:"toolIsError"`
		} `json:"transcript"`
	}
	var got []attempt
	for page := 0; page*100 < len(up); page++ {
		var data struct {
			Calls struct{ Nodes []attempt } `json:"calls"`
		}
		e.do(t, `query($p: Int) { calls(page: $p, pageSize: 100) { nodes {
		    id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
		    startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
		    structuredOutput transcriptLength
		    transcript { role roleRaw content toolName toolArguments toolIsError } } } }`,
			map[string]any{"p": page}).ok(t, &data)
		got = append(got, data.Calls.Nodes...)
	}
	if len(got) != len(up) {
		t.Fatalf("%d attempts through GraphQL, %d upstream", len(got), len(up))
	}
	member := func(raw string, known ...string) string {
		if slices.Contains(known, raw) {
			return strings.ToUpper(strings.ReplaceAll(raw, "-", "_"))
		}
		return "OTHER"
	}
	optMember := func(raw *string, known ...string) *string {
		if raw == nil {
			return nil
		}
		m := member(*raw, known...)
		return &m
	}
	ts := func(tm revox.Time) *string {
		if tm.IsZero() {
			return nil
		}
		s := tm.UTC().Format(time.RFC3339Nano)
		return &s
	}
	eq := func(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	sawOther := false
	for i, g := range got {
		u := up[i]
		ctx := fmt.Sprintf("attempt %d (%s)", i, u.ID)
		if g.ID != u.ID || g.PhoneNumber != u.PhoneNumber || g.StatusRaw != string(u.Status) {
			t.Fatalf("%s: id/phone/statusRaw differ: %+v", ctx, g)
		}
		if want := member(string(u.Status), "queued", "ringing", "ongoing", "completed", "error"); g.Status != want {
			t.Fatalf("%s: status %s, want %s", ctx, g.Status, want)
		}
		sawOther = sawOther || g.Status == "OTHER" || (g.Result != nil && *g.Result == "OTHER") || (g.DialError != nil && *g.DialError == "OTHER")
		if !eq(g.Result, optMember((*string)(u.Result), "IVR", "voicemail", "human", "unknown", "ios-screening-filter")) || !eq(g.ResultRaw, (*string)(u.Result)) {
			t.Fatalf("%s: result %v/%v", ctx, g.Result, g.ResultRaw)
		}
		if !eq(g.DialError, optMember((*string)(u.DialError), "number_non_attributed", "too_many_calls", "busy", "temporarily_unavailable", "no_answer", "no_international_permission", "precondition_failed", "non_classified_error")) || !eq(g.DialErrorRaw, (*string)(u.DialError)) {
			t.Fatalf("%s: dialError %v/%v", ctx, g.DialError, g.DialErrorRaw)
		}
		if !eq(g.EndedBy, optMember((*string)(u.EndedBy), "agent", "user", "system")) || !eq(g.EndedByRaw, (*string)(u.EndedBy)) {
			t.Fatalf("%s: endedBy %v", ctx, g.EndedBy)
		}
		for _, p := range []struct {
			name string
			got  *string
			want revox.Time
		}{{"startedAt", g.StartedAt, u.StartedAt}, {"answeredAt", g.AnsweredAt, u.AnsweredAt}, {"endedAt", g.EndedAt, u.EndedAt}} {
			if !eq(p.got, ts(p.want)) {
				t.Fatalf("%s: %s = %v, want %v", ctx, p.name, p.got, ts(p.want))
			}
			if p.got != nil && !strings.HasSuffix(*p.got, "Z") {
				t.Fatalf("%s: %s %s is not UTC", ctx, p.name, *p.got)
			}
		}
		if (g.DurationSeconds != nil) != (!u.AnsweredAt.IsZero() && !u.EndedAt.IsZero()) {
			t.Fatalf("%s: durationSeconds = %v", ctx, g.DurationSeconds)
		}
		if !eq(g.RecordingURL, u.RecordingURL) || !eq(g.EndReason, u.EndReason) {
			t.Fatalf("%s: recordingUrl/endReason differ", ctx)
		}
		if !jsonEqual(g.StructuredOutput, u.StructuredOutput) {
			t.Fatalf("%s: structuredOutput %s, upstream %s", ctx, g.StructuredOutput, u.StructuredOutput)
		}
		uturns, err := u.Transcript.Turns()
		if err != nil {
			t.Fatalf("%s: upstream transcript: %v", ctx, err)
		}
		if (g.Transcript == nil) != !u.Transcript.Present() || len(g.Transcript) != len(uturns) || g.TranscriptLength != len(uturns) {
			t.Fatalf("%s: transcript has %d turns, upstream %d", ctx, len(g.Transcript), len(uturns))
		}
		for j, turn := range g.Transcript {
			ut := uturns[j]
			if turn.RoleRaw != string(ut.Role) || turn.Role != member(string(ut.Role), "user", "assistant", "tool") || turn.Content != ut.Content ||
				!eq(turn.ToolName, ut.ToolName) || !jsonEqual(turn.ToolArguments, ut.ToolArguments) {
				t.Fatalf("%s: turn %d differs: %+v", ctx, j, turn)
			}
			if (turn.ToolIsError == nil) != (ut.ToolIsError == nil) || (turn.ToolIsError != nil && *turn.ToolIsError != *ut.ToolIsError) {
				t.Fatalf("%s: turn %d toolIsError differs", ctx, j)
			}
		}
	}
	if !sawOther {
		t.Fatal("the sandbox serves no undocumented enum value, so the OTHER fallback went untested")
	}
}

// jsonEqual compares two JSON values, treating absent and null alike.
func jsonEqual(a, b json.RawMessage) bool {
	norm := func(r json.RawMessage) any {
		if len(r) == 0 {
			return nil
		}
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return err.Error()
		}
		return v
	}
	x, _ := json.Marshal(norm(a))
	y, _ := json.Marshal(norm(b))
	return bytes.Equal(x, y)
}

func TestGoldenResponses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := orderWithAttempts(t, e, 2)
	cases := map[string]string{
		"calls_every_field": `{ calls(first: 4, statuses: [COMPLETED, CALLING]) {
		    edges { cursor node { ...every } }
		    nodes { id }
		    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
		  fragment every on CallAttempt {
		    id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
		    startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
		    structuredOutput transcriptLength
		    transcript { role roleRaw content toolName toolArguments toolIsError } }`,
		"call_every_field": fmt.Sprintf(`{ call(id: %q) {
		    id status statusRaw outcome direction directionRaw fromPhoneNumber toPhoneNumber
		    isCompleted isCancelled callsCount nextCallAt scheduledAt createdAt firstSentenceDelayMs
		    metadata assistant
		    callRetryConfig { callingWindows { startTime endTime retryDelaySeconds } maxRetryAttempts timezone allowedDays callTwiceInARow }
		    llmModel { type name openrouterModelId openrouterProvider provider realtimeModelId realtimeVoiceId }
		    lastCallAttempt { id status }
		    callAttempts { id status startedAt transcript(roles: [TOOL]) { toolName toolArguments } } } }`, order),
		"transcript_slices": `{ calls(first: 3, statuses: [COMPLETED]) { nodes { id
		    all: transcriptLength
		    firstTwo: transcript(first: 2) { role content }
		    lastUser: transcript(roles: [USER], last: 1) { role content }
		    tools: transcript(roles: [TOOL]) { toolName toolArguments toolIsError } } } }`,
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := e.do(t, q, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %s", r.raw)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, r.raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/gateway -run Golden -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("response differs from %s:\n%s", path, pretty.Bytes())
			}
		})
	}
}

// An upstream transcript the gateway cannot read costs that attempt's
// transcript field an error, not the page: transcripts are decoded only
// when selected.
func TestAnUnreadableTranscriptCostsOnlyItsField(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"calls": [
		  {"id": "a1", "phone_number": "+1", "status": "completed", "transcript": [{"role": "user", "content": "hello"}]},
		  {"id": "a2", "phone_number": "+2", "status": "completed", "transcript": [{"role": "user", "content": {"not": "text"}}]},
		  {"id": "a3", "phone_number": "+3", "status": "queued", "transcript": null}]}`)
	}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, "sk_test")
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()}))
	t.Cleanup(gql.Close)

	r := post(t, gql.URL, `{ calls(first: 3) { nodes { id phoneNumber } } }`, nil)
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"a2"`) {
		t.Fatalf("ids only: %s", r.raw)
	}
	r = post(t, gql.URL, `{ calls(first: 3) { nodes { id transcript { content } } } }`, nil)
	want := `{"calls":{"nodes":[{"id":"a1","transcript":[{"content":"hello"}]},{"id":"a2","transcript":null},{"id":"a3","transcript":null}]}}`
	if string(r.Data) != want {
		t.Fatalf("data = %s, want %s", r.Data, want)
	}
	if !slices.Equal(r.codes(), []string{gateway.CodeUpstreamBadResponse}) || fmt.Sprint(r.Errors[0].Path) != "[calls nodes 1 transcript]" {
		t.Fatalf("errors: %s", r.raw)
	}
}

// hintRecorder is an upstream of 100 attempts that records, for each page
// asked, whether the caller asked for the transcripts.
type hintRecorder struct {
	mu     sync.Mutex
	wanted []bool
	starts []int // offset of the first attempt of each page
}

// byOffset returns wanted in the order of the pages' offsets: pages are
// asked concurrently, so the order they arrive in means nothing.
func (h *hintRecorder) byOffset() []bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	idx := make([]int, len(h.wanted))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return h.starts[a] - h.starts[b] })
	out := make([]bool, len(idx))
	for i, j := range idx {
		out[i] = h.wanted[j]
	}
	return out
}

func (h *hintRecorder) ListCalls(ctx context.Context, opts revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	h.mu.Lock()
	h.wanted = append(h.wanted, opts.Fields == 0 || opts.Fields&revox.AttemptFieldsOf("transcript") != 0)
	h.starts = append(h.starts, opts.Page*opts.PageSize)
	h.mu.Unlock()
	var page []revox.CallAttempt
	for i := opts.Page * opts.PageSize; i < min((opts.Page+1)*opts.PageSize, 100); i++ {
		page = append(page, revox.CallAttempt{ID: fmt.Sprintf("a%d", i), Status: revox.AttemptCompleted, Transcript: revox.NewTranscript(nil)})
	}
	return page, nil
}

func (h *hintRecorder) GetCall(context.Context, string, revox.GetCallOptions) (*revox.CallOrder, error) {
	return nil, &revox.APIError{StatusCode: http.StatusNotFound, Method: http.MethodGet, Path: "/call/x", Message: "not found"}
}

// Pages are decoded without their transcripts exactly when the request
// selects no transcript field of their attempts.
func TestPagesSkipTranscriptsOnlyWhenNoneIsSelected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query string
		want  []bool // one per upstream page, in the order of their offsets
	}{
		{`{ calls(first: 1) { nodes { id status } pageInfo { hasNextPage } } }`, []bool{false}},
		{`{ calls(first: 1) { edges { cursor node { id } } } }`, []bool{false}},
		{`{ calls(first: 1) { nodes { id transcript { content } } } }`, []bool{true}},
		{`{ calls(first: 1) { edges { node { ...F } } } } fragment F on CallAttempt { transcriptLength }`, []bool{true}},
		{`{ calls(first: 1) { e: edges { n: node { ... on CallAttempt { t: transcript(last: 1) { role } } } } } }`, []bool{true}},
		{`query($skip: Boolean!) { calls(first: 1) { nodes { id transcript @skip(if: $skip) { content } } } }`, []bool{false}},
		// The look-ahead for hasNextPage is one attempt, decoded like the
		// page: its attempt may serve as data too, and one transcript
		// costs little.
		{`{ calls(page: 1, pageSize: 10) { nodes { transcript { content } } pageInfo { hasNextPage } } }`, []bool{true, true}},
	} {
		rec := &hintRecorder{}
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: rec, Logger: quietLogger()}))
		r := post(t, gql.URL, tc.query, map[string]any{"skip": true})
		gql.Close()
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", tc.query, r.raw)
		}
		if got := rec.byOffset(); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: transcripts wanted %v, want %v", tc.query, got, tc.want)
		}
	}
}
