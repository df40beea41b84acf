package model

// IsEntity marks Call as an Apollo Federation entity (it has a @key), so
// that the generated _entities resolver can return it as an _Entity.
func (Call) IsEntity() {}

// IsNode marks Call as a Relay Node: Query.node and Query.nodes answer it.
func (Call) IsNode() {}
