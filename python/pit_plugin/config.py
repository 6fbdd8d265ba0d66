"""Config decoding for pit plugins: the same rules and wording as the Go SDK.

A plugin declares its config table as a list of Field. decode_config
checks a raw table (from the experiment file, sent by the host as a
google.protobuf.Struct) against it and returns the values with defaults
filled in, or raises ConfigError listing every problem, one message per
key, worded like the Go decoder's (package plugins/sdk/table):
'key "clip": expected a number (got string "x")',
'key "clp": unknown key (did you mean "clip"? known keys: clip, mode)'.
The host reads the key back from the `key "..."` part and reports the
problem at the key's line of the experiment file.
"""

import math

__all__ = ["Field", "ConfigError", "decode_config"]

# Types a field may have, as the Go SDK names them in schemas.
_SCALARS = ("float", "int", "bool", "string")


class Field:
    """One key of a plugin's config table."""

    def __init__(self, name, type, default=None, doc=""):
        if type not in _SCALARS and not (type.startswith("[]") and type[2:] in _SCALARS):
            raise ValueError(f"config field {name!r}: unsupported type {type!r} "
                             f"(want one of {', '.join(_SCALARS)} or []{'{type}'})")
        self.name = name
        self.type = type
        self.default = default
        self.doc = doc


class ConfigError(Exception):
    """Every problem with a config, one message per entry of .errors."""

    def __init__(self, errors):
        if isinstance(errors, str):
            errors = [errors]
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


_EXPECTED = {"float": "a number", "int": "an integer", "bool": "a boolean", "string": "a string"}
_PLURAL = {"float": "numbers", "int": "integers", "bool": "booleans", "string": "strings"}


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _float(f):
    # As the Go decoder prints floats: shortest form, kept recognisable (2.0).
    s = repr(float(f))
    return s.replace("inf", "+Inf").replace("-+Inf", "-Inf").replace("nan", "NaN")


def _got(v):
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, str):
        return "string " + _quote(v if len(v) <= 40 else v[:37] + "...")
    if isinstance(v, float):
        return "float " + _float(v)
    if isinstance(v, int):
        return f"integer {v}"
    if isinstance(v, list):
        return f"array of {len(v)}"
    if isinstance(v, dict):
        return "table"
    return type(v).__name__


def _scalar(t, v):
    """Returns (value, problem); problem is None when v fits type t."""
    if t == "float":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v), None
    elif t == "int":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            f = float(v)
            if math.isinf(f) or math.isnan(f) or f != math.trunc(f):
                return None, f"expected an integer (got {_got(v)})"
            if not -2**63 <= f < 2**63:
                return None, f"expected an integer that fits in 64 bits (got {_float(f)})"
            return int(f), None
    elif t == "bool":
        if isinstance(v, bool):
            return v, None
    elif t == "string":
        if isinstance(v, str):
            return v, None
    return None, f"expected {_EXPECTED[t]} (got {_got(v)})"


def _levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[len(b)]


def _unknown(key, names):
    """The Go decoder's message for an unknown key (table.UnknownKey)."""
    if not names:
        return "unknown key (this table takes no keys)"
    names = sorted(names)
    best, best_d = "", 3
    for n in names:
        d = _levenshtein(key.encode(), n.encode())
        if d < best_d or d == best_d and n < best:
            best, best_d = n, d
    known = ", ".join(names)
    if best and best_d <= len(key.encode()) // 3 + 1:
        return f"unknown key (did you mean {_quote(best)}? known keys: {known})"
    return f"unknown key (known keys: {known})"


def decode_config(raw, fields):
    """Decodes raw (a dict, or None) against fields.

    Returns a dict holding every field's value (its default when raw lacks
    the key, or holds null for it). Keys match exactly. Integer fields take
    whole numbers (the wire sends every number as a double). Raises
    ConfigError naming every unknown key and every value of the wrong type,
    each as 'key "NAME": message'.
    """
    by_name = {f.name: f for f in fields}
    values = {f.name: f.default for f in fields}
    errors = []
    for key in sorted(raw or {}):
        f = by_name.get(key)
        if f is None:
            errors.append(f"key {_quote(key)}: {_unknown(key, [f.name for f in fields])}")
            continue
        v = raw[key]
        if v is None:
            continue
        if f.type.startswith("[]"):
            if not isinstance(v, list):
                errors.append(f"key {_quote(key)}: expected an array of {_PLURAL[f.type[2:]]} (got {_got(v)})")
                continue
            out, bad = [], False
            for i, item in enumerate(v):
                x, problem = _scalar(f.type[2:], item)
                if problem is not None:
                    errors.append(f"key {_quote(f'{key}[{i}]')}: {problem}")
                    bad = True
                out.append(x)
            if not bad:
                values[key] = out
            continue
        x, problem = _scalar(f.type, v)
        if problem is not None:
            errors.append(f"key {_quote(key)}: {problem}")
            continue
        values[key] = x
    if errors:
        raise ConfigError(errors)
    return values
