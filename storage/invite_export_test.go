package storage

// InsertBatchWith is InsertBatch with options per event (WithTarget,
// WithDedupKey…), for tests of a batch that mixes targeted and untargeted
// events. It returns each event's outcome and queued deliveries.
func InsertBatchWith(d *DB, events []*Event, opts [][]InsertOption) ([]error, []int) {
	batch := make([]*insertReq, len(events))
	for i, e := range events {
		batch[i] = &insertReq{e: e, done: make(chan struct{})}
		for _, o := range opts[i] {
			o(batch[i])
		}
	}
	d.commitBatch(batch)
	errs, ns := make([]error, len(batch)), make([]int, len(batch))
	for i, r := range batch {
		errs[i], ns[i] = r.err, r.n
	}
	return errs, ns
}
