"""Settings, secrets, passwords and tokens, logging and metrics: what every other part leans on."""
