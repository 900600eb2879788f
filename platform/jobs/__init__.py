"""Jobs: evaluating a stored submission on a worker, its queue, its heartbeat and the sweep that requeues."""
