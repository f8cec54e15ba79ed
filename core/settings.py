"""Every run setting described once: where it lives, what it accepts, how to explain and ask for it.

The config dataclasses (``core.config``) hold each setting's type and default; a ``Setting`` here
adds the rest (accepted range or choices, one help sentence, the CLI flag, the form widget). Three
things are built from ``SETTINGS``: ``RunConfig.from_dict``'s range checks, the flags of
``loupe train`` (``core.cli.train``) and the dashboard's training form
(``dashboard/components/config_form.py``). A new setting is a dataclass field plus one entry here;
``tests/core/test_settings.py`` fails until both exist and the CLI and the form show it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from core.errors import LoupeError

# Where the training form shows a setting (in this order); "" = not in the form (see ``elsewhere``).
FORM_PLACES = ("head", "main", "advanced", "model", "foot")


@dataclass(frozen=True)
class Setting:
    section: str  # "run" (RunConfig itself), "data", "model" or "train"
    name: str  # the field in that section
    help: str  # one sentence for `loupe train --help` and the form's tooltip
    label: str = ""  # the form's label (default: the name, capitalised)
    low: float | None = None  # smallest accepted value (None: no lower bound)
    high: float | None = None  # largest accepted value (None: no upper bound)
    low_open: bool = False  # ``low`` itself is refused ("above 0")
    high_open: bool = False  # ``high`` itself is refused (fractions stay below 1)
    choices: tuple[str, ...] = ()  # accepted values (text settings)
    open_choices: bool = False  # other values are accepted too (device: cuda:N); the form offers these
    flag: str = ""  # `loupe train` flag (default: --name-with-dashes)
    form: str = ""  # one of FORM_PLACES, or "" when the form does not ask for it
    form_follows: str = ""  # the form sets it from another setting's widget (key "section.name")
    elsewhere: str = ""  # where it is chosen instead of the training form
    ui_low: float | None = None  # widget bounds when narrower than what is accepted
    ui_high: float | None = None
    step: float | None = None  # number widget step and format
    fmt: str | None = None
    placeholder: str | None = None

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        """The argparse attribute of the flag (unique: sections share names like ``seed``)."""
        return "setting__" + self.key.replace(".", "__")

    # --- type and default: read from the config dataclass, where they are declared ---------------
    @property
    def hint(self) -> Any:
        from core.config import section_class  # lazy: core.config builds its checks from this module

        return typing.get_type_hints(section_class(self.section))[self.name]

    @property
    def optional(self) -> bool:
        return type(None) in typing.get_args(self.hint)

    @property
    def type(self) -> type:
        """int, float, str, bool or tuple (a list of ``item_type``)."""
        hint = self.hint
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        return tuple if typing.get_origin(hint) is tuple else hint

    @property
    def item_type(self) -> type | None:
        hint = self.hint
        return typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None

    @property
    def default(self) -> Any:
        from core.config import section_class

        field = next(f for f in dataclasses.fields(section_class(self.section)) if f.name == self.name)
        return field.default if field.default is not dataclasses.MISSING else field.default_factory()

    # --- validation ---------------------------------------------------------------------------
    def expected(self) -> str:
        """What an accepted value is, in words ("at least 1"); "" when anything of the type goes."""
        if self.choices and not self.open_choices:
            return "one of " + ", ".join(self.choices)
        if self.low is not None and self.high is not None:
            if (self.low, self.high, self.low_open, self.high_open) == (0, 1, False, True):
                return "a fraction from 0 up to (not including) 1"
            return (f"from {self.low:g}{' (not included)' if self.low_open else ''} up to "
                    f"{'(not including) ' if self.high_open else ''}{self.high:g}")
        if self.low is not None:
            return f"above {self.low:g}" if self.low_open else f"at least {self.low:g}"
        if self.high is not None:
            return f"below {self.high:g}" if self.high_open else f"at most {self.high:g}"
        return ""

    def accepts(self, value: Any) -> bool:
        """One value (one item of a list setting) of the right type: inside the range/choices?"""
        if self.choices and not self.open_choices:
            return value in self.choices
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or (value < self.high or (not self.high_open and value == self.high))

    def check(self, value: Any, where: str) -> None:
        """LoupeError naming ``where.name`` (and the item) when ``value`` is outside what is accepted;
        None (an optional setting left out) is always accepted."""
        if value is None or not self.expected():
            return
        items = enumerate(value) if isinstance(value, tuple) else [(None, value)]
        for i, item in items:
            if not self.accepts(item):
                name = f"{where}.{self.name}" + ("" if i is None else f"[{i}]")
                fix = (f"give '{name}' a value {self.expected()}, or leave it out for the default."
                       if i is None else f"give every item of '{where}.{self.name}' a value "
                       f"{self.expected()}, e.g. {list(self.default)}.")
                raise LoupeError(f"Setting '{name}' must be {self.expected()}, got {item!r}.", fix)


def parse_int_list(text: str, where: str) -> list[int]:
    """``"128, 64"`` -> [128, 64] for list settings typed as text (CLI flag, form field)."""
    try:
        values = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise LoupeError(f"{where} {text!r} is not a list of whole numbers.",
                         "write widths separated by commas, e.g. 128,64.") from None
    if not values:
        raise LoupeError(f"{where} needs at least one width.", "write e.g. 128,64.")
    return values


_FRACTION = {"low": 0, "high": 1, "high_open": True}
_DATA_PAGE = "the Data page (columns, encoding) and the Data picker above the training form"

SETTINGS: tuple[Setting, ...] = (
    # --- the run ---------------------------------------------------------------------------------
    Setting("run", "name", "A readable name for the run history.", label="Run name", form="head",
            placeholder="(automatic)"),
    Setting("run", "tags", "Labels to find the run later, e.g. baseline, small (the flag repeats; "
            "the form takes them separated by commas).", flag="--tag", form="foot"),
    # --- model -----------------------------------------------------------------------------------
    Setting("model", "name", "Model name, Hugging Face id or local folder (the kind's choices).",
            label="Model", flag="--model", form="head"),
    Setting("model", "hidden_sizes", "Tabular: units per hidden layer of the MLP, e.g. 128,64.",
            low=1, form="model"),
    Setting("model", "dropout", "Dropout probability in the model head.", form="model", ui_high=0.95,
            **_FRACTION),
    Setting("model", "max_length", "Text: tokens kept per text; longer texts are truncated (the "
            "report counts them).", low=8, form="model", ui_high=100_000),
    Setting("model", "image_size", "Image: side of the square model input in pixels.", low=16,
            form="model", ui_high=100_000),
    Setting("model", "freeze_backbone", "Train only the new classification head of a pretrained "
            "model (faster, less accurate).", form="model"),
    Setting("model", "pretrained", "Start from pretrained weights where the model has them.",
            form="model"),
    # --- training --------------------------------------------------------------------------------
    Setting("train", "epochs", "Passes over the training data. Early stopping may end training "
            "sooner.", low=1, form="main", ui_high=10_000),
    Setting("train", "batch_size", "Examples per optimizer step (before gradient accumulation). "
            "Larger is faster on a GPU but needs more memory.", low=1, form="main", ui_high=65_536),
    Setting("train", "lr", "Peak learning rate of AdamW (after warm-up, then decayed linearly to "
            "zero).", label="Learning rate", low=0, low_open=True, form="main", ui_low=1e-7,
            ui_high=10.0, step=1e-4, fmt="%.2e"),
    Setting("train", "patience", "Stop after this many epochs without improvement of the "
            "validation metric; 0 never stops.", low=0, form="main", ui_high=1000),
    Setting("train", "weight_decay", "AdamW weight decay (not applied to biases and norms).", low=0,
            form="advanced", ui_high=10.0, fmt="%.4g"),
    Setting("train", "warmup_ratio", "Share of steps over which the learning rate ramps up from "
            "zero.", label="Warm-up ratio", form="advanced", ui_high=0.9, **_FRACTION),
    Setting("train", "grad_accum", "Accumulate gradients over this many batches per optimizer step "
            "(bigger effective batch).", label="Gradient accumulation", low=1, form="advanced",
            ui_high=1024),
    Setting("train", "max_grad_norm", "Clip the gradient norm to this value; 0 turns clipping off.",
            label="Max grad norm", low=0, form="advanced", ui_high=1e6),
    Setting("train", "max_steps", "Stop after this many optimizer steps (in the form, 0 = no "
            "limit). Handy for quick checks.", low=1, form="advanced", ui_high=10**9),
    Setting("train", "device", "auto picks the GPU when there is one; or cpu, cuda, cuda:N.",
            choices=("auto", "cpu", "cuda"), open_choices=True, form="advanced"),
    Setting("train", "precision", "auto: bf16 where the GPU supports it, fp16 with loss scaling "
            "otherwise; on CPU fp32, or bf16 for image models where the CPU has bf16 instructions.",
            choices=("auto", "bf16", "fp16", "fp32"), form="advanced"),
    Setting("train", "num_workers", "Data-loading worker processes; 0 loads in the training "
            "process.", label="Loader workers", low=0, form="advanced", ui_high=64),
    Setting("train", "seed", "Seed for shuffling and initialisation (the form also uses it for the "
            "data split).", form="advanced", ui_low=0, ui_high=2**31 - 1),
    Setting("train", "checkpoint_every", "Seconds of training between resume checkpoints (a crash "
            "loses at most this much plus one epoch); 0 writes one every epoch. The best model and "
            "the last epoch are always saved.", label="Checkpoint every (s)", low=0,
            form="advanced", ui_high=86_400.0, step=5.0, fmt="%.0f"),
    # --- data ------------------------------------------------------------------------------------
    Setting("data", "source", "File, folder or zip of the data, or sample:NAME (see `loupe samples`).",
            flag="--data", elsewhere=_DATA_PAGE),
    Setting("data", "target", "Tabular: the numeric column to predict.", elsewhere=_DATA_PAGE),
    Setting("data", "text_column", "Text: the column holding the texts (auto-detected).",
            elsewhere=_DATA_PAGE),
    Setting("data", "label_column", "Text: the column holding the labels (auto-detected).",
            elsewhere=_DATA_PAGE),
    Setting("data", "negative_source", "Text: a file of negative lines (the data file holds the "
            "positives).", flag="--negative-data",
            elsewhere="the CLI and config files only (the Data page takes one labelled table)"),
    Setting("data", "encoding", "Text encoding of the file when it is not UTF-8.", elsewhere=_DATA_PAGE),
    Setting("data", "val_fraction", "Share of rows held out to pick the best epoch.",
            label="Validation share", form="advanced", ui_low=0.01, ui_high=0.5, **_FRACTION),
    Setting("data", "test_fraction", "Share of rows held out for the final, untouched score.",
            label="Test share", form="advanced", ui_high=0.5, **_FRACTION),
    Setting("data", "max_rows", "Use a random sample of this many rows (in the form, 0 = all).",
            low=1, form="advanced", ui_high=10**9),
    Setting("data", "seed", "Seed of the train/validation/test split.", flag="--split-seed",
            form_follows="train.seed"),
    Setting("data", "edits", "A reviewed version of the data: the edits file (rows left out, "
            "labels corrected) that the data check's review saved; the split stays the same.",
            flag="--data-edits", elsewhere="the Runs page's Data check review"),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def section_settings(section: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if s.section == section)


def form_settings(place: str) -> tuple[Setting, ...]:
    """The settings the training form shows at ``place`` (see FORM_PLACES), in SETTINGS order
    (the advanced grid fills four columns row by row)."""
    return tuple(s for s in SETTINGS if s.form == place)
