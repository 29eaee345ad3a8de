"""UN missions that appear in the UN's SEA tables, by the acronym the UN uses.

Peacekeeping operations and special political missions active at some time since
2006, the period of the UN's public SEA data. Source: the mission lists of
peacekeeping.un.org and dppa.un.org (names as published there).
"""

from enum import StrEnum
from types import MappingProxyType
from typing import Final, NamedTuple


class MissionKind(StrEnum):
    PEACEKEEPING = "peacekeeping"
    SPECIAL_POLITICAL = "special_political"


class Mission(NamedTuple):
    code: str
    name: str
    kind: MissionKind


_PK = MissionKind.PEACEKEEPING
_SPM = MissionKind.SPECIAL_POLITICAL

MISSIONS: Final = MappingProxyType(
    {
        m.code: m
        for m in (
            Mission("BINUB", "United Nations Integrated Office in Burundi", _SPM),
            Mission("BINUCA", "UN Integrated Peacebuilding Office in the CAR", _SPM),
            Mission("BINUH", "United Nations Integrated Office in Haiti", _SPM),
            Mission("MINUCI", "United Nations Mission in Côte d'Ivoire", _PK),
            Mission("MINURCAT", "UN Mission in the Central African Republic and Chad", _PK),
            Mission("MINURSO", "UN Mission for the Referendum in Western Sahara", _PK),
            Mission("MINUJUSTH", "United Nations Mission for Justice Support in Haiti", _PK),
            Mission(
                "MINUSCA", "UN Multidimensional Integrated Stabilization Mission in the CAR", _PK
            ),
            Mission("MINUSMA", "UN Multidimensional Integrated Stabilization Mission in Mali", _PK),
            Mission("MINUSTAH", "United Nations Stabilization Mission in Haiti", _PK),
            Mission("MONUC", "United Nations Organization Mission in the DR Congo", _PK),
            Mission("MONUSCO", "UN Organization Stabilization Mission in the DR Congo", _PK),
            Mission("ONUB", "United Nations Operation in Burundi", _PK),
            Mission("UNAMA", "United Nations Assistance Mission in Afghanistan", _SPM),
            Mission("UNAMI", "United Nations Assistance Mission for Iraq", _SPM),
            Mission("UNAMID", "African Union-United Nations Hybrid Operation in Darfur", _PK),
            Mission("UNAMSIL", "United Nations Mission in Sierra Leone", _PK),
            Mission("UNDOF", "United Nations Disengagement Observer Force", _PK),
            Mission("UNFICYP", "United Nations Peacekeeping Force in Cyprus", _PK),
            Mission("UNIFIL", "United Nations Interim Force in Lebanon", _PK),
            Mission("UNIOGBIS", "UN Integrated Peacebuilding Office in Guinea-Bissau", _SPM),
            Mission("UNIPSIL", "UN Integrated Peacebuilding Office in Sierra Leone", _SPM),
            Mission("UNISFA", "United Nations Interim Security Force for Abyei", _PK),
            Mission("UNITAMS", "UN Integrated Transition Assistance Mission in Sudan", _SPM),
            Mission("UNMEE", "United Nations Mission in Ethiopia and Eritrea", _PK),
            Mission("UNMHA", "United Nations Mission to support the Hudaydah Agreement", _SPM),
            Mission("UNMIK", "UN Interim Administration Mission in Kosovo", _PK),
            Mission("UNMIL", "United Nations Mission in Liberia", _PK),
            Mission("UNMIS", "United Nations Mission in the Sudan", _PK),
            Mission("UNMISS", "United Nations Mission in South Sudan", _PK),
            Mission("UNMIT", "United Nations Integrated Mission in Timor-Leste", _PK),
            Mission("UNMOGIP", "UN Military Observer Group in India and Pakistan", _PK),
            Mission("UNOCA", "United Nations Regional Office for Central Africa", _SPM),
            Mission("UNOCI", "United Nations Operation in Côte d'Ivoire", _PK),
            Mission("UNOWAS", "United Nations Office for West Africa and the Sahel", _SPM),
            Mission("UNSMIL", "United Nations Support Mission in Libya", _SPM),
            Mission("UNSOM", "United Nations Assistance Mission in Somalia", _SPM),
            Mission("UNSOS", "United Nations Support Office in Somalia", _SPM),
            Mission("UNTSO", "United Nations Truce Supervision Organization", _PK),
            Mission("UNVMC", "United Nations Verification Mission in Colombia", _SPM),
        )
    }
)
