"""Shared chain access for backend/, oracle/ and scripts/: one way to find the
contracts (the deployment manifest) and, as the platform grows, to sign, pace
and retry transactions."""
