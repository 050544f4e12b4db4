package store

// LastModifiedStore is the original lastmodstore's store: string keys, any
// values.
type LastModifiedStore = Store[string, any]

// StoreItem is the original lastmodstore's item type.
type StoreItem = Item[any]

// NewLastModifiedStore returns a LastModifiedStore configured by cfg, not
// yet started, as the original lastmodstore did. It returns an error
// matching ErrInvalidConfig for a bad cfg, like New.
func NewLastModifiedStore(cfg Config) (*LastModifiedStore, error) {
	return New[string, any](cfg)
}
