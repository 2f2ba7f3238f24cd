"""Typed button actions: one codec, prefixes owned by one feature, clashes refused at start."""

from __future__ import annotations

import pytest

from bot.core.actions import Action, ActionPrefixClash, ActionRegistry
from bot.core.contract import Reply
from bot.core.engine import Engine
from bot.core.feature import Context, Feature
from handlers.app import Core


def test_codec_round_trip() -> None:
    a = Action("void", ("01234567", "no"))
    assert a.encode() == "void:01234567:no"
    assert Action.decode(a.encode()) == a and a.rest == "01234567:no"
    assert Action.decode("menu") == Action("menu")
    with pytest.raises(ValueError):
        Action("a:b")


def test_a_prefix_has_one_owner() -> None:
    reg: ActionRegistry[str] = ActionRegistry()
    reg.register("void", "ledger", "ledger")
    assert reg.owner(Action.decode("void:x")) == "ledger"
    with pytest.raises(ActionPrefixClash, match="ledger"):
        reg.register("void", "other", "other")
    with pytest.raises(ActionPrefixClash, match="engine"):
        reg.register("topic", "other", "other")


class _Claims(Feature):
    def __init__(self, name: str, prefixes: tuple[str, ...]):
        self.name = name
        self.action_prefixes = prefixes

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        return [Reply(f"{self.name} got {action}")]


def test_engine_refuses_a_duplicate_prefix_at_start(core: Core) -> None:
    with pytest.raises(ActionPrefixClash):
        Engine(core.kb, core.engine.pipeline, core.store, core.status,
               features=[_Claims("a", ("x",)), _Claims("b", ("x",))])


def test_dispatch_is_by_prefix_not_by_feature_order(core: Core) -> None:
    from bot.core.contract import Incoming

    engine = Engine(core.kb, core.engine.pipeline, core.store, core.status,
                    features=[_Claims("a", ("x",)), _Claims("b", ("y",))])
    out = engine.reply_to(Incoming("console", "u1", "u1", action="y:1", event_id="e1"))
    assert out[0].text == "b got y:1"
    out = engine.reply_to(Incoming("console", "u1", "u1", action="z:1", event_id="e2"))
    assert "หมดอายุ" in out[0].text


def test_real_features_claim_distinct_prefixes(core: Core) -> None:
    owners = core.engine.actions.prefixes()
    assert owners["void"] == "ledger" and owners["form"] == "forms"
    assert owners["notice"] and owners["field"]
