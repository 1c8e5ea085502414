"""School-entry verification's routes: guardians (family), schools' API keys (school), verification
itself with the public keys and revocations (verify), clinics' referrals (staff), verifier keys (admin)."""

from fastapi import APIRouter

from backend.api.routes.verification import admin, family, school, staff, verify

router = APIRouter()
# The app matches routes in order, one by one: the schools' busy endpoints come first.
for _part in (verify.router, school.router, family.router, staff.router, admin.router):
    router.include_router(_part)
