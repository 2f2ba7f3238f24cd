"""Button actions as typed values: one codec, and a registry of who owns which action prefix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

OwnerT = TypeVar("OwnerT")
SEP = ":"
CORE_KINDS = ("topic", "full", "menu", "cmd", "step")
"""Prefixes the engine itself answers; no feature may claim them."""


@dataclass(frozen=True)
class Action:
    """A button's data: ``kind`` (the owner's prefix) and its arguments, as ``kind:a:b``."""

    kind: str
    args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.kind or SEP in self.kind:
            raise ValueError(f"bad action kind {self.kind!r}")

    def encode(self) -> str:
        """The data sent with the button (LINE postback data, Telegram callback data)."""
        return SEP.join((self.kind, *self.args))

    @property
    def rest(self) -> str:
        """Everything after the kind, as one string."""
        return SEP.join(self.args)

    @classmethod
    def decode(cls, data: str) -> Action:
        """The Action behind button ``data``; raises ValueError for data without a kind."""
        kind, _, rest = data.partition(SEP)
        return cls(kind, tuple(rest.split(SEP)) if rest else ())


class ActionPrefixClash(ValueError):
    """Two owners claim the same action prefix (found when the engine is built)."""


class ActionRegistry(Generic[OwnerT]):
    """Which owner (a feature) answers the actions of each prefix; a prefix has one owner."""

    def __init__(self, reserved: Iterable[str] = CORE_KINDS):
        self._owners: dict[str, OwnerT | None] = {k: None for k in reserved}
        self._names: dict[str, str] = {k: "engine" for k in reserved}

    def register(self, prefix: str, owner: OwnerT, name: str) -> None:
        """Give ``prefix`` to ``owner`` (called ``name`` in errors).

        Raises:
            ActionPrefixClash: the prefix is the engine's or another owner's.
        """
        Action(prefix)  # validates the prefix
        if prefix in self._names:
            raise ActionPrefixClash(f"action prefix {prefix!r} of {name} is already "
                                    f"{self._names[prefix]}'s")
        self._owners[prefix] = owner
        self._names[prefix] = name

    def owner(self, action: Action) -> OwnerT | None:
        """The owner of ``action``'s prefix, or None (the engine's own, or nobody's)."""
        return self._owners.get(action.kind)

    def prefixes(self) -> dict[str, str]:
        """Prefix -> owner name (for documentation and tests)."""
        return dict(self._names)
