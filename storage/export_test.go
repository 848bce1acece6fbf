package storage

// InsertBatch stores events as one batch, as InsertEvent's writers do with
// whatever is waiting, and returns each event's outcome.
func InsertBatch(d *DB, events []*Event) []error {
	batch := make([]*insertReq, len(events))
	for i, e := range events {
		batch[i] = &insertReq{e: e, done: make(chan struct{})}
	}
	d.commitBatch(batch)
	errs := make([]error, len(batch))
	for i, r := range batch {
		errs[i] = r.err
	}
	return errs
}
