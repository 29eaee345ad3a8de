"""A client that leaves mid-request gets a refusal, not a server error."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request

from accountability.services.api.endpoint import RequestError, _read_body


def test_a_client_that_leaves_before_its_body_is_refused_not_an_error() -> None:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": [], "path": "/graphql"}
    messages: Iterator[dict[str, Any]] = iter([
        {"type": "http.request", "body": b'{"query": ', "more_body": True},
        {"type": "http.disconnect"},
    ])  # fmt: skip

    async def receive() -> dict[str, Any]:
        return next(messages)

    with pytest.raises(RequestError) as refused:
        asyncio.run(_read_body(Request(scope, receive)))

    assert refused.value.code == "CLIENT_LEFT"
    assert refused.value.status == 400
