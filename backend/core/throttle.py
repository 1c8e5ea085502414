"""Login brute-force protection: failed logins are counted per account and per client address over a
sliding window, in the database, so the limit holds across restarts and across processes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.db.models.offchain import LoginAttempt


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class LoginThrottle:
    def __init__(self, window_s: int, max_per_login: int, max_per_client: int) -> None:
        self.window_s = window_s
        self.limits = {"login": max_per_login, "client": max_per_client}

    def check(self, session: Session, subjects: dict[str, str], now: int) -> Verdict:
        """Whether a login may be tried now. `subjects` maps "login"/"client" to their identifiers."""
        since = now - self.window_s
        for kind, subject in subjects.items():
            key = f"{kind}:{subject}"
            count, oldest = session.execute(
                select(func.count(), func.min(LoginAttempt.at)).where(
                    LoginAttempt.subject == key, LoginAttempt.at > since, LoginAttempt.ok.is_(False)
                )
            ).one()
            if count >= self.limits[kind]:
                return Verdict(False, max(1, int(oldest) + self.window_s - now))
        return Verdict(True)

    def record(self, session: Session, subjects: dict[str, str], ok: bool, now: int) -> None:
        """Counts a failure; a success clears the account's failures (not the client's)."""
        if ok:
            session.execute(delete(LoginAttempt).where(LoginAttempt.subject == f"login:{subjects['login']}"))
            return
        for kind, subject in subjects.items():
            session.add(LoginAttempt(subject=f"{kind}:{subject}", at=now, ok=False))
        # keep the table small: failures older than the window count for nothing
        session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - self.window_s))
