"""GraphQL types of country records, the UN-style statistics and transparency gaps."""

from typing import Any

import graphene

from accountability.events import vocabulary as v
from accountability.projections import country_record as cr

from .scalars import Instant
from .types import PageInfo, PersonnelCategory

CountryFigure = graphene.Enum(
    "CountryFigure",
    [(name.upper(), name) for name in cr.FIGURES],
    description="A figure of a country record, to list the cases behind it.",
)


class CategoryCount(graphene.ObjectType):
    """Cases involving the country's nationals of one category (``countryCases`` with
    ``figure: ALLEGATIONS`` and this ``category`` lists them)."""

    category = graphene.Field(PersonnelCategory, required=True)
    label = graphene.String(required=True)
    allegations = graphene.Int(required=True)


class Figure(graphene.ObjectType):
    """One figure by name, as ``countryCases`` takes it."""

    name = graphene.String(required=True)
    value = graphene.Int(required=True)


class Replies(graphene.ObjectType):
    on_time = graphene.Int(required=True, description="replied within the policy's deadline")
    late = graphene.Int(required=True, description="replied after the deadline")
    missing = graphene.Int(required=True, description="no reply and the deadline has passed")
    pending = graphene.Int(required=True, description="no reply yet, deadline still running")
    declined_to_investigate = graphene.Int(required=True)


class Investigations(graphene.ObjectType):
    by_state = graphene.Int(required=True, description="opened by the Member State")
    by_un = graphene.Int(required=True, description="opened by the UN")
    completed = graphene.Int(required=True)
    state_on_time = graphene.Int(required=True, description="state's, concluded within deadline")
    state_late = graphene.Int(required=True, description="state's, concluded after deadline")
    state_overdue = graphene.Int(required=True, description="state's, open past deadline")
    state_running = graphene.Int(required=True, description="state's, open within deadline")
    state_median_days = graphene.Float(
        description="median days the state's concluded investigations took; null with none"
    )
    un_on_time = graphene.Int(required=True, description="UN's, concluded within deadline")
    un_late = graphene.Int(required=True, description="UN's, concluded after deadline")
    un_overdue = graphene.Int(required=True, description="UN's, open past deadline")
    un_running = graphene.Int(required=True, description="UN's, open within deadline")
    un_median_days = graphene.Float(
        description="median days the UN's concluded investigations took; null with none"
    )
    substantiated = graphene.Int(required=True)
    not_substantiated = graphene.Int(required=True)


class Prosecutions(graphene.ObjectType):
    referrals = graphene.Int(required=True, description="referred to national authorities")
    concluded = graphene.Int(required=True)
    convicted = graphene.Int(required=True)
    acquitted = graphene.Int(required=True)
    dismissed = graphene.Int(required=True)
    sentence_months = graphene.Int(required=True, description="total months of sentences")


class FollowUpRequests(graphene.ObjectType):
    requested = graphene.Int(required=True, description="cases where the UN asked again")
    outstanding = graphene.Int(required=True, description="asked, and no step by the state since")
    stale = graphene.Int(required=True, description="open, with no step for the stale interval")


class Paternity(graphene.ObjectType):
    claims = graphene.Int(required=True)
    established = graphene.Int(required=True)
    open = graphene.Int(required=True)


class Commitments(graphene.ObjectType):
    compact_signed_at = graphene.Field(Instant, description="Voluntary Compact")
    circle_joined_at = graphene.Field(Instant, description="Circle of Leadership")
    trust_fund_usd = graphene.Int(required=True, description="to the Trust Fund, in US dollars")
    trust_fund_contributions = graphene.Int(required=True)
    paternity_focal_point_at = graphene.Field(Instant)
    sea_focal_point_at = graphene.Field(Instant)


