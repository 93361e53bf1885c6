"""Internal notes and tags on a question: what colleagues and supervisors of the brand write
for each other. Never sent to X. The writes are in :mod:`helpdesk.notes.actions`, the reads
that pages share in :mod:`helpdesk.notes.queries`."""
