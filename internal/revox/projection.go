package revox

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// AttemptFields is a set of the fields of an attempt a caller of ListCalls
// reads, one bit per field of CallAttempt in declaration order (the bits
// are derived from its json tags: a field added there has a bit). A page
// read for a few fields is decoded for those alone: the decoder skips the
// others without building them.
type AttemptFields uint64

// AllAttemptFields is every field: a page decoded whole.
const AllAttemptFields AttemptFields = ^AttemptFields(0)

// attemptKeys are the upstream JSON keys of CallAttempt's fields, by bit,
// and attemptFieldByKey the bit of each key.
var attemptKeys, attemptFieldByKey = func() ([]string, map[string]AttemptFields) {
	t := reflect.TypeFor[CallAttempt]()
	if t.NumField() > 64 {
		panic("revox: CallAttempt has more fields than AttemptFields has bits")
	}
	keys := make([]string, t.NumField())
	byKey := make(map[string]AttemptFields, t.NumField())
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if key == "" || key == "-" {
			panic("revox: CallAttempt." + t.Field(i).Name + " has no json key")
		}
		keys[i] = key
		byKey[key] = 1 << i
	}
	return keys, byKey
}()

// everyAttemptField is the bits of the fields CallAttempt has.
var everyAttemptField = AttemptFields(1)<<len(attemptKeys) - 1

// fieldTranscript is the bit of the transcript.
var fieldTranscript = AttemptFieldsOf("transcript")

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

// normal is f restricted to the fields CallAttempt has, zero meaning all.
func (f AttemptFields) normal() AttemptFields {
	if f == 0 {
		return everyAttemptField
	}
	return f & everyAttemptField
}

// variant names a set of fields (normal) in the keys of coalescing and
// the cache; a whole page has the empty name.
func (f AttemptFields) variant() string {
	if f == everyAttemptField {
		return ""
	}
	return "fields=" + strconv.FormatUint(uint64(f), 16)
}

// projection is the Go type a page is decoded into for a set of fields and
// a most number of attempts: a struct with those fields of CallAttempt
// alone (same tags), so that the decoder skips every other key, in an
// array of pointers one longer than the page may hold, so that attempts
// past it are skipped without being built: a decoded attempt takes about
// 1 KB whatever its JSON, and 8 MiB of `{},` decoded into a slice took
// 2.5 GB. In an eager projection the transcript is a plain
// []TranscriptEntry, decoded in the same pass as the rest.
type projection struct {
	page       reflect.Type // struct{ Calls *[n]*elem `json:"calls"` }
	fields     []int        // CallAttempt field index of each elem field, in order
	transcript int          // elem index of an eager transcript, -1 if none
}

type projectionKey struct {
	fields AttemptFields
	eager  bool
	length int // of the array: a power of two above the page size
}

var projections sync.Map // projectionKey -> *projection

var transcriptEntries = reflect.TypeFor[[]TranscriptEntry]()

// projectionOf returns the projection of the fields f for pages of at most
// most attempts.
func projectionOf(f AttemptFields, eager bool, most int) *projection {
	length := 1 // a power of two, so that few array types are made
	for length <= most {
		length *= 2
	}
	key := projectionKey{f, eager, length}
	if p, ok := projections.Load(key); ok {
		return p.(*projection)
	}
	attempt := reflect.TypeFor[CallAttempt]()
	p := &projection{transcript: -1}
	var fields []reflect.StructField
	for i := range attempt.NumField() {
		if f&(1<<i) == 0 {
			continue
		}
		sf := attempt.Field(i)
		if eager && AttemptFields(1)<<i == fieldTranscript {
			sf.Type = transcriptEntries
			p.transcript = len(fields)
		}
		fields = append(fields, sf)
		p.fields = append(p.fields, i)
	}
	elem := reflect.StructOf(fields)
	// A pointer tells a missing or null "calls" from an empty list.
	list := reflect.PointerTo(reflect.ArrayOf(length, reflect.PointerTo(elem)))
	p.page = reflect.StructOf([]reflect.StructField{{Name: "Calls", Type: list, Tag: `json:"calls"`}})
	actual, _ := projections.LoadOrStore(key, p)
	return actual.(*projection)
}

