"""What routes ask for, apart from HTTP: accounts and persons, supply work, doses, bookings, queries,
the cold chain, and the one path from a request to a transaction (writes.py)."""
