package revox

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// AttemptFields is a set of the fields of an attempt a caller of ListCalls
// reads. A list page read for a few fields is decoded for those alone: the
// decoder skips the others without building them (BenchmarkDecodeListPage,
// 227 KB page: 1.05 ms eager, 0.72 ms without transcripts, 0.27 ms for the
// ids alone, 0.35-0.41 ms for four fields).
type AttemptFields uint16

// The fields of CallAttempt, by the JSON key they are decoded from.
const (
	FieldID AttemptFields = 1 << iota
	FieldPhoneNumber
	FieldStatus
	FieldResult
	FieldDialError
	FieldStartedAt
	FieldAnsweredAt
	FieldEndedAt
	FieldRecordingURL
	FieldEndReason
	FieldEndedBy
	FieldStructuredOutput
	FieldTranscript

	// AllAttemptFields is every field: a page decoded whole.
	AllAttemptFields AttemptFields = 1<<iota - 1
)

// attemptFieldOf maps the Go fields of CallAttempt to their bit.
var attemptFieldOf = map[string]AttemptFields{
	"ID":               FieldID,
	"PhoneNumber":      FieldPhoneNumber,
	"Status":           FieldStatus,
	"Result":           FieldResult,
	"DialError":        FieldDialError,
	"StartedAt":        FieldStartedAt,
	"AnsweredAt":       FieldAnsweredAt,
	"EndedAt":          FieldEndedAt,
	"RecordingURL":     FieldRecordingURL,
	"EndReason":        FieldEndReason,
	"EndedBy":          FieldEndedBy,
	"StructuredOutput": FieldStructuredOutput,
	"Transcript":       FieldTranscript,
}

// AttemptFieldsOf is the set of attempt fields decoded from the given
// upstream JSON keys (the json tags of CallAttempt). It panics on a key
// CallAttempt does not have: callers pass keys generated from the schema
// and gqlgen.yml at package initialisation, so a mismatch fails at start.
func AttemptFieldsOf(keys ...string) AttemptFields {
	var f AttemptFields
	for _, k := range keys {
		bit, ok := attemptFieldByKey[k]
		if !ok {
			panic("revox: CallAttempt has no field with JSON key " + strconv.Quote(k))
		}
		f |= bit
	}
	return f
}

// attemptFieldByKey maps the JSON keys of CallAttempt to their bit.
var attemptFieldByKey = func() map[string]AttemptFields {
	m := make(map[string]AttemptFields, len(attemptFieldOf))
	t := reflect.TypeFor[CallAttempt]()
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if bit, ok := attemptFieldOf[sf.Name]; ok && key != "" {
			m[key] = bit
		}
	}
	return m
}()

type attemptFieldsKey struct{}

// WithAttemptFields tells ListCalls that the caller reads only these fields
// of the attempts: the others are left zero. Pages are shared (coalescing,
// cache) only between callers that asked for the same fields. Without it,
// or when the transcript is among them, pages are decoded whole.
func WithAttemptFields(ctx context.Context, f AttemptFields) context.Context {
	return context.WithValue(ctx, attemptFieldsKey{}, f)
}

// projectedFields is the fields ctx asks for, and whether the page is to be
// decoded for those alone.
func projectedFields(ctx context.Context) (AttemptFields, bool) {
	f, ok := ctx.Value(attemptFieldsKey{}).(AttemptFields)
	if !ok || f&FieldTranscript != 0 || f&AllAttemptFields == AllAttemptFields {
		return AllAttemptFields, false
	}
	return f & AllAttemptFields, true
}

// variant names a projection in the keys of coalescing and the cache.
func (f AttemptFields) variant() string { return "fields=" + strconv.FormatUint(uint64(f), 16) }

// projection is the Go type a page is decoded into for a set of fields: a
// struct with those fields of CallAttempt alone (same types, same tags), so
// that the decoder skips every other key.
type projection struct {
	page   reflect.Type // struct{ Calls []elem `json:"calls"` }
	fields []int        // CallAttempt field index of each elem field, in order
}

var projections sync.Map // AttemptFields -> *projection

func projectionOf(f AttemptFields) *projection {
	if p, ok := projections.Load(f); ok {
		return p.(*projection)
	}
	attempt := reflect.TypeFor[CallAttempt]()
	var (
		fields []reflect.StructField
		index  []int
	)
	for i := range attempt.NumField() {
		sf := attempt.Field(i)
		if f&attemptFieldOf[sf.Name] != 0 {
			fields = append(fields, sf)
			index = append(index, i)
		}
	}
	elem := reflect.StructOf(fields)
	page := reflect.StructOf([]reflect.StructField{{Name: "Calls", Type: reflect.SliceOf(elem), Tag: `json:"calls"`}})
	p, _ := projections.LoadOrStore(f, &projection{page: page, fields: index})
	return p.(*projection)
}

// decodeListPageFields reads the body of GET /call for the fields f alone.
func decodeListPageFields(data []byte, f AttemptFields) ([]CallAttempt, error) {
	p := projectionOf(f)
	body := reflect.New(p.page)
	if err := decodeJSON(data, body.Interface()); err != nil {
		return nil, err
	}
	calls := body.Elem().Field(0)
	out := make([]CallAttempt, calls.Len())
	for i := range out {
		src, dst := calls.Index(i), reflect.ValueOf(&out[i]).Elem()
		for j, k := range p.fields {
			dst.Field(k).Set(src.Field(j))
		}
	}
	return out, nil
}
