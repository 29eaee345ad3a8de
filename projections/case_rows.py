"""Case facts as table rows: what ``case_history`` stores for one instant.

Three kinds of rows come out of one case: the case itself (with counts in the UN's
groups and its file as JSON), one row per allegation *unit* (the UN counts an
allegation once for each category of personnel and each contributing country it
involves), and one row per Member State involved (its follow-up record for this
case). A Member State's commitments make a fourth kind, from its own stream.
"""

from datetime import datetime
from typing import Any

import orjson

from accountability.events.policy import count_working_days
from accountability.events.vocabulary import PersonnelCategory, ProsecutionOutcome

from .casefold import (
    VICTIM_GROUPS,
    CaseFacts,
    Commitments,
    Investigation,
    perpetrator_group,
    victim_group,
)

Row = dict[str, Any]
Key = tuple[Any, ...]

UNIFORMED = {c.value for c in PersonnelCategory if c.uniformed}


def case_row(facts: CaseFacts) -> Row:
    # Counted by hand: three Counters took a fifth of this function's time.
    victims = dict.fromkeys(VICTIM_GROUPS, 0)
    ages = {"adult": 0, "child": 0, "unknown": 0}
    for v in facts.victims.values():
        victims[victim_group(v.age_group, v.sex)] += 1
        ages[v.age_group] = ages.get(v.age_group, 0) + 1
    perpetrators = {"men": 0, "women": 0, "unknown": 0}
    for p in facts.perpetrators.values():
        perpetrators[perpetrator_group(p.sex)] += 1
    investigations = list(facts.investigations.values())
    concluded = [i for i in investigations if i.finding is not None]
    return {
        "case_id": facts.case_id,
        "received_at": facts.received_at,
        "received_year": facts.received_at.year,
        "allegation_type": facts.allegation_type,
        "entity": facts.entity,
        "entity_name": facts.entity_name,
        "mission": facts.mission,
        "incident_date": facts.incident_date,
        "incident_date_precision": facts.incident_date_precision,
        "incident_year": facts.incident_date.year if facts.incident_date else None,
        "status": facts.status,
        "un_status": facts.un_status.value,
        "closed_at": facts.closed_at,
        "closure_reason": facts.closure_reason,
        "published_at": facts.published_at,
        "referred": bool(facts.follow_ups),
        "perpetrators": len(facts.perpetrators),
        "perpetrators_men": perpetrators["men"],
        "perpetrators_women": perpetrators["women"],
        "perpetrators_unknown": perpetrators["unknown"],
        "victims": len(facts.victims),
        **{f"victims_{group}": victims[group] for group in VICTIM_GROUPS},
        **{f"age_{g}": ages[g] for g in ("adult", "child", "unknown")},
        "investigations": len(investigations),
        "investigation_concluded": bool(concluded),
        "substantiated": facts.substantiated if concluded else None,
        "victims_not_interviewed": any(i.victims_interviewed is False for i in concluded),
        "closed_without_investigation": facts.closed_at is not None and not investigations,
        "paternity_claims": len(facts.claims),
        "paternity_established": sum(1 for c in facts.claims.values() if c.established_at),
        "child_support": sum(1 for c in facts.claims.values() if c.support_arranged_at),
        "detail": orjson.dumps(case_detail(facts), option=orjson.OPT_SORT_KEYS).decode(),
    }


def unit_rows(facts: CaseFacts) -> dict[Key, Row]:
    """One row per (category, contributing country): the UN's counting unit.

    Nationality is part of a unit only for uniformed personnel, whose country
    contributed them; civilians are counted once per category. An allegation with no
    alleged perpetrator identified yet (the UN's status "limited information")
    is still one allegation: one unit whose category and nationality are not known
    (empty here, ``unknown`` and ``not applicable`` in the tables).
    """
    if not facts.perpetrators:
        return {
            (facts.case_id, "", ""): {"case_id": facts.case_id, "category": "", "nationality": ""}
        }
    units: dict[Key, Row] = {}
    for p in facts.perpetrators.values():
        nationality = p.nationality if p.category in UNIFORMED else ""
        key = (facts.case_id, p.category, nationality)
        units[key] = {"case_id": facts.case_id, "category": p.category, "nationality": nationality}
    return units


