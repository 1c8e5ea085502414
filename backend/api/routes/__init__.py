"""One module per resource; ROUTERS is what the app mounts."""

from backend.api.routes import (
    admin,
    appointments,
    auth,
    cdc,
    facilities,
    lots,
    me,
    ops,
    regulator,
    sites,
    staff,
    verification,
    web,
)

ROUTERS = [
    ops.router,
    auth.router,
    me.router,
    sites.router,
    appointments.router,
    lots.router,
    facilities.router,
    staff.router,
    cdc.router,
    regulator.router,
    admin.router,
    verification.router,
    web.router,
]
