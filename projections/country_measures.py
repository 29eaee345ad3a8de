"""A country record's figures as one value, its rates and the ranking built on them.

The rates and the score are the measures the README documents with their formulas;
``country_record.py`` fills the figures in.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CountryMeasure(StrEnum):
    """Measures countries can be ranked by (formulas in the README)."""

    FOLLOW_UP_SCORE = "follow_up_score"
    ACCOUNTABILITY_RATE = "accountability_rate"
    REPLY_ON_TIME_RATE = "reply_on_time_rate"
    STATE_INVESTIGATION_ON_TIME_RATE = "state_investigation_on_time_rate"
    ALLEGATIONS = "allegations"
    MISSING_REPLIES = "missing_replies"


@dataclass(frozen=True, slots=True)
class CountryRecord:
    code: str
    name: str
    as_of: datetime
    policy: str
    year: int | None
    figures: dict[str, int]
    categories: dict[str, int] = field(default_factory=dict)
    compact_signed_at: datetime | None = None
    circle_joined_at: datetime | None = None
    trust_fund_usd: int = 0
    trust_fund_contributions: int = 0
    paternity_focal_point_at: datetime | None = None
    sea_focal_point_at: datetime | None = None
    state_investigation_median_days: float | None = None
    """Median days the state's concluded investigations took (the cases: those of
    ``state_investigations_on_time`` and ``state_investigations_late``)."""
    un_investigation_median_days: float | None = None
    """Median days the UN's concluded investigations took (the cases: those of
    ``un_investigations_on_time`` and ``un_investigations_late``)."""

    @property
    def reply_on_time_rate(self) -> float | None:
        f = self.figures
        return _ratio(f["replies_on_time"], f["replies_on_time"] + f["replies_late"]
                      + f["replies_missing"])  # fmt: skip

    @property
    def accountability_rate(self) -> float | None:
        """Share of substantiated cases with a reported sanction or prosecution outcome."""
        return _ratio(self.figures["substantiated_with_outcome"], self.figures["substantiated"])

    @property
    def investigator_appointed_rate(self) -> float | None:
        return _ratio(self.figures["investigator_appointed"], self.figures["notifications"])

    @property
    def state_investigation_on_time_rate(self) -> float | None:
        f = self.figures
        due = (f["state_investigations_on_time"] + f["state_investigations_late"]
               + f["state_investigations_overdue"])  # fmt: skip
        return _ratio(f["state_investigations_on_time"], due)

    @property
    def follow_up_score(self) -> float | None:
        """The mean of the defined rates: accountability, replies and investigations on time."""
        rates = [
            r
            for r in (
                self.accountability_rate,
                self.reply_on_time_rate,
                self.state_investigation_on_time_rate,
            )
            if r is not None
        ]
        return sum(rates) / len(rates) if rates else None

    def measure(self, measure: CountryMeasure) -> float | None:
        match measure:
            case CountryMeasure.ALLEGATIONS:
                return float(self.figures["allegations"])
            case CountryMeasure.MISSING_REPLIES:
                return float(self.figures["replies_missing"])
            case _:
                value: float | None = getattr(self, measure.value)
                return value


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def rank_countries(
    records: Sequence[CountryRecord], measure: CountryMeasure, descending: bool
) -> list[CountryRecord]:
    """Order by ``measure``; countries for which it is undefined come last, by name."""
    defined = [r for r in records if r.measure(measure) is not None]
    undefined = sorted((r for r in records if r.measure(measure) is None), key=lambda r: r.name)
    defined.sort(key=lambda r: r.name)
    defined.sort(key=lambda r: r.measure(measure) or 0.0, reverse=descending)
    return defined + undefined