def state_rows(facts: CaseFacts) -> dict[Key, Row]:
    rows: dict[Key, Row] = {}
    un = _investigation(
        "un", _first(i for i in facts.investigations.values() if i.member_state is None)
    )
    for member_state in facts.involved_states():
        nationals = [p for p in facts.perpetrators.values() if p.nationality == member_state]
        follow_up = facts.follow_ups.get(member_state)
        national = _first(
            i for i in facts.investigations.values() if i.member_state == member_state
        )
        sanctions = [s for p in nationals for s in p.sanctions]
        outcomes = [p.prosecution.outcome for p in nationals if p.prosecution]
        claims = [c for c in facts.claims.values() if c.member_state == member_state]
        row: Row = {
            "member_state": member_state,
            "case_id": facts.case_id,
            "received_at": facts.received_at,
            "received_year": facts.received_at.year,
            "categories": ",".join(sorted({p.category for p in nationals})),
            "perpetrators": len(nationals),
            "uniformed": any(p.category in UNIFORMED for p in nationals),
            "notified_at": follow_up.notified_at if follow_up else None,
            "nio_requested": follow_up.nio_requested if follow_up else None,
            "reply": follow_up.reply if follow_up else None,
            "replied_at": follow_up.replied_at if follow_up else None,
            "reply_days": None,
            "reply_working_days": None,
            "nio_appointed_at": follow_up.nio_appointed_at if follow_up else None,
            "follow_up_requests": len(follow_up.follow_up_requests) if follow_up else 0,
            **_investigation("national", national),
            **un,
            "substantiated": facts.substantiated_for(member_state),
            "interim_actions": sum(len(p.interim_actions) for p in nationals),
            "repatriations": sum(1 for p in nationals if p.repatriated_at),
            "referrals": sum(1 for p in nationals if p.referred_at),
            "sanctions": len(sanctions),
            "prosecutions_concluded": len(outcomes),
            "convictions": outcomes.count(ProsecutionOutcome.CONVICTED.value),
            "acquittals": outcomes.count(ProsecutionOutcome.ACQUITTED.value),
            "dismissals": outcomes.count(ProsecutionOutcome.DISMISSED.value),
            "sentence_months": sum(
                p.prosecution.sentence_months or 0 for p in nationals if p.prosecution
            ),
            "paternity_claims": len(claims),
            "paternity_established": sum(1 for c in claims if c.established_at),
            "case_closed_at": facts.closed_at,
            "last_activity_at": _last_activity(facts, member_state),
            "last_request_at": max(follow_up.follow_up_requests, default=None)
            if follow_up
            else None,
            "last_state_step_at": _last_state_step(facts, member_state),
        }
        if follow_up is not None and follow_up.replied_at is not None:
            elapsed = follow_up.replied_at - follow_up.notified_at
            row["reply_days"] = elapsed.total_seconds() / 86400
            row["reply_working_days"] = count_working_days(
                follow_up.notified_at, follow_up.replied_at
            )
        rows[(member_state, facts.case_id)] = row
    return rows


def commitment_row(facts: Commitments) -> Row:
    return {
        "member_state": facts.member_state,
        "compact_signed_at": facts.compact_signed_at,
        "circle_joined_at": facts.circle_joined_at,
        "trust_fund_usd": facts.trust_fund_usd,
        "trust_fund_contributions": facts.trust_fund_contributions,
        "paternity_focal_point_at": facts.paternity_focal_point_at,
        "sea_focal_point_at": facts.sea_focal_point_at,
    }


def _first(investigations: Any) -> Investigation | None:
    first: Investigation | None = min(investigations, key=_opened, default=None)
    return first


def _opened(investigation: Investigation) -> datetime:
    return investigation.opened_at


def _investigation(prefix: str, investigation: Investigation | None) -> Row:
    i = investigation
    return {
        f"{prefix}_opened_at": i.opened_at if i else None,
        f"{prefix}_urgent": i.urgent if i else None,
        f"{prefix}_concluded_at": i.concluded_at if i else None,
        f"{prefix}_finding": i.finding if i else None,
        f"{prefix}_victims_interviewed": i.victims_interviewed if i else None,
    }


def _last_activity(facts: CaseFacts, member_state: str) -> datetime | None:
    """The latest step in this state's follow-up, by either side."""
    instants: list[datetime] = []
    follow_up = facts.follow_ups.get(member_state)
    if follow_up is not None:
        instants += [follow_up.notified_at, *follow_up.follow_up_requests]
        instants += [t for t in (follow_up.replied_at, follow_up.nio_appointed_at) if t]
    for i in facts.investigations.values():
        if i.member_state == member_state:
            instants += [t for t in (i.opened_at, i.concluded_at) if t]
    for p in facts.perpetrators.values():
        if p.nationality == member_state:
            instants += [t for _, t in p.interim_actions]
            instants += [t for t in (p.repatriated_at, p.referred_at) if t]
            instants += [s.at for s in p.sanctions]
            if p.prosecution:
                instants.append(p.prosecution.at)
    return max(instants) if instants else None


def _last_state_step(facts: CaseFacts, member_state: str) -> datetime | None:
    """The latest step the Member State itself reported (what answers a follow-up request)."""
    instants: list[datetime] = []
    follow_up = facts.follow_ups.get(member_state)
    if follow_up is not None:
        instants += [t for t in (follow_up.replied_at, follow_up.nio_appointed_at) if t]
    for i in facts.investigations.values():
        if i.member_state == member_state:
            instants += [t for t in (i.opened_at, i.concluded_at) if t]
    for p in facts.perpetrators.values():
        if p.nationality == member_state:
            instants += [s.at for s in p.sanctions if s.imposed_by == "member_state"]
            if p.prosecution:
                instants.append(p.prosecution.at)
    return max(instants) if instants else None


def case_detail(facts: CaseFacts) -> dict[str, Any]:
    """The parts of a case file that are lists, kept as one JSON document per version.

    Victims, follow-ups, investigations, claims, sanctions, prosecutions and texts are
    written as their dataclasses, field for field (orjson writes those itself).
    """
    return {
        "perpetrators": [
            {
                "perpetrator_id": p.perpetrator_id,
                "category": p.category,
                "nationality": p.nationality,
                "sex": p.sex,
                "interim_actions": [{"action": a, "at": t} for a, t in p.interim_actions],
                "repatriated_at": p.repatriated_at,
                "referred_at": p.referred_at,
                "sanctions": p.sanctions,
                "prosecution": p.prosecution,
            }
            for p in facts.perpetrators.values()
        ],
        "victims": list(facts.victims.values()),
        "follow_ups": list(facts.follow_ups.values()),
        "investigations": list(facts.investigations.values()),
        "claims": list(facts.claims.values()),
        "entity_name": facts.entity_name,
        "published_reference": facts.published_reference,
        "reopened": facts.reopened,
        # Sealed only: the case file opens them at the edge, for the readers allowed.
        "narrative": facts.narrative,
        "notes": list(facts.notes.values()),
        "erased_at": facts.erased_at,
        "erasure_reason": facts.erasure_reason,
    }
