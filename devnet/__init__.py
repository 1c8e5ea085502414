"""The local development network's plumbing shared by `make up`, the tests and the benchmarks."""
