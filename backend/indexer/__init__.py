"""Chain events into the database: decode.py reads logs and anchoring inputs, projections.py applies
each event to the query tables, follower.py runs the resumable, idempotent loop."""
