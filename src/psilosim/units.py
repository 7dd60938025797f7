"""Physical units (pint) and parsing of quantities written by people.

A single application-wide :data:`ureg` is used so that quantities from different modules can be
combined. :func:`parse_quantity` is the one entry point for strings such as ``"25 mg"``,
``"0.3 mg/kg"`` or ``"3 weeks"``; it raises :class:`~psilosim.errors.InputError` naming the field
when the text is not a quantity of the expected dimension.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import pint

from .errors import InputError

ureg = pint.UnitRegistry(cache_folder=None)
ureg.formatter.default_format = "~P"
# a point on a rating scale (QIDS-SR-16, MADRS, BDI): a dimensionless count, named so that a file's
# units say what its numbers are (the scale itself is named in the variable's attributes)
ureg.define("scale_point = 1 = _ = scale_points")
Q_ = ureg.Quantity
#: Distinct strings whose parsed quantity is kept (doses, intervals, weights of the runs of a session).
PARSE_CACHE_SIZE = 4096

#: Time-unit conversions used by the numerics (from the registry, not model constants).
HOURS_PER_DAY = float(ureg.Quantity(1.0, "day").to("h").magnitude)
MINUTES_PER_HOUR = float(ureg.Quantity(1.0, "h").to("min").magnitude)
SECONDS_PER_MINUTE = float(ureg.Quantity(1.0, "min").to("s").magnitude)
SECONDS_PER_HOUR = float(ureg.Quantity(1.0, "h").to("s").magnitude)

#: Dimensions that inputs are checked against, by name.
DIMENSIONS: dict[str, str] = {
    "mass": "[mass]",
    "mass_per_mass": "",  # mg/kg reduces to dimensionless; a mass over a mass, see is_mass_ratio
    "time": "[time]",
    "concentration": "[mass] / [length] ** 3",
    "volume": "[length] ** 3",
    "dimensionless": "",
}


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parsed(text: str) -> pint.Quantity:
    """``text`` parsed by pint, cached: parsing costs ≈ 0.1 ms and a regimen's few strings are read
    again by every run (callers get a copy, see :func:`parse_quantity`)."""
    q = ureg.Quantity(text)
    return q if isinstance(q, pint.Quantity) else Q_(float(q), "")


def parse_quantity(text: str | float | int | pint.Quantity, *, field: str, expect: str) -> pint.Quantity:
    """Parse ``text`` into a quantity with dimension ``expect``.

    Parameters
    ----------
    text
        A string with a magnitude and a unit (``"25 mg"``), a pint quantity, or a bare number
        (accepted only when ``expect == "dimensionless"``).
    field
        Name of the input, used in the error message.
    expect
        One of :data:`DIMENSIONS`, or ``"mass or mass_per_mass"``.

    Returns
    -------
    pint.Quantity

    Raises
    ------
    InputError
        If the text is not a finite quantity, or has the wrong dimension (``mass_per_mass``
        needs mass units above and below the line: ``"5 percent"`` is not a dose per weight).
    """
    if isinstance(text, pint.Quantity):
        q = text
    elif isinstance(text, (int, float)) and not isinstance(text, bool):
        q = Q_(float(text), "")
    elif isinstance(text, str):
        try:
            cached = _parsed(text.strip())
            q = Q_(cached.magnitude, cached.units)  # a copy: a caller's in-place ito() must not reach the cache
        except Exception as exc:  # pint raises several unrelated exception types
            raise InputError(field, f"{text!r} is not a quantity with a unit ({exc})") from None
    else:
        raise InputError(field, f"expected a quantity such as '25 mg', got {text!r}")
    if not _finite(q.magnitude):
        raise InputError(field, f"{text!r} is not a finite quantity")

    allowed = [e.strip() for e in expect.split(" or ")]
    for name in allowed:
        if _has_dimension(q, name):
            return q
    raise InputError(field, f"{text!r} has unit '{q.units:~}', expected {' or '.join(allowed)}")


def as_time(value: float | str | pint.Quantity, *, unit: str, field: str) -> float:
    """A time as a number in ``unit``: a bare number is already in it, a string or quantity with a
    time unit (``"30 min"``, ``"6 weeks"``) is converted to it.

    Raises
    ------
    InputError
        On ``field`` for anything else (a bool, a list, a mass).
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (str, pint.Quantity)):
        return float(parse_quantity(value, field=field, expect="time").to(unit).magnitude)
    raise InputError(field, f"expected a number of {unit} or a time such as '12 h', got {value!r}")


def _finite(magnitude) -> bool:
    try:
        return bool(math.isfinite(magnitude))
    except TypeError:  # an array magnitude
        return bool(np.all(np.isfinite(magnitude)))


def _has_dimension(q: pint.Quantity, name: str) -> bool:
    if name == "mass_per_mass":
        return is_mass_ratio(q)
    if name == "dimensionless":
        return q.dimensionless
    if name not in DIMENSIONS:
        raise ValueError(f"unknown dimension name {name!r}")
    return q.check(DIMENSIONS[name])


def is_mass_ratio(q: pint.Quantity) -> bool:
    """A mass over a mass (``mg/kg``, ``µg/g``), not any dimensionless unit (``percent``, ``ppm``)."""
    exponents = list(q.unit_items())
    if not q.dimensionless or not exponents:
        return False
    all_mass = all(ureg.Unit(unit).dimensionality == {"[mass]": 1} for unit, _ in exponents)
    return all_mass and any(e > 0 for _, e in exponents) and any(e < 0 for _, e in exponents)
