"""Text fine-tuning throughput: Loupe's loop vs transformers' Trainer, side by side in one process.

Same model (the packaged MiniLM with a fresh head, same seed), same train split of the generated
reviews, same max length, batch size, precision, optimizer settings and number of optimizer steps.
The anchor is Trainer as usually set up: a tokenizer-padding collator (dynamic padding) and random
batches. Loupe adds length-grouped batches (mega-batches of 50 sorted by length), so on skewed
lengths most padding work disappears. Accuracy after the same budget is measured on the same
held-out texts with the same prediction code for both models.

Both sides are warmed up first (``--warmup-steps`` untimed steps each: first CUDA context and
kernels, file cache), then measured ``--rounds`` times in alternating order (Loupe, Trainer,
Trainer, Loupe, ...); the medians are printed (use ``--rounds 2`` or more on a GPU).

    .venv/bin/python benchmarks/text_train_bench.py            # ~4 min on a 2-core CPU
    .venv/bin/python benchmarks/text_train_bench.py --steps 60 --batch-size 32 --device cuda
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=12, help="optimizer steps for each side")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--rows", type=int, default=700, help="rows of the sample used (70%% train)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="auto", help="auto (fp32 on CPU, bf16 on new GPUs)")
    p.add_argument("--rounds", type=int, default=1, help="measured runs per side, order alternating")
    p.add_argument("--warmup-steps", type=int, default=3, help="untimed steps per side first (0: none)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch CPU threads (0: default; 1 gives steadier figures on a busy machine)")
    return p.parse_args()


class StepClock:
    """Wall and process-CPU time at the end of every optimizer step. Rates are taken from the end
    of step 1 to the end of the last step, so start-up (first batch, allocations) is excluded the
    same way on both sides; CPU seconds are the steadier figure on a shared machine."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, float]] = []

    def mark(self, *_: object, **__: object) -> None:
        self.marks.append((time.perf_counter(), time.process_time()))

    def rates(self, batch_size: int) -> tuple[float, float]:
        (w0, c0), (w1, c1) = self.marks[0], self.marks[-1]
        samples = batch_size * (len(self.marks) - 1)
        return samples / (w1 - w0), samples / (c1 - c0)


def loupe_side(cfg, store):  # noqa: ANN001, ANN201 — script helper
    from core.train import train

    clock = StepClock()
    started = time.perf_counter()
    result = train(cfg, store, [lambda p: clock.mark() if p.phase == "train" else None])
    wall = time.perf_counter() - started
    return result, clock, wall


def trainer_side(cfg, data, out_dir: Path, precision: str):  # noqa: ANN001, ANN201
    from transformers import (
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        set_seed,
    )

    from core.models import text_models as tm

    tokenizer = tm.load_tokenizer(cfg.model.name)
    train_rows = [{"input_ids": ids, "labels": int(label)}
                  for ids, label in zip(data.train.input_ids, data.train.labels, strict=True)]
    order = np.random.default_rng(cfg.train.seed).permutation(len(train_rows))
    train_rows = [train_rows[i] for i in order]  # Trainer shuffles anyway; no length order leaks
    set_seed(cfg.train.seed)
    model = tm.build_classifier(cfg.model.name, data.meta["labels"])
    t = cfg.train
    args = TrainingArguments(
        output_dir=str(out_dir), per_device_train_batch_size=t.batch_size, max_steps=t.max_steps,
        learning_rate=t.lr, weight_decay=t.weight_decay,
        warmup_steps=int(t.max_steps * t.warmup_ratio),  # the same rule as Loupe's loop
        lr_scheduler_type="linear", max_grad_norm=t.max_grad_norm, seed=t.seed,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=t.device == "cpu",
        save_strategy="no", eval_strategy="no", report_to=[], logging_strategy="no",
        dataloader_num_workers=0, disable_tqdm=True,
    )
    clock = StepClock()

    class Clock(TrainerCallback):
        def on_step_end(self, *args: object, **kwargs: object) -> None:
            clock.mark()

    trainer = Trainer(model=model, args=args, train_dataset=train_rows,
                      data_collator=DataCollatorWithPadding(tokenizer), callbacks=[Clock()])
    started = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - started
    return trainer.model, clock, wall


def accuracy(model, data, cfg) -> float:  # noqa: ANN001
    """The same prediction code for both models: only the training differs."""
    from core.models import text_models as tm
    from core.runtime import inference_runtime
    from core.tasks.text import TextPredictor

    predictor = TextPredictor(model, tm.load_tokenizer(cfg.model.name),
                              {"labels": data.meta["labels"], "max_length": cfg.model.max_length},
                              inference_runtime(cfg.train.device))
    probs = predictor.predict_proba(data.test.texts)
    return float((probs.argmax(axis=1) == data.test.labels).mean())


