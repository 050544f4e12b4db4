package table

// orderList is the modification order: an intrusive doubly linked list of
// entries, least recently written at the front. Every write appends a new
// entry, so the list is also sorted by LastModified and Revision; that makes
// "evict the oldest" O(1) and "what changed since t" a walk from the back.
type orderList[K comparable, V any] struct {
	root entry[K, V] // sentinel: root.next is the front, root.prev the back
}

func (l *orderList[K, V]) init() {
	l.root.next = &l.root
	l.root.prev = &l.root
}

// front returns the least recently written entry, or nil when empty.
func (l *orderList[K, V]) front() *entry[K, V] {
	if l.root.next == &l.root {
		return nil
	}
	return l.root.next
}

// back returns the most recently written entry, or nil when empty.
func (l *orderList[K, V]) back() *entry[K, V] {
	if l.root.prev == &l.root {
		return nil
	}
	return l.root.prev
}

// before returns the entry written just before e, or nil.
func (l *orderList[K, V]) before(e *entry[K, V]) *entry[K, V] {
	if e.prev == &l.root {
		return nil
	}
	return e.prev
}

// after returns the entry written just after e, or nil.
func (l *orderList[K, V]) after(e *entry[K, V]) *entry[K, V] {
	if e.next == &l.root {
		return nil
	}
	return e.next
}

func (l *orderList[K, V]) pushBack(e *entry[K, V]) {
	e.prev = l.root.prev
	e.next = &l.root
	e.prev.next = e
	l.root.prev = e
}

// remove unlinks e and clears its links, so an item a caller still holds
// does not keep its former neighbours reachable.
func (l *orderList[K, V]) remove(e *entry[K, V]) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev = nil
	e.next = nil
}

// replace puts e in old's place and unlinks old.
func (l *orderList[K, V]) replace(old, e *entry[K, V]) {
	e.prev, e.next = old.prev, old.next
	e.prev.next = e
	e.next.prev = e
	old.prev = nil
	old.next = nil
}
