"""paysvc.serializers.Reused: a serializer's field tree built once, same answers as a new one."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rest_framework import serializers

from orders.validation import CreateOrderSerializer
from paysvc.serializers import Reused
from tests.factories import order_body

BODY: dict[str, Any] = order_body(description="an ice cream")


def fresh(data: Any, api_version: str) -> tuple[bool, Any]:
    serializer = CreateOrderSerializer(data=data, context={"api_version": api_version})
    ok = serializer.is_valid()
    return ok, (serializer.validated_data if ok else serializer.errors)


def reused(shared: Reused, data: Any, api_version: str) -> tuple[bool, Any]:
    try:
        return True, shared.validated(data, context={"api_version": api_version})
    except serializers.ValidationError as exc:
        return False, exc.detail


@pytest.mark.parametrize(
    "data",
    [
        BODY,
        {**BODY, "orderAmount": "1.123456789"},
        {**BODY, "goods": {**BODY["goods"], "goodsType": "03"}, "webhookUrl": "x"},
        {**BODY, "env": []},
        [],
        None,
        {**BODY, "fiatAmount": "1", "fiatCurrency": "USD"},
    ],
)
def test_same_data_and_errors_as_a_new_serializer(data: Any) -> None:
    shared = Reused(CreateOrderSerializer)
    for version in ("v3", "v2", "v3"):  # one instance, context changing between uses
        assert reused(shared, data, version) == fresh(data, version)


def test_context_is_per_use() -> None:
    shared = Reused(CreateOrderSerializer)
    assert reused(shared, BODY, "v3")[0] is True
    ok, errors = reused(shared, BODY, "v2")  # description is v3-only
    assert not ok and "description" in errors
    assert reused(shared, BODY, "v3")[0] is True
    with shared._instance(None) as serializer:
        assert serializer.context == {}


def test_field_tree_is_built_once_per_thread_and_never_shared() -> None:
    shared = Reused(CreateOrderSerializer)
    with shared._instance(None) as first:
        pass
    with shared._instance(None) as again:
        assert again is first  # the same tree, given back and taken again
    seen: list[Any] = []

    def other_thread() -> None:
        with shared._instance(None) as mine:
            seen.append(mine)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen[0] is not first


def test_reentrant_use_takes_another_instance() -> None:
    shared = Reused(CreateOrderSerializer)
    with shared._instance({"api_version": "v2"}) as outer:
        with shared._instance({"api_version": "v3"}) as inner:
            assert inner is not outer
            assert inner.context == {"api_version": "v3"}
        assert outer.context == {"api_version": "v2"}


class _Thing:
    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size


class _ThingSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()


def test_represent_is_the_serializers_data() -> None:
    shared = Reused(_ThingSerializer)
    for thing in (_Thing("a", 1), _Thing("b", 2)):
        assert shared.represent(thing) == _ThingSerializer(thing).data
