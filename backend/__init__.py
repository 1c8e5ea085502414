"""The FastAPI backend: accounts and custodial wallets, the chain indexer, and the API for
citizens, facility staff, the CDC, the regulator and schools.

Reads come from the database the indexer keeps (db/models/chainview.py); writes go to the chain
through the signer's custodial wallet (ledger/), and the database learns of them from the chain.

    core/       settings, envelope encryption, passwords and tokens, logging, metrics
    db/         SQLAlchemy engine and models; Alembic migrations
    ledger/     contracts, custodial wallets, sending, refusals in words people understand
    indexer/    chain events into the database: resumable, idempotent per (block, log index)
    domain/     pure logic: traceability codes, EPCIS export, provenance
    services/   what a route asks for: accounts, persons, supply work, doses, bookings, queries
    api/        routes, one module per resource, and their dependencies
"""
