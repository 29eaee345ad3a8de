"""Names for the plain values that travel through the domain."""

from typing import Literal, NewType

StreamId = NewType("StreamId", str)
CaseId = NewType("CaseId", str)
CountryCode = NewType("CountryCode", str)
EventId = NewType("EventId", str)
CommandId = NewType("CommandId", str)
PrincipalId = NewType("PrincipalId", str)
Hash = NewType("Hash", str)

JsonScalar = str | int | bool | None
JsonValue = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]

CaseStatus = Literal["open", "closed"]
