"""Config decoding for pit plugins: the same rules and wording as the Go SDK.

A plugin declares its config table as a list of Field. decode_config
checks a raw table (from the experiment file, sent by the host as a
google.protobuf.Struct) against it and returns the values with defaults
filled in, or raises ConfigError listing every problem, one message per
key, worded like the Go SDK's ("unknown key ...", 'key "clip": want float64,
got string "x"').
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


def _go_type(t):
    # The Go SDK words types as Go does.
    return {"float": "float64", "int": "int", "bool": "bool", "string": "string"}.get(t, t)


def _describe(v):
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"bool {str(v).lower()}"
    if isinstance(v, str):
        return f'string "{v}"'
    if isinstance(v, float):
        return f"float64 {v:g}"
    if isinstance(v, int):
        return f"int {v}"
    if isinstance(v, list):
        return "[]interface {} " + str(v)
    if isinstance(v, dict):
        return "map[string]interface {} " + str(v)
    return f"{type(v).__name__} {v}"


def _scalar(t, v):
    """Returns (value, problem); problem is None when v fits type t."""
    if t == "float":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v), None
    elif t == "int":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            f = float(v)
            if math.isinf(f) or math.isnan(f) or f != math.trunc(f):
                return None, f"want an integer, got {v:g}"
            return int(f), None
    elif t == "bool":
        if isinstance(v, bool):
            return v, None
    elif t == "string":
        if isinstance(v, str):
            return v, None
    return None, f"want {_go_type(t)}, got {_describe(v)}"


def _decode(field, v):
    if not field.type.startswith("[]"):
        return _scalar(field.type, v)
    if not isinstance(v, list):
        return None, f"want []{_go_type(field.type[2:])}, got {_describe(v)}"
    out = []
    for i, item in enumerate(v):
        x, problem = _scalar(field.type[2:], item)
        if problem is not None:
            return None, f"element {i}: {problem}"
        out.append(x)
    return out, None


def decode_config(raw, fields):
    """Decodes raw (a dict, or None) against fields.

    Returns a dict holding every field's value (its default when raw lacks
    the key). Keys match case-insensitively, as in the Go SDK. Raises
    ConfigError naming every unknown key and every value of the wrong type.
    """
    by_name = {f.name.lower(): f for f in fields}
    values = {f.name: f.default for f in fields}
    errors = []
    for key in sorted(raw or {}):
        f = by_name.get(key.lower())
        if f is None:
            known = ", ".join(f.name for f in fields)
            errors.append(f'unknown key "{key}" (known keys: {known})')
            continue
        v, problem = _decode(f, raw[key])
        if problem is not None:
            errors.append(f'key "{f.name}": {problem}')
            continue
        values[f.name] = v
    if errors:
        raise ConfigError(errors)
    return values
