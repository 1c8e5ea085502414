"""Shared chain access for backend/, oracle/ and scripts/: the deployment
manifest (manifest.py), connecting with PoA detection (client.py), signing,
nonces, fees, pacing and retries (sender.py), and custom errors decoded by
name (errors.py)."""
