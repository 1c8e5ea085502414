"""The chain as the backend uses it: the deployment's contracts and senders (gateway.py), custodial
wallets (wallets.py), and the contracts' refusals in words people understand (reasons.py)."""
