package revox

import (
	"encoding/json"
	"math"
)

// AttemptStatus is the state of one call attempt as the upstream spells it
// ("queued", "ringing", ...). Values the documentation does not list are kept
// verbatim: the API adds enum members without notice.
type AttemptStatus string

// Documented attempt statuses.
const (
	AttemptQueued    AttemptStatus = "queued"
	AttemptRinging   AttemptStatus = "ringing"
	AttemptOngoing   AttemptStatus = "ongoing"
	AttemptCompleted AttemptStatus = "completed"
	AttemptError     AttemptStatus = "error"
)

// CallResult is who or what answered an attempt ("human", "voicemail", "IVR", ...).
type CallResult string

// Documented call results.
const (
	ResultIVR                CallResult = "IVR"
	ResultVoicemail          CallResult = "voicemail"
	ResultHuman              CallResult = "human"
	ResultUnknown            CallResult = "unknown"
	ResultIOSScreeningFilter CallResult = "ios-screening-filter"
)

// DialError is the SIP error that stopped an attempt from connecting.
type DialError string

// Documented dial errors.
const (
	DialNumberNonAttributed    DialError = "number_non_attributed"
	DialTooManyCalls           DialError = "too_many_calls"
	DialBusy                   DialError = "busy"
	DialTemporarilyUnavailable DialError = "temporarily_unavailable"
	DialNoAnswer               DialError = "no_answer"
	DialNoInternationalPermit  DialError = "no_international_permission"
	DialPreconditionFailed     DialError = "precondition_failed"
	DialNonClassifiedError     DialError = "non_classified_error"
)

// EndedBy says which party hung up.
type EndedBy string

// Documented values of EndedBy.
const (
	EndedByAgent  EndedBy = "agent"
	EndedByUser   EndedBy = "user"
	EndedBySystem EndedBy = "system"
)

// Role is the speaker of one transcript turn.
type Role string

// Documented transcript roles.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// OrderStatus is the status of a call order; GET /call filters on it.
type OrderStatus string

// Documented order statuses (the first seven are accepted by the list filter).
const (
	OrderInitializing     OrderStatus = "initializing"
	OrderQueuedForCalling OrderStatus = "queued_for_calling"
	OrderCalling          OrderStatus = "calling"
	OrderScheduled        OrderStatus = "scheduled"
	OrderCompleted        OrderStatus = "completed"
	OrderCancelled        OrderStatus = "cancelled"
	OrderErrored          OrderStatus = "errored"
	OrderPostProcessing   OrderStatus = "post_processing"
	OrderNotLaunched      OrderStatus = "not_launched"
	OrderPaused           OrderStatus = "paused"
)

// Direction says whether the order was placed by us or received.
type Direction string

// Documented directions.
const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// CallAttempt is one dial of a phone number: an item of GET /call and an
// element of a call order's attempts.
type CallAttempt struct {
	ID               string          `json:"id"`
	PhoneNumber      string          `json:"phone_number"`
	Status           AttemptStatus   `json:"status"`
	Result           *CallResult     `json:"result"`
	DialError        *DialError      `json:"dial_error"`
	StartedAt        Time            `json:"started_at"`
	AnsweredAt       Time            `json:"answered_at"`
	EndedAt          Time            `json:"ended_at"`
	RecordingURL     *string         `json:"recording_url"`
	EndReason        *string         `json:"end_reason"`
	EndedBy          *EndedBy        `json:"ended_by"`
	StructuredOutput json.RawMessage `json:"structured_output"`
	// HandledByAI and HandledByHuman say who handled the call: the agent,
	// or a person (jump-in takeover, speed-dial operator).
	HandledByAI    *bool `json:"handled_by_ai"`
	HandledByHuman *bool `json:"handled_by_human"`
	// AssistantsUsed are the assistant nodes the call went through, in order.
	AssistantsUsed []string   `json:"assistants_used"`
	Transcript     Transcript `json:"transcript"`
}

// TranscriptEntry is one turn of a call's transcript. ToolArguments holds the
// upstream JSON verbatim: an object, a string, or null.
type TranscriptEntry struct {
	Role          Role            `json:"role"`
	Content       string          `json:"content"`
	ToolName      *string         `json:"tool_name"`
	ToolArguments json.RawMessage `json:"tool_arguments"`
	ToolIsError   *bool           `json:"tool_is_error"`
}

