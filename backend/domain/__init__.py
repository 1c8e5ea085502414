"""Pure domain logic, free of I/O: traceability codes, EPCIS export, provenance."""
