package model

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
)

func ptr[T any](v T) *T { return &v }

func TestCreateCallInputParams(t *testing.T) {
	t.Parallel()
	valid := func() CreateCallInput {
		return CreateCallInput{PhoneNumber: "+14155550123", AssistantID: ptr("asst_1")}
	}
	bad := []struct {
		name, field string
		edit        func(*CreateCallInput)
	}{
		{"a number without +", "input.phoneNumber", func(in *CreateCallInput) { in.PhoneNumber = "14155550123" }},
		{"a number with a country code 0", "input.phoneNumber", func(in *CreateCallInput) { in.PhoneNumber = "+0123456" }},
		{"a number of 16 digits", "input.phoneNumber", func(in *CreateCallInput) { in.PhoneNumber = "+1234567890123456" }},
		{"a number with spaces", "input.phoneNumber", func(in *CreateCallInput) { in.PhoneNumber = "+1 415 555 0123" }},
		{"both assistant sources", "input.assistantId", func(in *CreateCallInput) { in.Assistant = json.RawMessage(`{"prompt":"hi"}`) }},
		{"neither assistant source", "input.assistantId", func(in *CreateCallInput) { in.AssistantID = nil }},
		{"neither, with a null assistant", "input.assistantId", func(in *CreateCallInput) { in.AssistantID, in.Assistant = nil, json.RawMessage(`null`) }},
		{"an empty assistant id", "input.assistantId", func(in *CreateCallInput) { in.AssistantID = ptr("") }},
		{"an inline assistant that is a list", "input.assistant", func(in *CreateCallInput) { in.AssistantID, in.Assistant = nil, json.RawMessage(`["prompt"]`) }},
		{"an inline assistant without prompt", "input.assistant", func(in *CreateCallInput) { in.AssistantID, in.Assistant = nil, json.RawMessage(`{"voice":"x"}`) }},
		{"a bad caller id", "input.fromPhoneNumber", func(in *CreateCallInput) { in.FromPhoneNumber = ptr("555-0100") }},
		{"metadata with a number value", "input.metadata", func(in *CreateCallInput) { in.Metadata = json.RawMessage(`{"lead":"a","score":3}`) }},
		{"metadata that is a string", "input.metadata", func(in *CreateCallInput) { in.Metadata = json.RawMessage(`"lead"`) }},
		{"metadata using the gateway's key", "input.metadata", func(in *CreateCallInput) {
			in.Metadata = json.RawMessage(`{"gateway_idempotency_key":"x"}`)
		}},
		{"prompt variables with a nested object", "input.promptVariables", func(in *CreateCallInput) { in.PromptVariables = json.RawMessage(`{"name":{"first":"Ada"}}`) }},
		{"concurrency max 0", "input.concurrency.max", func(in *CreateCallInput) { in.Concurrency = &ConcurrencyInput{Key: "team", Max: 0} }},
		{"concurrency without key", "input.concurrency.key", func(in *CreateCallInput) { in.Concurrency = &ConcurrencyInput{Max: 2} }},
		{"an empty idempotency key", "idempotencyKey", func(in *CreateCallInput) { in.IdempotencyKey = ptr("") }},
		{"an idempotency key with a newline", "idempotencyKey", func(in *CreateCallInput) { in.IdempotencyKey = ptr("a\nb") }},
		{"an idempotency key of 256 bytes", "idempotencyKey", func(in *CreateCallInput) { in.IdempotencyKey = ptr(strings.Repeat("k", 256)) }},
	}
	for _, tc := range bad {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			tc.edit(&in)
			_, err := in.Params()
			var ie *InputError
			if !errors.As(err, &ie) || ie.Argument != tc.field {
				t.Fatalf("got %v, want an input error on %s", err, tc.field)
			}
		})
	}

	t.Run("converts a full input to the upstream's body", func(t *testing.T) {
		t.Parallel()
		at := revox.Time{Time: time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("CET", 3600))}
		in := CreateCallInput{
			PhoneNumber: "+33612345678", Assistant: json.RawMessage(`{"prompt":"Remind Ada of her appointment"}`),
			FromPhoneNumber: ptr("+14155550100"), ScheduledAt: &at,
			Metadata: json.RawMessage(`{"lead":"42"}`), PromptVariables: json.RawMessage(`{"name":"Ada"}`),
			Concurrency: &ConcurrencyInput{Key: "team", Max: 3}, SkipCallingWindow: ptr(true),
			IdempotencyKey: ptr(strings.Repeat("k", 255)),
		}
		p, err := in.Params()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(p)
		want := `{"phone_number":"+33612345678","assistant":{"prompt":"Remind Ada of her appointment"},"from_phone_number":"+14155550100","scheduled_at":"2026-12-02T08:30:00Z","metadata":{"lead":"42"},"prompt_variables":{"name":"Ada"},"concurrency":{"key":"team","max":3},"skip_calling_window":true}`
		if string(body) != want {
			t.Fatalf("body\n got %s\nwant %s", body, want)
		}
	})
	t.Run("omits what was not given", func(t *testing.T) {
		t.Parallel()
		in := valid()
		in.Metadata = json.RawMessage(`null`)
		p, err := in.Params()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(p)
		if string(body) != `{"phone_number":"+14155550123","assistant_id":"asst_1"}` {
			t.Fatalf("body %s", body)
		}
	})
}