class CountryRecord(graphene.ObjectType):
    """A Member State's follow-up of allegations against its nationals."""

    code = graphene.String(required=True, description="ISO 3166-1 alpha-3")
    name = graphene.String(required=True)
    year = graphene.Int(description="the year the reports were received; null for all years")
    as_of = graphene.Field(Instant, required=True, description="the instant it is judged at")
    policy = graphene.String(required=True, description="the deadline policy applied")
    allegations = graphene.Int(required=True, description="cases involving its nationals")
    allegations_involving_uniformed = graphene.Int(required=True)
    alleged_perpetrators = graphene.Int(required=True)
    by_category = graphene.List(graphene.NonNull(CategoryCount), required=True)
    notifications = graphene.Int(required=True)
    replies = graphene.Field(Replies, required=True)
    reply_on_time_rate = graphene.Float(
        description="replies on time / (on time + late + missing); null with no deadline due"
    )
    investigator_appointed = graphene.Int(required=True)
    investigator_appointed_rate = graphene.Float(description="per notification")
    investigations = graphene.Field(Investigations, required=True)
    state_investigation_on_time_rate = graphene.Float(
        description="state's investigations on time / (on time + late + overdue)"
    )
    substantiated_with_outcome = graphene.Int(
        required=True, description="substantiated cases with a reported sanction or prosecution"
    )
    substantiated_without_outcome = graphene.Int(required=True)
    accountability_rate = graphene.Float(
        description="substantiated cases with a reported outcome / substantiated cases"
    )
    follow_up_score = graphene.Float(
        description="mean of the defined: accountability rate, reply and investigation on time"
    )
    interim_actions = graphene.Int(required=True)
    repatriations = graphene.Int(required=True)
    sanctions = graphene.Int(required=True)
    prosecutions = graphene.Field(Prosecutions, required=True)
    follow_up_requests = graphene.Field(FollowUpRequests, required=True)
    paternity = graphene.Field(Paternity, required=True)
    commitments = graphene.Field(Commitments, required=True)
    figures = graphene.List(
        graphene.NonNull(Figure), required=True, description="every figure, by its name"
    )

    @staticmethod
    def resolve_replies(root: cr.CountryRecord, _info: Any) -> dict[str, int]:
        f = root.figures
        return {
            "on_time": f["replies_on_time"],
            "late": f["replies_late"],
            "missing": f["replies_missing"],
            "pending": f["replies_pending"],
            "declined_to_investigate": f["declined_to_investigate"],
        }

    @staticmethod
    def resolve_allegations(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["allegations"]

    @staticmethod
    def resolve_allegations_involving_uniformed(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["allegations_uniformed"]

    @staticmethod
    def resolve_alleged_perpetrators(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["perpetrators"]

    @staticmethod
    def resolve_notifications(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["notifications"]

    @staticmethod
    def resolve_investigator_appointed(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["investigator_appointed"]

    @staticmethod
    def resolve_substantiated_with_outcome(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["substantiated_with_outcome"]

    @staticmethod
    def resolve_substantiated_without_outcome(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["substantiated_without_outcome"]

    @staticmethod
    def resolve_interim_actions(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["interim_actions"]

    @staticmethod
    def resolve_repatriations(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["repatriations"]

    @staticmethod
    def resolve_sanctions(root: cr.CountryRecord, _info: Any) -> int:
        return root.figures["sanctions"]

    @staticmethod
    def resolve_by_category(root: cr.CountryRecord, _info: Any) -> list[dict[str, Any]]:
        return [
            {
                "category": v.PersonnelCategory(code),
                "label": v.PersonnelCategory(code).label,
                "allegations": count,
            }
            for code, count in sorted(root.categories.items())
        ]

    @staticmethod
    def resolve_investigations(root: cr.CountryRecord, _info: Any) -> dict[str, float | None]:
        f = root.figures
        return {
            "by_state": f["investigations_by_state"],
            "by_un": f["investigations_by_un"],
            "completed": f["investigations_completed"],
            "state_on_time": f["state_investigations_on_time"],
            "state_late": f["state_investigations_late"],
            "state_overdue": f["state_investigations_overdue"],
            "state_running": f["state_investigations_running"],
            "state_median_days": root.state_investigation_median_days,
            "un_on_time": f["un_investigations_on_time"],
            "un_late": f["un_investigations_late"],
            "un_overdue": f["un_investigations_overdue"],
            "un_running": f["un_investigations_running"],
            "un_median_days": root.un_investigation_median_days,
            "substantiated": f["substantiated"],
            "not_substantiated": f["not_substantiated"],
        }

    @staticmethod
    def resolve_prosecutions(root: cr.CountryRecord, _info: Any) -> dict[str, int]:
        f = root.figures
        return {
            "referrals": f["referrals"],
            "concluded": f["prosecutions_concluded"],
            "convicted": f["convictions"],
            "acquitted": f["acquittals"],
            "dismissed": f["dismissals"],
            "sentence_months": f["sentence_months"],
        }

    @staticmethod
    def resolve_follow_up_requests(root: cr.CountryRecord, _info: Any) -> dict[str, int]:
        f = root.figures
        return {
            "requested": f["follow_up_requested"],
            "outstanding": f["follow_up_outstanding"],
            "stale": f["stale"],
        }

    @staticmethod
    def resolve_paternity(root: cr.CountryRecord, _info: Any) -> dict[str, int]:
        f = root.figures
        return {
            "claims": f["paternity_claims"],
            "established": f["paternity_established"],
            "open": f["paternity_open"],
        }

    @staticmethod
    def resolve_commitments(root: cr.CountryRecord, _info: Any) -> cr.CountryRecord:
        return root

    @staticmethod
    def resolve_figures(root: cr.CountryRecord, _info: Any) -> list[dict[str, Any]]:
        return [{"name": n, "value": root.figures[n]} for n in cr.FIGURES]


class CountryEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    rank = graphene.Int(required=True)
    node = graphene.Field(CountryRecord, required=True)


class CountryConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CountryEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)

    @staticmethod
    def resolve_edges(root: Any, _info: Any) -> list[dict[str, Any]]:
        return list(root.items)

    @staticmethod
    def resolve_page_info(root: Any, _info: Any) -> Any:
        return root


class CasesBehind(graphene.ObjectType):
    """The cases a figure counts, found by the very condition that counts them."""

    code = graphene.String(required=True)
    figure = graphene.String(required=True)
    year = graphene.Int()
    category = graphene.Field(PersonnelCategory, description="only nationals of this category")
    as_of = graphene.Field(Instant, required=True)
    policy = graphene.String(required=True)
    value = graphene.Int(
        required=True,
        description="the figure, as in the country record; with a category, the cases listed "
        "(with ALLEGATIONS: the record's count for that category)",
    )
    case_ids = graphene.List(graphene.NonNull(graphene.String), required=True)


class StatisticsRow(graphene.ObjectType):
    key = graphene.String(required=True)
    count = graphene.Int(required=True)


class StatisticsTable(graphene.ObjectType):
    name = graphene.String(required=True)
    total = graphene.Int(required=True)
    rows = graphene.List(graphene.NonNull(StatisticsRow), required=True)


class Statistics(graphene.ObjectType):
    """Allegations received in a period, in the UN's counting unit and groups."""

    received_from = graphene.Field(Instant, required=True)
    received_to = graphene.Field(Instant, required=True, description="exclusive")
    as_of = graphene.Field(Instant, required=True, description="as recorded by then")
    policy = graphene.String(
        required=True,
        description="the counting rules applied (the UN's unit; no deadline is judged here)",
    )
    allegations = graphene.Int(
        required=True, description="once per category of personnel and contributing country"
    )
    cases = graphene.Int(required=True)
    tables = graphene.List(graphene.NonNull(StatisticsTable), required=True)


class Gap(graphene.ObjectType):
    case_id = graphene.String(required=True)
    received_at = graphene.Field(Instant, required=True)
    member_state = graphene.String()
    since = graphene.Field(Instant, description="for a silent state: when its reply fell due")


class TransparencyGaps(graphene.ObjectType):
    as_of = graphene.Field(Instant, required=True)
    policy = graphene.String(required=True)
    never_published = graphene.List(graphene.NonNull(Gap), required=True)
    victims_not_interviewed = graphene.List(graphene.NonNull(Gap), required=True)
    closed_without_investigation = graphene.List(graphene.NonNull(Gap), required=True)
    silent_states = graphene.List(graphene.NonNull(Gap), required=True)
