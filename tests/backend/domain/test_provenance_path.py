"""A dose's custody path traced back through its lot's events."""

from __future__ import annotations

from backend.domain.provenance import Leg, LotEvent, Stay, dose_path


def ev(block: int, name: str, at: int, **args: int) -> LotEvent:
    return LotEvent(block, 0, name, args, at, args.get("equipment"), args.get("shipment"))


REGISTERED = ev(1, "LotRegistered", 100, equipment=1, doses=500)
TO_CDC = ev(2, "Shipped", 200, shipment=1, fromEquipment=1, vehicle=9, quantity=400)
AT_CDC = ev(3, "ShipmentReceived", 300, shipment=1, equipment=2, accepted=400)
TO_CLINIC = ev(4, "Shipped", 400, shipment=2, fromEquipment=2, vehicle=9, quantity=50)
AT_CLINIC = ev(5, "ShipmentReceived", 500, shipment=2, equipment=3, accepted=50)
MOVED = ev(6, "Moved", 600, fromEquipment=3, toEquipment=4, quantity=10)


def test_the_path_runs_from_the_maker_to_the_fridge() -> None:
    path = dose_path([MOVED, REGISTERED, AT_CLINIC, TO_CDC, TO_CLINIC, AT_CDC], 4, (7, 0), 700)
    assert path.complete
    assert path.steps == [
        Stay(1, 100, 200),
        Leg(1, 9, 1, 2, 200, 300),
        Stay(2, 300, 400),
        Leg(2, 9, 2, 3, 400, 500),
        Stay(3, 500, 600),
        Stay(4, 600, 700),
    ]


def test_the_latest_delivery_before_the_dose_is_taken() -> None:
    second_to_cdc = ev(8, "Shipped", 800, shipment=3, fromEquipment=1, vehicle=9, quantity=100)
    second_at_cdc = ev(9, "ShipmentReceived", 900, shipment=3, equipment=2, accepted=100)
    events = [REGISTERED, TO_CDC, AT_CDC, TO_CLINIC, AT_CLINIC, second_to_cdc, second_at_cdc]
    early = dose_path(events, 2, (5, 0), 450)  # a dose at the CDC between the deliveries
    assert [s.shipment_id for s in early.steps if isinstance(s, Leg)] == [1]
    late = dose_path(events, 2, (10, 0), 1000)
    assert [s.shipment_id for s in late.steps if isinstance(s, Leg)] == [3]


def test_a_trail_that_runs_out_says_so() -> None:
    path = dose_path([AT_CLINIC], 3, (6, 0), 600)  # its shipment's dispatch is missing
    assert not path.complete
    assert dose_path([], 3, (6, 0), 600).steps == []
