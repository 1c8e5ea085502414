"""Building blocks for putting a district on the ledger through Brownie:
facilities, equipment, staff accounts, products, lots and shipments.
Used by scripts/seed.py (the demo district), the contract tests and bench/."""

from __future__ import annotations

from typing import Any

from brownie import accounts, chain

from chain.dev import DEV_MNEMONIC
from chain.encoding import to_bytes8, to_bytes32
from chain.enums import EquipmentKind, FacilityKind, WriteOffReason
from scripts.deploy import Deployment

# Facility accounts are derived from the development mnemonic from index 100 on,
# so the demo needs no key files; on a real network the backend generates each
# facility's key.
FACILITY_KEY_OFFSET = 100
DAY = 86_400


class District:
    """A deployment plus the ids and accounts of what has been put on it."""

    def __init__(self, deployment: Deployment) -> None:
        self.d = deployment
        self.ledger = deployment.ledger
        self.appointments = deployment.appointments
        self.staff: dict[int, Any] = {}
        self._next_key = FACILITY_KEY_OFFSET

    def facility(self, kind: FacilityKind, name: str, area: str = "440604") -> int:
        """Registers a facility with one staff account; returns its id."""
        tx = self.ledger.registerFacility(kind, name, to_bytes32(area), {"from": self.d.admin})
        facility_id = tx.events["FacilityRegistered"]["facility"]
        account = accounts.from_mnemonic(DEV_MNEMONIC, count=1, offset=self._next_key)
        self._next_key += 1
        self.ledger.addMember(account, facility_id, {"from": self.d.admin})
        self.staff[facility_id] = account
        return facility_id

    def equipment(self, facility: int, kind: EquipmentKind, label: str) -> int:
        tx = self.ledger.registerEquipment(facility, kind, label, {"from": self.d.admin})
        return tx.events["EquipmentRegistered"]["equipment"]

    def product(
        self,
        manufacturer: int,
        vaccine_type: str,
        *,
        doses_per_unit: int = 1,
        self_paid: bool = False,
        range_deci_c: tuple[int, int] = (20, 80),
        name: str = "",
    ) -> int:
        tx = self.ledger.registerProduct(
            manufacturer,
            to_bytes8(vaccine_type),
            doses_per_unit,
            self_paid,
            range_deci_c[0],
            range_deci_c[1],
            name or vaccine_type,
            {"from": self.d.regulator},
        )
        return tx.events["ProductRegistered"]["product"]

    def lot(
        self,
        product: int,
        number: str,
        doses: int,
        equipment: int,
        *,
        shelf_days: int = 365,
        release: bool = True,
    ) -> int:
        manufacturer = self.ledger.product(product)[0]
        expiry = chain.time() + shelf_days * DAY
        tx = self.ledger.registerLot(
            product, to_bytes32(number), expiry, doses, equipment, {"from": self.staff[manufacturer]}
        )
        lot_id = tx.events["LotRegistered"]["lot"]
        if release:
            self.ledger.releaseLot(lot_id, to_bytes32(f"cert:{number}"), {"from": self.d.regulator})
        return lot_id

    def ship(self, lot: int, from_equipment: int, vehicle: int, to_facility: int, quantity: int) -> int:
        holder = self.ledger.stockOf(lot, from_equipment)[2]
        tx = self.ledger.ship(lot, from_equipment, vehicle, to_facility, quantity, {"from": self.staff[holder]})
        return tx.events["Shipped"]["shipment"]

    def receive(self, shipment: int, equipment: int, accepted: int | None = None) -> None:
        s = self.ledger.shipment(shipment)
        quantity = s[4] if accepted is None else accepted
        reason = WriteOffReason.NONE if quantity == s[4] else WriteOffReason.DAMAGED
        self.ledger.receiveShipment(shipment, equipment, quantity, reason, {"from": self.staff[s[2]]})

    def deliver(self, lot: int, from_equipment: int, vehicle: int, to_equipment: int, quantity: int) -> int:
        """Ships and receives in one go; returns the shipment id."""
        to_facility = self.ledger.equipment(to_equipment)[0]
        shipment = self.ship(lot, from_equipment, vehicle, to_facility, quantity)
        self.receive(shipment, to_equipment)
        return shipment

    def slot(
        self, site: int, vaccine_type: str, *, start_in: int = DAY, duration: int = 3600, capacity: int = 10
    ) -> int:
        tx = self.appointments.publishSlot(
            to_bytes8(vaccine_type), chain.time() + start_in, duration, capacity, {"from": self.staff[site]}
        )
        return tx.events["SlotPublished"]["slot"]
