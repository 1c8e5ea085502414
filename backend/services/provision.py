"""Facilities and their custodial wallets, by the platform operator.

A facility acts on chain through a wallet the backend makes for it and the operator admits as a member
of the facility (which grants the facility's custodian role). Admitting is idempotent: a wallet that is a
member on chain already (the process stopped after the transaction) is only marked admitted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.db.models.offchain import Wallet
from backend.errors import not_found
from backend.runtime import Runtime
from backend.services.writes import Actor
from chain.encoding import to_bytes32
from chain.enums import EquipmentKind, FacilityKind


def admit_facility_wallet(rt: Runtime, s: Session, facility_id: int, actor: Actor) -> Wallet:
    if s.get(cv.Facility, facility_id) is None:
        raise not_found("facility", "机构", facility_id)
    wallet = rt.wallets.of(s, "facility", facility_id) or rt.wallets.create(s, "facility", str(facility_id))
    s.commit()  # the key exists before any transaction names its address
    if wallet.admitted:
        return wallet
    ledger = rt.ledgers.get()
    member = ledger.ledger.functions.membership(wallet.address).call()
    if member[0] != facility_id:
        rt.writer.send(
            actor,
            "admit_wallet",
            f"facility {facility_id}",
            ledger.admin,
            lambda lg: lg.ledger.functions.addMember(wallet.address, facility_id),
        )
    wallet.admitted = True
    return wallet


def register_facility(rt: Runtime, s: Session, actor: Actor, kind: str, name: str, area: str) -> dict[str, Any]:
    ledger, receipt = rt.writer.send(
        actor,
        "register_facility",
        name,
        rt.ledgers.get().admin,
        lambda lg: lg.ledger.functions.registerFacility(FacilityKind[kind.upper()], name, to_bytes32(area)),
    )
    facility_id = ledger.events(ledger.ledger, receipt, "FacilityRegistered")[0]["facility"]
    wallet = admit_facility_wallet(rt, s, facility_id, actor)
    return {"facility_id": facility_id, "wallet": wallet.address}


def register_equipment(rt: Runtime, actor: Actor, facility_id: int, kind: str, label: str) -> dict[str, Any]:
    ledger, receipt = rt.writer.send(
        actor,
        "register_equipment",
        label,
        rt.ledgers.get().admin,
        lambda lg: lg.ledger.functions.registerEquipment(facility_id, EquipmentKind[kind.upper()], label),
    )
    return {"equipment_id": ledger.events(ledger.ledger, receipt, "EquipmentRegistered")[0]["equipment"]}
