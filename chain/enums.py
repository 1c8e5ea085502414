"""The contracts' enums, mirrored for Python callers (an ABI shows them as uint8).
Order must match contracts/; tests/contracts/test_enums.py checks it."""

from enum import IntEnum


class FacilityKind(IntEnum):
    NONE = 0
    MANUFACTURER = 1
    WAREHOUSE = 2
    CLINIC = 3


class EquipmentKind(IntEnum):
    NONE = 0
    FRIDGE = 1
    FREEZER = 2
    COLD_ROOM = 3
    VEHICLE = 4
    COLD_BOX = 5


class LotStatus(IntEnum):
    NONE = 0
    REGISTERED = 1
    RELEASED = 2
    RECALLED = 3


class WriteOffReason(IntEnum):
    NONE = 0
    EXPIRED = 1
    DAMAGED = 2
    REFUSED = 3
    EXCURSION = 4
    RECALLED = 5
    LOST = 6
    OTHER = 7


class AefiCategory(IntEnum):
    NONE = 0
    REACTION_COMMON = 1
    REACTION_RARE = 2
    QUALITY_EVENT = 3
    PROGRAMME_ERROR = 4
    COINCIDENTAL = 5
    PSYCHOGENIC = 6
    UNKNOWN = 7


class AefiSeverity(IntEnum):
    NONE = 0
    NON_SERIOUS = 1
    SERIOUS = 2
    DEATH = 3


class BookingStatus(IntEnum):
    NONE = 0
    BOOKED = 1
    COMPLETED = 2
    CANCELLED = 3
    MISSED = 4
