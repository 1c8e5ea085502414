"""One module per resource; ROUTERS is what the app mounts."""

from backend.api.routes import admin, appointments, auth, cdc, lots, me, ops, regulator, sites, staff

ROUTERS = [
    ops.router,
    auth.router,
    me.router,
    sites.router,
    appointments.router,
    lots.router,
    staff.router,
    cdc.router,
    regulator.router,
    admin.router,
]
