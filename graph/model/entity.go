package model

// IsEntity marks Call as an Apollo Federation entity (it has a @key), so
// that the generated _entities resolver can return it as an _Entity.
func (Call) IsEntity() {}
