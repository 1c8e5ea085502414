"""School-entry verification (DOMAIN.md "School entry verification"): a school learns whether a child is
complete for school entry, and which doses are missing, only with their guardian's consent, and gets it
as a signed attestation it can check offline.

    settings.py       VAXLEDGER_VERIFY_*: recalled-lot policy, attestation lifetime, consent limits
    messages.py       the EIP-712 consent, attestation and roster messages; the compact QR text (pure)
    records.py        a child's doses from the indexed chain, judged by the schedule (backend/schedule)
    consents.py       guardians' signed consents and their tokens
    schools.py        the school directory, schools' API keys, who is calling
    verifier_keys.py  the platform's signing keys: sealed, rotated, revoked, published
    verify.py         one token or a roster answered, signed, audited (and cached while unchanged)
    recalls.py        a recall revokes the attestations it touches; the revocation list
    referrals.py      not-complete results sent to the clinic for catch-up
    family.py         the guardian's view: schedule, reminders, who verified the child
    qr.py             QR codes as SVG
    service.py        what is kept per runtime: settings, keys, caches

Routes are in api/routes/verification/; tables in db/models/verification.py."""
