"""The base of the clinical layer's specification models (designs, arms, treatments, baselines)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """A frozen pydantic model whose :meth:`model_copy` validates its updates.

    pydantic's ``model_copy(update=...)`` copies without validation, so
    ``design.model_copy(update={"primary_day": 999})`` would give a design that construction
    refuses. Here an update is merged into the model's dump and validated again, so a copy passes
    the same checks as construction (and raises the same pydantic ``ValidationError``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        if not update:
            return super().model_copy(deep=deep)
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).model_validate({**fields, **update})
