package model

// InputError is a client mistake in arguments or variables (a bad cursor, a
// size out of range, mixed paging modes). It is answered as BAD_USER_INPUT,
// before any upstream request.
type InputError struct {
	// Argument names the offending argument, when there is one.
	Argument string
	Message  string
}

func (e *InputError) Error() string {
	if e.Argument == "" {
		return e.Message
	}
	return e.Argument + ": " + e.Message
}
