"""The national children's immunization schedule as versioned data, and a child's status against it.

Pure Python: no database, no web. `evaluate` judges a child's doses on a date; the school
sees only `school_entry_view`, a citizen gets `reminders`."""

from backend.schedule.editions import Edition, EditionError, NoEditionError, edition_for, editions, load_edition
from backend.schedule.evaluator import (
    Evaluation,
    GivenDose,
    PlannedDose,
    SchoolEntryView,
    SeriesStatus,
    evaluate,
    reminders,
    school_entry_view,
)

__all__ = [
    "Edition",
    "EditionError",
    "Evaluation",
    "GivenDose",
    "NoEditionError",
    "PlannedDose",
    "SchoolEntryView",
    "SeriesStatus",
    "edition_for",
    "editions",
    "evaluate",
    "load_edition",
    "reminders",
    "school_entry_view",
]
