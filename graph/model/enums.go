package model

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/revox-graphql/gateway/internal/revox"
)

// Other is the member every enum answers for an upstream value the schema
// does not list; the field's ...Raw sibling keeps the upstream's spelling.
const Other = "OTHER"

// enumCodec maps an upstream enum's spellings to GraphQL member names
// (UPPER_SNAKE: "ios-screening-filter" is IOS_SCREENING_FILTER) and back.
type enumCodec struct {
	name     string
	out      map[string]graphql.Marshaler // upstream spelling -> quoted member
	outBytes map[string][]byte            // the same quoted members, for appending
	in       map[string]string            // member -> upstream spelling
	other    graphql.Marshaler
	members  []string
}

func newEnumCodec(name string, upstream ...string) *enumCodec {
	c := &enumCodec{
		name:     name,
		out:      make(map[string]graphql.Marshaler, len(upstream)),
		outBytes: make(map[string][]byte, len(upstream)),
		in:       make(map[string]string, len(upstream)),
		other:    quoted(Other),
	}
	for _, raw := range upstream {
		member := strings.ToUpper(strings.ReplaceAll(raw, "-", "_"))
		c.out[raw] = quoted(member)
		c.outBytes[raw] = []byte(strconv.Quote(member))
		c.in[member] = raw
		c.members = append(c.members, member)
	}
	return c
}

func quoted(member string) graphql.Marshaler {
	b := []byte(strconv.Quote(member))
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(b) })
}

// marshal answers the member for an upstream value, OTHER when unlisted.
func (c *enumCodec) marshal(raw string) graphql.Marshaler {
	if m, ok := c.out[raw]; ok {
		return m
	}
	return c.other
}

// unmarshal reads a member into its upstream spelling. OTHER stands for
// values the schema does not know, so it cannot be sent upstream.
// appendTo appends what marshal writes.
func (c *enumCodec) appendTo(b []byte, raw string) []byte {
	if q, ok := c.outBytes[raw]; ok {
		return append(b, q...)
	}
	return append(b, `"`+Other+`"`...)
}

func (c *enumCodec) unmarshal(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &InputError{Message: fmt.Sprintf("%s must be an enum value, got %T", c.name, v)}
	}
	raw, ok := c.in[s]
	if !ok {
		if s == Other {
			return "", &InputError{Message: fmt.Sprintf("%s.OTHER cannot be used as input", c.name)}
		}
		return "", &InputError{Message: fmt.Sprintf("%q is not a %s", s, c.name)}
	}
	return raw, nil
}

var (
	attemptStatusCodec = newEnumCodec("CallAttemptStatus",
		string(revox.AttemptQueued), string(revox.AttemptRinging), string(revox.AttemptOngoing),
		string(revox.AttemptCompleted), string(revox.AttemptError))
	resultCodec = newEnumCodec("CallResult",
		string(revox.ResultIVR), string(revox.ResultVoicemail), string(revox.ResultHuman),
		string(revox.ResultUnknown), string(revox.ResultIOSScreeningFilter))
	dialErrorCodec = newEnumCodec("DialError",
		string(revox.DialNumberNonAttributed), string(revox.DialTooManyCalls), string(revox.DialBusy),
		string(revox.DialTemporarilyUnavailable), string(revox.DialNoAnswer),
		string(revox.DialNoInternationalPermit), string(revox.DialPreconditionFailed),
		string(revox.DialNonClassifiedError))
	endedByCodec = newEnumCodec("EndedBy",
		string(revox.EndedByAgent), string(revox.EndedByUser), string(revox.EndedBySystem))
	roleCodec = newEnumCodec("TranscriptRole",
		string(revox.RoleUser), string(revox.RoleAssistant), string(revox.RoleTool))
	orderStatusCodec = newEnumCodec("CallStatus",
		string(revox.OrderInitializing), string(revox.OrderQueuedForCalling), string(revox.OrderCalling),
		string(revox.OrderScheduled), string(revox.OrderCompleted), string(revox.OrderCancelled),
		string(revox.OrderErrored), string(revox.OrderPostProcessing), string(revox.OrderNotLaunched),
		string(revox.OrderPaused))
	directionCodec = newEnumCodec("CallDirection",
		string(revox.DirectionOutbound), string(revox.DirectionInbound))
)

// statusFilterCodec is CallStatusFilter: the order statuses GET /call
// documents for its statuses filter, a type of their own in the schema so
// that no other value can be sent.
var statusFilterCodec = newEnumCodec("CallStatusFilter",
	string(revox.OrderInitializing), string(revox.OrderQueuedForCalling), string(revox.OrderCalling),
	string(revox.OrderScheduled), string(revox.OrderCompleted), string(revox.OrderCancelled),
	string(revox.OrderErrored))

