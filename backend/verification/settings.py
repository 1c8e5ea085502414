"""Settings of school-entry verification: environment variables VAXLEDGER_VERIFY_*.

Read once per runtime (verify.Verifier); every default runs as is."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RecallPolicy = Literal["exclude", "count"]


class VerificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAXLEDGER_VERIFY_", env_file=None, extra="forbid")

    recalled_lot_doses: RecallPolicy = "exclude"
    """Whether a dose from a recalled lot still counts towards the schedule. A recall is not always a reason
    to revaccinate, but until the CDC has decided for the lot the platform cannot tell, so by default such
    a dose does not count ("exclude": the child shows the dose as missing and the clinic sees it in the
    catch-up). A district whose CDC has ruled that its recalled lots' doses stand sets "count". Either way
    an attestation that counted a dose of the lot is revoked when the recall is indexed (DOMAIN.md:
    results touched by a recall are invalidated), and the next verification judges afresh."""
    attestation_ttl_days: int = Field(90, ge=1, le=400)
    """How long a signed attestation is valid for offline checks (a school term; an assumption: neither the
    law nor DOMAIN.md gives one). Schools re-check before the end of December in any case."""
    any_school_max_days: int = Field(30, ge=1, le=366)
    """The longest a consent for *any* school may last (a named school's may last until revoked)."""
    cache_entries: int = Field(16_384, ge=0)
    """Children's verdicts and signed answers kept in memory, so a child whose record has not changed is
    neither evaluated nor signed again on the same day."""