// CallOrder is what the user asked for: one number to reach, resolved over
// one or more attempts (newest first in CallAttempts).
type CallOrder struct {
	ID                   string           `json:"id"`
	Direction            Direction        `json:"direction"`
	Status               *OrderStatus     `json:"status"`
	Outcome              *string          `json:"outcome"`
	FromPhoneNumber      string           `json:"from_phone_number"`
	ToPhoneNumber        string           `json:"to_phone_number"`
	IsCompleted          bool             `json:"is_completed"`
	IsCancelled          bool             `json:"is_cancelled"`
	CallsCount           Number           `json:"calls_count"`
	NextCallAt           Time             `json:"next_call_at"`
	ScheduledAt          Time             `json:"scheduled_at"`
	CreatedAt            Time             `json:"created_at"`
	FirstSentenceDelayMs *Number          `json:"first_sentence_delay_ms"`
	Metadata             json.RawMessage  `json:"metadata"`
	CallRetryConfig      *CallRetryConfig `json:"call_retry_config"`
	LlmModel             *LlmModel        `json:"llm_model"`
	Assistant            json.RawMessage  `json:"assistant"`
	Assignee             json.RawMessage  `json:"assignee"`
	Campaign             json.RawMessage  `json:"campaign"`
	Contact              json.RawMessage  `json:"contact"`
	LastCallAttempt      *CallAttempt     `json:"last_call_attempt"`
	CallAttempts         []CallAttempt    `json:"call_attempts"`
}

// CallRetryConfig says when and how often an order is retried.
type CallRetryConfig struct {
	CallingWindows   []CallingWindow `json:"calling_windows"`
	MaxRetryAttempts *Number         `json:"max_retry_attempts"`
	Timezone         *string         `json:"timezone"`
	AllowedDays      []string        `json:"allowed_days"`
	CallTwiceInARow  *bool           `json:"call_twice_in_a_row"`
}

// UnmarshalJSON reads both documented shapes: calling_windows, and the
// oldest one, flat, where the one window's fields sit beside
// max_retry_attempts; the flat window becomes the only calling window.
func (c *CallRetryConfig) UnmarshalJSON(b []byte) error {
	type plain CallRetryConfig
	var both struct {
		plain
		CallingWindow
	}
	if err := decodeJSON(b, &both); err != nil {
		return err
	}
	*c = CallRetryConfig(both.plain)
	if c.CallingWindows == nil && both.CallingWindow != (CallingWindow{}) {
		c.CallingWindows = []CallingWindow{both.CallingWindow}
	}
	return nil
}

// CallingWindow is a daily time range in the recipient's timezone.
type CallingWindow struct {
	StartTime         string  `json:"calling_window_start_time"`
	EndTime           string  `json:"calling_window_end_time"`
	RetryDelaySeconds *Number `json:"retry_delay_seconds"`
}

// LlmModel is the union of model configurations, discriminated by Type
// ("dedicated-instance", "openrouter", "realtime", ...); fields that do not
// apply to a variant are nil.
type LlmModel struct {
	Type               string  `json:"type"`
	Name               *string `json:"name"`
	OpenrouterModelID  *string `json:"openrouter_model_id"`
	OpenrouterProvider *string `json:"openrouter_provider"`
	Provider           *string `json:"provider"`
	RealtimeModelID    *string `json:"realtime_model_id"`
	RealtimeVoiceID    *string `json:"realtime_voice_id"`
}

// Number is a JSON number the API documents as "number" (Ruby: Float) where
// the domain only has integers. It accepts 3 and 3.0 alike, and a numeric
// string; anything else decodes to 0 with a logged warning.
type Number float64

// Int returns the number rounded to the nearest integer, clamped to the int range.
func (n Number) Int() int {
	f := math.Round(float64(n))
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt
	case f <= math.MinInt64:
		return math.MinInt
	}
	return int(f)
}

// ListCallsResponse is the body of GET /call.
type listCallsResponse struct {
	Calls []CallAttempt `json:"calls"`
}

// getCallResponse is the body of GET /call/{id}.
type getCallResponse struct {
	Call *CallOrder `json:"call"`
}
