"""Search spaces: which run settings a sweep varies, and over what.

A space is a JSON object keyed by setting (``core.settings.BY_KEY``, e.g. ``"train.lr"``); each
value is either a range ``{"low": 1e-4, "high": 1e-2, "log": true}`` (numbers; ``step`` optional)
or a list of choices ``{"choices": [32, 64]}``. The value type is the setting's own (an int setting
draws whole numbers). Every bound and choice is checked with the same range rules as a single run
(``Setting.check``), so a space that could produce an invalid run is refused before anything
starts. List settings (hidden sizes) take choices written as text: ``"128,64"``.

Each kind proposes its defaults (``Task.sweep_space``); the user narrows or widens them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.errors import LoupeError, suggest
from core.settings import BY_KEY, Setting, parse_int_list

# Settings a sweep never varies: where data comes from and how it is split (trials must be
# compared on the same rows), and where/how it runs (the sweep assigns devices).
FIXED = {"train.device", "train.precision", "train.num_workers", "train.seed", "run.name",
         "run.tags"}
GRID_POINTS = 4  # points a range becomes under the grid sampler (ints with few values: all)

Space = dict[str, dict[str, Any]]


def searchable(key: str) -> bool:
    s = BY_KEY.get(key)
    return s is not None and s.section in ("model", "train") and key not in FIXED


def validate_space(space: Any, where: str = "search space") -> Space:
    """The space in canonical form; LoupeError naming the setting and the fix when it is unusable."""
    if not isinstance(space, dict) or not space:
        raise LoupeError(f"The {where} must be a non-empty JSON object of settings.",
                         'write e.g. {"train.lr": {"low": 1e-4, "high": 1e-2, "log": true}}.')
    out: Space = {}
    for key, spec in space.items():
        if not searchable(key):
            known = [k for k in BY_KEY if searchable(k)]
            why = ("is fixed for every trial (data, split, device and seed stay the same)"
                   if key in BY_KEY else "is not a run setting")
            raise LoupeError(f"'{key}' in the {where} {why}.",
                             f"remove it, or {suggest(key, known)}")
        out[key] = _check_spec(BY_KEY[key], spec, where)
    return out


def _check_spec(s: Setting, spec: Any, where: str) -> dict[str, Any]:
    name = f"{where} '{s.key}'"
    if not isinstance(spec, dict):
        raise LoupeError(f"The {name} must be an object with low/high or choices, got {spec!r}.",
                         f'write e.g. {{"low": 1, "high": 10}} or {{"choices": [..]}} for {s.key}.')
    extra = set(spec) - {"low", "high", "log", "step", "choices"}
    if extra:
        raise LoupeError(f"The {name} has unknown fields: {', '.join(sorted(map(str, extra)))}.",
                         "use low, high, log, step or choices.")
    if "choices" in spec:
        if set(spec) != {"choices"}:
            raise LoupeError(f"The {name} gives both choices and a range.", "keep one of them.")
        return {"choices": _check_choices(s, spec["choices"], name)}
    if s.type not in (int, float):
        raise LoupeError(f"The {name} needs a list of choices: {s.key} is not a number.",
                         f'write {{"choices": [...]}} with values like {s.default!r}.')
    if "low" not in spec or "high" not in spec:
        raise LoupeError(f"The {name} needs both low and high.", "add the missing bound.")
    low, high = (_number(s, spec[b], f"{name} {b}") for b in ("low", "high"))
    if low > high:
        raise LoupeError(f"The {name} has low {low:g} above high {high:g}.", "swap the bounds.")
    for bound in (low, high):
        s.check(bound, s.section)
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise LoupeError(f"The {name} log must be true or false.", "write true or false.")
    if log and low <= 0:
        raise LoupeError(f"The {name} is log-scaled but low is {low:g}.",
                         "a log range needs low above 0.")
    out: dict[str, Any] = {"low": low, "high": high, "log": log}
    if spec.get("step") is not None:
        step = _number(s, spec["step"], f"{name} step")
        if step <= 0 or log:
            raise LoupeError(f"The {name} step must be above 0 and not combined with log.",
                             "drop step, or give a positive step on a linear range.")
        out["step"] = step
    return out


def _number(s: Setting, value: Any, name: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LoupeError(f"The {name} must be a number, got {value!r}.", "write a plain number.")
    if s.type is int:
        if float(value) != int(value):
            raise LoupeError(f"The {name} must be a whole number ({s.key} counts), got {value!r}.",
                             "write a whole number.")
        return int(value)
    return float(value)


def _check_choices(s: Setting, choices: Any, name: str) -> list[Any]:
    if not isinstance(choices, list) or not choices:
        raise LoupeError(f"The {name} choices must be a non-empty list.", "list at least one value.")
    clean: list[Any] = []
    for value in choices:
        if s.type is tuple:  # hidden sizes: kept as text "128,64" (Optuna choices are scalars)
            widths = value if isinstance(value, list) else parse_int_list(str(value), name)
            if not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
                raise LoupeError(f"The {name} choice {value!r} is not a list of whole numbers.",
                                 'write each choice as text like "128,64".')
            s.check(tuple(widths), s.section)
            value = ",".join(map(str, widths))
        elif s.type in (int, float):
            value = _number(s, value, name)
            s.check(value, s.section)
        elif s.type is bool:
            if not isinstance(value, bool):
                raise LoupeError(f"The {name} choices must be true or false, got {value!r}.",
                                 "write [true, false].")
        else:
            if not isinstance(value, str):
                raise LoupeError(f"The {name} choices must be text, got {value!r}.", "quote them.")
            s.check(value, s.section)
        if value not in clean:
            clean.append(value)
    return clean


def read_space_file(path: str) -> Space:
    file = Path(path)
    if not file.is_file():
        raise LoupeError(f"Search space file not found: {file}.", "check the path.")
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LoupeError(f"{file.name} is not valid UTF-8 JSON ({exc}).",
                         "fix the JSON syntax of the search space.") from exc
    return validate_space(raw, f"search space in {file.name}")


def apply_params(cfg: RunConfig, params: dict[str, Any]) -> RunConfig:
    """The base config with one trial's values put in (checked by RunConfig.from_dict)."""
    sections: dict[str, dict[str, Any]] = {"model": {}, "train": {}}
    for key, value in params.items():
        s = BY_KEY[key]
        if s.type is tuple:
            value = parse_int_list(str(value), key)
        sections[s.section][s.name] = value
    return cfg.replace(**{k: v for k, v in sections.items() if v})


