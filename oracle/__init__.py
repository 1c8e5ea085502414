"""The cold-chain oracle: sensor readings in, durably kept, judged against the
excursion rules, anchored on chain in batches; excursions reported at once."""