// FilterableStatuses are the members of CallStatusFilter, by upstream value.
var FilterableStatuses = func() map[revox.OrderStatus]bool {
	m := make(map[revox.OrderStatus]bool, len(statusFilterCodec.in))
	for _, raw := range statusFilterCodec.in {
		m[revox.OrderStatus(raw)] = true
	}
	return m
}()

// MarshalCallStatusFilter writes a filter status as its enum member.
func MarshalCallStatusFilter(v revox.OrderStatus) graphql.Marshaler {
	return statusFilterCodec.marshal(string(v))
}

// UnmarshalCallStatusFilter reads a filter status member.
func UnmarshalCallStatusFilter(v any) (revox.OrderStatus, error) {
	s, err := statusFilterCodec.unmarshal(v)
	return revox.OrderStatus(s), err
}

// MarshalCallAttemptStatus writes an attempt status as its enum member.
func MarshalCallAttemptStatus(v revox.AttemptStatus) graphql.Marshaler {
	return attemptStatusCodec.marshal(string(v))
}

// UnmarshalCallAttemptStatus reads an attempt status member.
func UnmarshalCallAttemptStatus(v any) (revox.AttemptStatus, error) {
	s, err := attemptStatusCodec.unmarshal(v)
	return revox.AttemptStatus(s), err
}

// MarshalCallResult writes a call result as its enum member.
func MarshalCallResult(v revox.CallResult) graphql.Marshaler { return resultCodec.marshal(string(v)) }

// UnmarshalCallResult reads a call result member.
func UnmarshalCallResult(v any) (revox.CallResult, error) {
	s, err := resultCodec.unmarshal(v)
	return revox.CallResult(s), err
}

// MarshalDialError writes a dial error as its enum member.
func MarshalDialError(v revox.DialError) graphql.Marshaler { return dialErrorCodec.marshal(string(v)) }

// UnmarshalDialError reads a dial error member.
func UnmarshalDialError(v any) (revox.DialError, error) {
	s, err := dialErrorCodec.unmarshal(v)
	return revox.DialError(s), err
}

// MarshalEndedBy writes which party ended a call as its enum member.
func MarshalEndedBy(v revox.EndedBy) graphql.Marshaler { return endedByCodec.marshal(string(v)) }

// UnmarshalEndedBy reads an EndedBy member.
func UnmarshalEndedBy(v any) (revox.EndedBy, error) {
	s, err := endedByCodec.unmarshal(v)
	return revox.EndedBy(s), err
}

// MarshalTranscriptRole writes a transcript role as its enum member.
func MarshalTranscriptRole(v revox.Role) graphql.Marshaler { return roleCodec.marshal(string(v)) }

// UnmarshalTranscriptRole reads a transcript role member.
func UnmarshalTranscriptRole(v any) (revox.Role, error) {
	s, err := roleCodec.unmarshal(v)
	return revox.Role(s), err
}

// MarshalCallStatus writes an order status as its enum member.
func MarshalCallStatus(v revox.OrderStatus) graphql.Marshaler {
	return orderStatusCodec.marshal(string(v))
}

// UnmarshalCallStatus reads an order status member.
func UnmarshalCallStatus(v any) (revox.OrderStatus, error) {
	s, err := orderStatusCodec.unmarshal(v)
	return revox.OrderStatus(s), err
}

// MarshalCallDirection writes a direction as its enum member.
func MarshalCallDirection(v revox.Direction) graphql.Marshaler {
	return directionCodec.marshal(string(v))
}

// UnmarshalCallDirection reads a direction member.
func UnmarshalCallDirection(v any) (revox.Direction, error) {
	s, err := directionCodec.unmarshal(v)
	return revox.Direction(s), err
}

// The Append functions append to b exactly what the Marshal function of the
// same enum writes; the executor's fast path (the code tools/gqlgen
// generates for it finds Append<Enum> beside Marshal<Enum>) uses them to
// write without a Marshaler per value.

// AppendCallAttemptStatus appends what MarshalCallAttemptStatus writes.
func AppendCallAttemptStatus(b []byte, v revox.AttemptStatus) []byte {
	return attemptStatusCodec.appendTo(b, string(v))
}

// AppendCallResult appends what MarshalCallResult writes.
func AppendCallResult(b []byte, v revox.CallResult) []byte { return resultCodec.appendTo(b, string(v)) }

// AppendDialError appends what MarshalDialError writes.
func AppendDialError(b []byte, v revox.DialError) []byte {
	return dialErrorCodec.appendTo(b, string(v))
}

// AppendEndedBy appends what MarshalEndedBy writes.
func AppendEndedBy(b []byte, v revox.EndedBy) []byte { return endedByCodec.appendTo(b, string(v)) }

// AppendTranscriptRole appends what MarshalTranscriptRole writes.
func AppendTranscriptRole(b []byte, v revox.Role) []byte { return roleCodec.appendTo(b, string(v)) }
