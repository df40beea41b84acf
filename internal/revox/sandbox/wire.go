package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// The wire types below fix the JSON the sandbox serves: field order, which
// keys may be omitted, and which values are emitted as raw JSON so that one
// field can take several forms (timestamps, calls_count, tool_arguments).
// They are deliberately separate from the client's types in package revox:
// the sandbox plays the upstream, and must be able to send what the client
// does not expect.

// attemptJSON is a call attempt as GET /call and GET /call/{id} send it.
type attemptJSON struct {
	ID           string          `json:"id"`
	PhoneNumber  string          `json:"phone_number"`
	Status       string          `json:"status"`
	Result       *string         `json:"result"`
	DialError    *string         `json:"dial_error"`
	StartedAt    json.RawMessage `json:"started_at"`
	AnsweredAt   json.RawMessage `json:"answered_at"`
	EndedAt      json.RawMessage `json:"ended_at"`
	RecordingURL *string         `json:"recording_url"`
	EndedBy      *string         `json:"ended_by"`
	EndReason    *string         `json:"end_reason"`
	// Transcript is omitted when nil: the TypeScript SDK types the key as
	// optional, and some unanswered attempts leave it out.
	Transcript       json.RawMessage `json:"transcript,omitempty"`
	StructuredOutput json.RawMessage `json:"structured_output"`
	// Fields of newer API versions that clients built on the documented model
	// must ignore.
	HandledByAI    *bool    `json:"handled_by_ai,omitempty"`
	HandledByHuman *bool    `json:"handled_by_human,omitempty"`
	AssistantsUsed []string `json:"assistants_used,omitempty"`
}

// turnJSON is one transcript entry; the tool keys only appear on tool turns.
type turnJSON struct {
	Role          string          `json:"role"`
	Content       string          `json:"content"`
	ToolName      string          `json:"tool_name,omitempty"`
	ToolArguments json.RawMessage `json:"tool_arguments,omitempty"`
	ToolIsError   *bool           `json:"tool_is_error,omitempty"`
}

// orderJSON is a call order as GET /call/{id} sends it inside {"call": ...}.
type orderJSON struct {
	ID                   string            `json:"id"`
	Direction            string            `json:"direction"`
	Status               string            `json:"status"`
	Outcome              *string           `json:"outcome"`
	FromPhoneNumber      string            `json:"from_phone_number"`
	ToPhoneNumber        string            `json:"to_phone_number"`
	IsCompleted          bool              `json:"is_completed"`
	IsCancelled          bool              `json:"is_cancelled"`
	CallsCount           json.RawMessage   `json:"calls_count"`
	NextCallAt           json.RawMessage   `json:"next_call_at"`
	ScheduledAt          json.RawMessage   `json:"scheduled_at"`
	CreatedAt            json.RawMessage   `json:"created_at"`
	FirstSentenceDelayMs int               `json:"first_sentence_delay_ms"`
	Metadata             map[string]string `json:"metadata"`
	CallRetryConfig      *retryConfigJSON  `json:"call_retry_config"`
	LlmModel             llmModelJSON      `json:"llm_model"`
	Assistant            *assistantJSON    `json:"assistant"`
	LastCallAttempt      json.RawMessage   `json:"last_call_attempt"`
	CallAttempts         json.RawMessage   `json:"call_attempts"`
}

type retryConfigJSON struct {
	CallingWindows   []callingWindowJSON `json:"calling_windows"`
	MaxRetryAttempts int                 `json:"max_retry_attempts"`
	Timezone         *string             `json:"timezone"`
	AllowedDays      []string            `json:"allowed_days,omitempty"`
	CallTwiceInARow  *bool               `json:"call_twice_in_a_row,omitempty"`
}

type callingWindowJSON struct {
	StartTime         string `json:"calling_window_start_time"`
	EndTime           string `json:"calling_window_end_time"`
	RetryDelaySeconds int    `json:"retry_delay_seconds"`
}

// llmModelJSON covers the four union members; empty fields are omitted so
// that each variant carries only its own keys.
type llmModelJSON struct {
	Type               string `json:"type"`
	Name               string `json:"name,omitempty"`
	OpenrouterModelID  string `json:"openrouter_model_id,omitempty"`
	OpenrouterProvider string `json:"openrouter_provider,omitempty"`
	Provider           string `json:"provider,omitempty"`
	RealtimeModelID    string `json:"realtime_model_id,omitempty"`
	RealtimeVoiceID    string `json:"realtime_voice_id,omitempty"`
}

type assistantJSON struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	BackgroundSound *string `json:"background_sound"`
}

// marshal encodes v without HTML escaping (transcripts contain "&" and the
// real API is not a browser page). The values are built by this package, so
// a failure is a programming error.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("sandbox: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// stampForm is one of the representations the sandbox uses for a set
// timestamp. The API types timestamps as "unknown", so clients must accept
// all of them.
type stampForm uint8

const (
	formRFC3339Millis stampForm = iota // "2026-10-03T14:22:05.123Z"
	formOffset                         // "2026-10-03T16:22:05+02:00", whole seconds
	formEpochMillis                    // 1790000000123
	formEpochSeconds                   // 1790000000
)

// unsetForm is how an unset timestamp is sent: null, or the {} that the
// Stainless-generated docs show for "unknown" fields.
type unsetForm uint8

const (
	unsetNull unsetForm = iota
	unsetEmptyObject
)

var plusTwo = time.FixedZone("+02:00", 2*60*60)

// encodeStamp returns t in form f together with the instant a client will
// read back: forms without a fraction drop the milliseconds, and ordering
// must use what clients see.
func encodeStamp(t time.Time, f stampForm) (time.Time, json.RawMessage) {
	switch f {
	case formOffset:
		t = t.Truncate(time.Second)
		return t, strconv.AppendQuote(nil, t.In(plusTwo).Format(time.RFC3339))
	case formEpochMillis:
		return t, strconv.AppendInt(nil, t.UnixMilli(), 10)
	case formEpochSeconds:
		t = t.Truncate(time.Second)
		return t, strconv.AppendInt(nil, t.Unix(), 10)
	default:
		return t, strconv.AppendQuote(nil, t.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
}

func encodeUnset(f unsetForm) json.RawMessage {
	if f == unsetEmptyObject {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(`null`)
}
