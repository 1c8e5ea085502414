"""The production chain: a Besu QBFT network of the district's organisations (`python -m devnet.besu`)."""