def check_points(cfg: RunConfig, space: Space) -> None:
    """Build a config at both ends of every range and each choice: cross-setting rules
    (``RunConfig.from_dict``) fail here, before the sweep starts."""
    for key, spec in space.items():
        for value in spec.get("choices") or (spec["low"], spec["high"]):
            apply_params(cfg, {key: value})


def grid_values(space: Space) -> dict[str, list[Any]]:
    """Points per setting for the grid sampler: choices as given, ranges as GRID_POINTS points."""
    grid: dict[str, list[Any]] = {}
    for key, spec in space.items():
        if "choices" in spec:
            grid[key] = list(spec["choices"])
            continue
        low, high, is_int = spec["low"], spec["high"], BY_KEY[key].type is int
        if is_int and high - low + 1 <= GRID_POINTS:
            grid[key] = list(range(int(low), int(high) + 1))
            continue
        n = GRID_POINTS
        if spec["log"]:
            points = [math.exp(math.log(low) + i * (math.log(high) - math.log(low)) / (n - 1))
                      for i in range(n)]
        else:
            points = [low + i * (high - low) / (n - 1) for i in range(n)]
        grid[key] = sorted({int(round(p)) for p in points}) if is_int else [float(p) for p in points]
    return grid


def grid_size(space: Space) -> int:
    return math.prod(len(v) for v in grid_values(space).values())


def suggest_params(trial: Any, space: Space) -> dict[str, Any]:
    """Ask an Optuna trial for one value per setting (Optuna's public suggest_* API)."""
    params: dict[str, Any] = {}
    for key, spec in space.items():
        if "choices" in spec:
            params[key] = trial.suggest_categorical(key, spec["choices"])
        elif BY_KEY[key].type is int:
            params[key] = trial.suggest_int(key, int(spec["low"]), int(spec["high"]),
                                            step=int(spec.get("step") or 1), log=spec["log"])
        else:
            params[key] = trial.suggest_float(key, spec["low"], spec["high"],
                                              step=spec.get("step"), log=spec["log"])
    return params


def describe_space(space: Space) -> list[str]:
    """One line per setting, for the CLI and reports."""
    lines = []
    for key, spec in space.items():
        if "choices" in spec:
            lines.append(f"{key}: one of {', '.join(map(str, spec['choices']))}")
        else:
            scale = " (log)" if spec["log"] else ""
            lines.append(f"{key}: {spec['low']:g} .. {spec['high']:g}{scale}")
    return lines