// decodeListPage reads the body of GET /call for the fields f (normal)
// alone: the one list decoder, whatever the caller reads. goccy/go-json
// decodes a 100-attempt page 5x faster than encoding/json with the same
// json.Unmarshaler hooks. Transcripts, when asked for, are decoded in the
// same pass; a transcript that cannot be decoded then costs its attempt's
// transcript only: the page is read again with each transcript decoded on
// its own. A body without a "calls" array is an error, never an empty
// page, and so is one with more than most attempts (nulls at the end of the
// array are not attempts).
//
// BenchmarkDecodeListPage, CPU time per 227 KB page: 0.83 ms whole, 0.40 ms
// without transcripts, 0.16 ms for the ids, 0.25 ms for four fields. Kept
// out by measurement: a reflection-free decoder for whole pages (0.76 ms,
// 8% better) and transcripts decoded on first use (0.76 ms without reading
// them, but 1.79 ms read: the projection without transcripts does better).
func decodeListPage(data []byte, f AttemptFields, most int) ([]CallAttempt, error) {
	return decodePage(data, f, most, decodeJSON)
}

// decodeListPageInPlace is decodeListPage with the strings of the attempts
// referring to data, which must never be modified afterwards and is kept
// alive as long as one of them is. Worth it when the transcripts are
// decoded: their turns are most of a page's bytes, the page's strings
// most of them, and each string decoded is otherwise an allocation and a
// copy (about 60 a 20-attempt page of the sandbox).
func decodeListPageInPlace(data []byte, f AttemptFields, most int) ([]CallAttempt, error) {
	return decodePage(data, f, most, decodeJSONInPlace)
}

func decodePage(data []byte, f AttemptFields, most int, decode func([]byte, any) error) ([]CallAttempt, error) {
	calls, err := decodeProjected(data, projectionOf(f, true, most), most, decode)
	if err != nil && f&fieldTranscript != 0 && !errors.Is(err, errTooManyAttempts) {
		if alone, errAlone := decodeProjected(data, projectionOf(f, false, most), most, decode); errAlone == nil {
			return alone, nil
		}
	}
	return calls, err
}

// errTooManyAttempts is a page holding more attempts than asked for.
var errTooManyAttempts = errors.New("more attempts than the page size")

func decodeProjected(data []byte, p *projection, most int, decode func([]byte, any) error) ([]CallAttempt, error) {
	body := reflect.New(p.page)
	if err := decode(data, body.Interface()); err != nil {
		return nil, err
	}
	list := body.Elem().Field(0)
	if list.IsNil() {
		return nil, fmt.Errorf(`no "calls" array in body`)
	}
	list = list.Elem()
	n := list.Len()
	for n > 0 && list.Index(n-1).IsNil() {
		n--
	}
	if n > most {
		return nil, fmt.Errorf("%w (%d)", errTooManyAttempts, most)
	}
	out := make([]CallAttempt, n)
	var turns []TranscriptEntry
	turnsValue := reflect.ValueOf(&turns).Elem() // read without boxing the slice
	for i := range out {
		src := list.Index(i)
		if src.IsNil() {
			continue // null in the middle: a zero attempt, as before
		}
		src = src.Elem()
		dst := reflect.ValueOf(&out[i]).Elem()
		for j, k := range p.fields {
			if j == p.transcript {
				if turnsValue.Set(src.Field(j)); turns != nil {
					out[i].Transcript = NewTranscript(turns)
				}
				continue
			}
			dst.Field(k).Set(src.Field(j))
		}
		out[i].clean()
	}
	return out, nil
}
