package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// MaxWriteBody is the largest POST body the sandbox reads; a larger one is
// 413. It bounds what a placed order can hold (its metadata).
const MaxWriteBody = 64 << 10

// e164 is the phone number form the API documents ("+1234567890"): a plus,
// a country code not starting with 0, at most 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// createRequest is a validated POST /call body.
type createRequest struct {
	phone           string
	assistantID     string
	inlineAssistant map[string]json.RawMessage // nil when assistant_id is used
	from            string
	scheduledAt     time.Time
	metadata        map[string]string
	promptVariables map[string]string
	concurrencyKey  string
	concurrencyMax  int64
	skipWindow      bool
}

// fieldError is a refused request: its status, the field at fault ("" for
// the body as a whole) and a message that names it.
type fieldError struct {
	status int
	field  string
	msg    string
}

func badField(field, msg string) *fieldError {
	return &fieldError{status: http.StatusBadRequest, field: field, msg: field + ": " + msg}
}

// parseCreate reads and validates a POST /call body the way the API
// documents it. Unknown fields are ignored; null counts as absent.
func parseCreate(w http.ResponseWriter, r *http.Request) (*createRequest, *fieldError) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxWriteBody))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &fieldError{status: http.StatusRequestEntityTooLarge, msg: "body larger than " + strconv.Itoa(MaxWriteBody) + " bytes"}
		}
		return nil, &fieldError{status: http.StatusBadRequest, msg: "body must be a JSON object: " + err.Error()}
	}
	if fields == nil {
		return nil, &fieldError{status: http.StatusBadRequest, msg: "body must be a JSON object, got null"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &fieldError{status: http.StatusBadRequest, msg: "body must hold one JSON object and nothing after it"}
	}
	req := &createRequest{}
	var ferr *fieldError
	str := func(name string, required bool) string {
		raw := present(fields, name)
		if raw == nil {
			if required && ferr == nil {
				ferr = badField(name, "is required")
			}
			return ""
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil && ferr == nil {
			ferr = badField(name, "must be a string")
		}
		return v
	}
	phone := func(name string, required bool) string {
		v := str(name, required)
		if v != "" && !e164.MatchString(v) && ferr == nil {
			ferr = badField(name, "must be an E.164 phone number such as +14155550100, got "+strconv.Quote(v))
		}
		if v == "" && present(fields, name) != nil && ferr == nil {
			ferr = badField(name, "must be an E.164 phone number, got an empty string")
		}
		return v
	}

	req.phone = phone("phone_number", true)
	req.from = phone("from_phone_number", false)
	req.assistantID = str("assistant_id", false)
	if present(fields, "assistant_id") != nil && req.assistantID == "" && ferr == nil {
		ferr = badField("assistant_id", "must not be empty")
	}
	if raw := present(fields, "assistant"); raw != nil {
		if err := json.Unmarshal(raw, &req.inlineAssistant); err != nil || req.inlineAssistant == nil {
			ferr = first(ferr, badField("assistant", "must be an object"))
		} else {
			var prompt string
			if p := present(req.inlineAssistant, "prompt"); p == nil || json.Unmarshal(p, &prompt) != nil || prompt == "" {
				ferr = first(ferr, badField("assistant.prompt", "is required and must be a non-empty string"))
			}
		}
	}
	if (req.assistantID == "") == (req.inlineAssistant == nil) {
		ferr = first(ferr, badField("assistant_id", "send exactly one of assistant_id and assistant"))
	}
	req.metadata = stringMap(fields, "metadata", &ferr)
	req.promptVariables = stringMap(fields, "prompt_variables", &ferr)
	if s := str("scheduled_at", false); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			ferr = first(ferr, badField("scheduled_at", "must be an ISO 8601 date-time with a time zone, such as 2026-12-01T09:30:00Z"))
		}
		req.scheduledAt = t
	}
	if raw := present(fields, "concurrency"); raw != nil {
		var c struct {
			Key *string      `json:"key"`
			Max *json.Number `json:"max"`
		}
		switch err := json.Unmarshal(raw, &c); {
		case err != nil:
			ferr = first(ferr, badField("concurrency", "must be an object {key, max}"))
		case c.Key == nil || *c.Key == "":
			ferr = first(ferr, badField("concurrency.key", "is required and must be a non-empty string"))
		case c.Max == nil:
			ferr = first(ferr, badField("concurrency.max", "is required"))
		default:
			n, err := c.Max.Int64()
			if err != nil || n < 1 {
				ferr = first(ferr, badField("concurrency.max", "must be an integer >= 1, got "+c.Max.String()))
			}
			req.concurrencyKey, req.concurrencyMax = *c.Key, n
		}
	}
	for _, name := range []string{"skip_calling_window", "force_now"} {
		if raw := present(fields, name); raw != nil {
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				ferr = first(ferr, badField(name, "must be a boolean"))
			}
			req.skipWindow = req.skipWindow || b
		}
	}
	if ferr != nil {
		return nil, ferr
	}
	return req, nil
}

// present returns a field's raw value, nil when absent or null.
func present(fields map[string]json.RawMessage, name string) json.RawMessage {
	raw, ok := fields[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	return raw
}

// stringMap reads an object of string values; a value of another type is
// refused naming its key.
func stringMap(fields map[string]json.RawMessage, name string, ferr **fieldError) map[string]string {
	raw := present(fields, name)
	if raw == nil {
		return nil
	}
	var values map[string]json.RawMessage
	if err := json.Unmarshal(raw, &values); err != nil {
		*ferr = first(*ferr, badField(name, "must be an object of string values"))
		return nil
	}
	m := make(map[string]string, len(values))
	for _, k := range slices.Sorted(maps.Keys(values)) {
		v := values[k]
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			*ferr = first(*ferr, badField(name+"."+k, "must be a string, got "+string(bytes.TrimSpace(v))))
			continue
		}
		m[k] = s
	}
	return m
}

// first keeps the first error found, so that the answer names the first
// field at fault in a fixed order.
func first(have, next *fieldError) *fieldError {
	if have != nil {
		return have
	}
	return next
}
