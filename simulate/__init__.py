"""District simulation and capacity report: `python -m simulate` (or `./vaxledger simulate`) replays a district's
workload through the real contracts, oracle and backend and reports what it cost (see simulate/__main__.py)."""
