"""The whole spec (:class:`Spec`) and reading it from a file (:func:`load_spec`).

The file format is in ``docs/spec-format.md``.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._parse import SpecError, _get, _int, _no_extra, _require
from .model import PopulationSpec, RelationSpec
from .time import TimeSpec

__all__ = ["Spec", "load_spec"]


@dataclass(frozen=True)
class Spec:
    """A complete, validated study description.

    Build with :meth:`from_dict`, :func:`load_spec`, :func:`~fastbip.spec.default_spec` or
    :func:`~fastbip.spec.planted_spec`; the file format is in ``docs/spec-format.md``.
    """

    people: PopulationSpec
    items: PopulationSpec
    relation: RelationSpec
    time: TimeSpec | None = None
    seed: int | None = None

    @classmethod
    def from_dict(cls, d: Any) -> Spec:
        """Validate a spec given as nested dicts (the shape of a TOML or JSON file).

        Parameters
        ----------
        d : dict
            Tables ``people``, ``items`` and ``relation``; optional ``time`` and ``seed``.

        Returns
        -------
        Spec

        Raises
        ------
        SpecError
            At the first wrong field; the message starts with the field's path.
        """
        d = _require(d, "spec")
        _no_extra(d, {"people", "items", "relation", "time", "seed", "fastbip_spec"}, "spec")
        people = PopulationSpec.from_dict(_get(d, "people", "spec"), "people")
        items = PopulationSpec.from_dict(_get(d, "items", "spec"), "items")
        relation = RelationSpec.from_dict(_get(d, "relation", "spec"), "relation", people, items)
        time = None
        if d.get("time") is not None:
            time = TimeSpec.from_dict(d["time"], "time", items.k)
        seed = d.get("seed")
        if seed is not None:
            seed = _int(seed, "seed", 0)
        return cls(people, items, relation, time, seed)

    def to_dict(self) -> dict:
        """The spec as nested dicts, the shape of its file; ``from_dict`` reads it back."""
        d: dict[str, Any] = {
            "people": self.people.to_dict(),
            "items": self.items.to_dict(),
            "relation": self.relation.to_dict(),
        }
        if self.time is not None:
            d["time"] = self.time.to_dict()
        if self.seed is not None:
            d["seed"] = self.seed
        return d

    def to_json(self) -> str:
        """JSON text of the spec (:func:`load_spec` reads it from a ``.json`` file)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def to_toml(self) -> str:
        """TOML text of the spec (needs the ``tomli-w`` package)."""
        try:
            import tomli_w
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "writing TOML needs tomli-w: pip install 'fastbip[io]' "
                "(or write JSON: Spec.to_json(), fastbip spec --format json)"
            ) from e
        return tomli_w.dumps(self.to_dict())

    def with_(
        self,
        *,
        n_people: int | None = None,
        n_items: int | None = None,
        seed: int | None = None,
        mixing: float | None = None,
        mean_purchases: float | None = None,
        model: str | None = None,
    ) -> Spec:
        """A copy with some common fields changed, validated again.

        Parameters
        ----------
        n_people, n_items, seed, mixing, mean_purchases, model : optional
            New values of ``people.n``, ``items.n``, ``seed`` and the ``relation`` fields;
            ``None`` keeps the current value.

        Returns
        -------
        Spec
        """
        d = self.to_dict()
        if n_people is not None:
            d["people"]["n"] = n_people
        if n_items is not None:
            d["items"]["n"] = n_items
        if seed is not None:
            d["seed"] = seed
        if mixing is not None:
            d["relation"]["mixing"] = mixing
        if mean_purchases is not None:
            d["relation"]["mean_purchases"] = mean_purchases
        if model is not None:
            d["relation"]["model"] = model
        return Spec.from_dict(d)


def load_spec(path: str | Path) -> Spec:
    """Read a spec from a ``.toml`` or ``.json`` file and validate it.

    Parameters
    ----------
    path : str or Path
        The file; its suffix (``.toml`` or ``.json``) says how to read it.

    Returns
    -------
    Spec

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    SpecError
        If the suffix is neither, the text does not parse, or a field is wrong.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"spec file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".toml":
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"spec file {str(path)!r} is not valid TOML: {e}") from e
    elif suffix == ".json":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"spec file {str(path)!r} is not valid JSON: {e}") from e
    else:
        raise SpecError(
            f"spec file {str(path)!r} must end in .toml or .json; got {suffix or 'no suffix'!r}"
        )
    return Spec.from_dict(d)