def main() -> None:
    a = parse()
    if a.threads:
        torch.set_num_threads(a.threads)
    home = Path(tempfile.mkdtemp(prefix="loupe-bench-"))
    os.environ["LOUPE_HOME"] = str(home)
    from core.runtime import resolve_device, resolve_precision
    from core.store import RunStore
    from core.tasks import get_task

    task = get_task("text")
    cfg = task.default_config("reviews").replace(
        data={"max_rows": a.rows, "val_fraction": 0.1, "test_fraction": 0.2},
        model={"max_length": a.max_length},
        train={"batch_size": a.batch_size, "max_steps": a.steps, "lr": a.lr, "epochs": 100,
               "patience": 0, "device": a.device, "precision": a.precision, "seed": 0},
    )
    precision = resolve_precision(resolve_device(a.device), a.precision)
    data = task.load_data(cfg)
    lengths = data.train.lengths
    print(f"device {a.device} ({torch.get_num_threads()} threads), precision {precision}, "
          f"batch {a.batch_size}, max_length {a.max_length}, {a.steps} optimizer steps")
    print(f"train texts {len(lengths)}: tokens mean {lengths.mean():.0f}, "
          f"p50 {np.median(lengths):.0f}, p90 {np.percentile(lengths, 90):.0f}, "
          f"max {lengths.max()}; test texts {len(data.test)}")

    grouped = data.train_batch_sampler(a.batch_size, 0, 0)
    shuffled = np.random.default_rng(0).permutation(len(lengths))
    random_batches = [shuffled[i:i + a.batch_size] for i in range(0, len(lengths), a.batch_size)]
    print(f"padded tokens per batch: length-grouped {_padded(grouped, lengths):.0f}, "
          f"random {_padded(random_batches, lengths):.0f}")

    store = RunStore()
    if a.warmup_steps:  # untimed: both sides pay their first-use costs before anything is measured
        short = cfg.replace(train={"max_steps": a.warmup_steps})
        loupe_side(short, store)
        trainer_side(short, data, home / "warmup", precision)
    sides = {"loupe": [], "trainer": []}
    for r in range(a.rounds):
        for side in (("loupe", "trainer") if r % 2 == 0 else ("trainer", "loupe")):
            if side == "loupe":
                result, clock, wall = loupe_side(cfg, store)
                model = _reload(task, cfg, data, result)
            else:
                model, clock, wall = trainer_side(cfg, data, home / f"trainer{r}", precision)
            sides[side].append((model, clock.rates(a.batch_size), wall))
    ours, ours_cpu, loupe_wall = _medians(sides["loupe"])
    theirs, theirs_cpu, hf_wall = _medians(sides["trainer"])
    ours_acc = accuracy(sides["loupe"][-1][0], data, cfg)
    hf_acc = accuracy(sides["trainer"][-1][0], data, cfg)

    print()
    print(f"medians of {a.rounds} round(s), order alternating, after {a.warmup_steps} warm-up steps")
    print(f"{'':24s}{'samples/s':>11s}{'per CPU-s':>11s}{'test accuracy':>15s}{'wall s':>9s}")
    print(f"{'Loupe loop':24s}{ours:11.2f}{ours_cpu:11.2f}{ours_acc:15.3f}{loupe_wall:9.1f}")
    print(f"{'transformers Trainer':24s}{theirs:11.2f}{theirs_cpu:11.2f}{hf_acc:15.3f}"
          f"{hf_wall:9.1f}")
    print(f"RATIO train samples/s Loupe/Trainer: {ours / theirs:.2f}x wall, "
          f"{ours_cpu / theirs_cpu:.2f}x per CPU-second (goal >= 1.3x)")
    print(f"ACCURACY after {a.steps} steps: Loupe {ours_acc:.3f} vs Trainer {hf_acc:.3f} "
          f"(difference {ours_acc - hf_acc:+.3f})")
    print("(rates cover optimizer steps 2..N on both sides; Loupe's wall time also includes "
          "validation, checkpoints and the final evaluation of every split)")


def _medians(runs: list) -> tuple[float, float, float]:  # noqa: ANN001
    """Medians of (samples/s, samples per CPU-second, wall seconds) over one side's rounds."""
    return (statistics.median(r[1][0] for r in runs), statistics.median(r[1][1] for r in runs),
            statistics.median(r[2] for r in runs))


def _padded(batches, lengths: np.ndarray) -> float:  # noqa: ANN001
    return float(np.mean([len(b) * lengths[list(b)].max() for b in batches]))


def _reload(task, cfg, data, result):  # noqa: ANN001, ANN202
    model = task.build_model(cfg, data)
    task.load_weights(model, result.artifact_dir)
    return model


if __name__ == "__main__":
    main()
