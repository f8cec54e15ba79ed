"""The epoch loop behind ``core.train.train``: batches, optimizer steps, evaluation, early
stopping, checkpoints and progress callbacks. ``core.train`` creates the run and handles failures;
this module only trains (and writes only from the main process).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from core.checkpoint import LoopState, atomic_dir, commit_dir, load_checkpoint, remove_partial_dirs
from core.checkpoint_writer import (
    BackgroundWriter,
    CheckpointSchedule,
    cpu_copy,
    cpu_state,
    same_weights,
    save_job,
)
from core.config import RunConfig
from core.eta import Remaining, RunClock
from core.phases import Tracker, phase
from core.runtime import Runtime, seed_everything
from core.store import MetricLogger, RunStore
from core.tasks import PreparedData, Task

SPLITS = ("train", "val", "test")


@dataclass
class Progress:
    """What a progress display needs, sent to callbacks after every optimizer step and eval."""

    run_id: str
    phase: str  # train | eval | done
    step: int
    total_steps: int
    epoch: int
    epochs: int
    loss: float | None = None
    samples_per_s: float = 0.0
    eta_s: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainResult:
    run_id: str
    status: str
    metrics: dict[str, float]
    artifact_dir: Path | None
    report: dict[str, Any]


class Cancelled(Exception):
    """Raised inside the loop when a cancel was requested."""


class RunDeleted(Cancelled):
    """Raised inside the loop when the run's row is gone (deleted): stop, write nothing more."""


Callback = Callable[[Progress], None]
Evaluated = tuple[np.ndarray, np.ndarray, float]  # a split's outputs, targets and mean loss


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """A reproducible shuffle for one epoch, chunked into batches (same on every process)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1009 + epoch)).tolist()
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]



class TrainingLoop:
    def __init__(
        self, cfg: RunConfig, task: Task, data: PreparedData, runtime: Runtime,
        store: RunStore | None, run_id: str, run_dir: Path, callbacks: Sequence[Callback],
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.cfg, self.task, self.data, self.rt = cfg, task, data, runtime
        self.acc = runtime.accelerator
        self.store, self.run_id, self.callbacks = store, run_id, callbacks
        self.should_stop = should_stop
        self.logger = MetricLogger(store, run_id)
        self.run_dir = run_dir  # every process reads checkpoints; only the main one writes
        self.writer = store is not None
        self.state = LoopState()
        self.counts = {"samples": 0, "tokens": 0}
        self.train_seconds = 0.0
        self.clock = RunClock()  # measured step/eval/save times -> the ETA (core.eta)
        self.eta_s: float | None = None
        self.validations_done = self.saves_done = 0
        self.final_left: int | None = None  # evaluation batches left once the final one started
        self.start_name = ""  # the start candidate (run() asks the task; a direct fit has none)
        self.saver = BackgroundWriter()  # end-of-epoch files, written beside training
        self.schedule = CheckpointSchedule(cfg.train.checkpoint_every)
        self.best_unsaved = False  # best_copy is newer than the model folder on disk
        # The best epoch's validation (outputs, targets, loss) and weights: see _reusable_val
        self.last_val: Evaluated | None = None
        self.best_val: Evaluated | None = None
        self.best_copy: torch.nn.Module | None = None
        self.plain_loss, self.resumed = 0.0, False  # plain_loss: summed as _finish sums it

    # --- setup ----------------------------------------------------------------------------
    def _loader(self, dataset: Any, batches: Iterable[list[int]] | None, batch_size: int) -> DataLoader:
        t = self.cfg.train
        kwargs: dict[str, Any] = {
            "collate_fn": self.data.collate_fn,
            "num_workers": t.num_workers,
            "pin_memory": self.rt.pin_memory,
            "persistent_workers": False,
        }
        if batches is not None:
            return DataLoader(dataset, batch_sampler=list(batches), **kwargs)
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, **kwargs)

    def _train_batches(self, epoch: int) -> list[list[int]]:
        t = self.cfg.train
        if self.data.train_batch_sampler is not None:
            return list(self.data.train_batch_sampler(t.batch_size, t.seed, epoch))
        return epoch_batches(len(self.data.train), t.batch_size, t.seed, epoch)

    def _setup(self, resume: bool) -> None:
        t = self.cfg.train
        phase("Building the model")
        model = self.task.build_model(self.cfg, self.data)
        model = self.task.on_device(model, self.rt)
        lr = t.lr
        fused = self.rt.device.type == "cuda"
        self.optimizer = torch.optim.AdamW(
            self.task.optimizer_groups(model, self.cfg), lr=lr, fused=fused or None
        )
        batches_per_epoch = math.ceil(len(self._train_batches(0)) / self.rt.num_processes)
        self.steps_per_epoch = max(1, math.ceil(batches_per_epoch / t.grad_accum))
        total = self.steps_per_epoch * t.epochs
        self.total_steps = min(total, t.max_steps) if t.max_steps else total
        warmup = int(self.total_steps * t.warmup_ratio)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _warmup_linear(warmup, self.total_steps)
        )
        if resume:
            self.resumed = True
            if self.writer:  # a kill -9 may have cut a checkpoint swap short
                remove_partial_dirs(self.run_dir)
            self.acc.wait_for_everyone()
            restored = load_checkpoint(self.run_dir / "checkpoint", model, self.optimizer,
                                       self.scheduler)
            if restored:
                self.state = restored
            if self.store is not None:  # the steps after the checkpoint run again: log them once
                # (with no checkpoint, everything runs again, the start candidate's step 0 too)
                self.store.delete_metrics_after(self.run_id, self.state.global_step
                                                if restored else -1)
        self.model, self.optimizer = self.acc.prepare(model, self.optimizer)
        self.val_loader = self.acc.prepare(self._loader(self.data.val, None, t.batch_size))
        self.val_batches = len(self.val_loader)
        self.final_batches = sum(math.ceil(len(getattr(self.data, s)) / t.batch_size) for s in SPLITS)
        self.epochs_planned = min(t.epochs, math.ceil(self.total_steps / self.steps_per_epoch))
        self.validations_done = self.saves_done = self.state.epoch

    def _remaining(self, eval_done: int = 0) -> Remaining:
        """The work left: steps, validations of the planned epochs, saves, final evaluation
        (early stopping may end sooner: the ETA is an upper bound)."""
        if self.final_left is not None:
            return Remaining(eval_batches=max(0, self.final_left - eval_done))
        vals = max(0, self.epochs_planned - self.validations_done) * self.val_batches - eval_done
        return Remaining(max(0, self.total_steps - self.state.global_step),
                         max(0, vals) + self.final_batches,
                         max(0, self.epochs_planned - self.saves_done))

    def _eta(self, eval_done: int = 0) -> float | None:
        self.eta_s = self.clock.eta(self._remaining(eval_done))
        return self.eta_s

    # --- main loop ------------------------------------------------------------------------
    def run(self, resume: bool) -> TrainResult:
        try:
            return self._run(resume)
        except BaseException as exc:  # no write may run under the caller's clean-up
            raise self.saver.settle(exc, plain_cancel=type(exc) is Cancelled)  # noqa: B904
        finally:
            self.saver.close()

    def _run(self, resume: bool) -> TrainResult:
        fitted = self.task.fit_directly(self.cfg, self.data)
        if fitted is not None:
            return self._finish_direct(fitted)
        self._setup(resume)
        self._record_cache_entries()
        t = self.cfg.train
        self.start_name = self.task.start_candidate(self.cfg, self.data)
        if self.start_name and self.state.epoch == 0 and self.state.global_step == 0:
            self._score_start()
        stop = self.state.complete or self.state.global_step >= self.total_steps
        for epoch in range(self.state.epoch, t.epochs):
            if stop:
                break
            seed_everything(t.seed * 1000 + epoch)
            stop = self._train_epoch(epoch)
            metrics = self._evaluate_val(epoch + 1)
            stop = self._after_epoch(epoch, metrics, stop)
        self._emit("done", self.state.epoch, {})
        return self._finish()

    def _train_epoch(self, epoch: int) -> bool:
        t = self.cfg.train
        loader = self.acc.prepare(self._loader(self.data.train, self._train_batches(epoch), t.batch_size))
        self.model.train()
        tracker = phase(f"Training · epoch {epoch + 1} of {self.epochs_planned}",
                        total=self.total_steps, unit="steps", eta_s=self.eta_s)
        tracker.update(self.state.global_step, eta_s=self.eta_s)
        started = time.perf_counter()
        running, micro = 0.0, 0
        for batch in loader:
            with self.acc.accumulate(self.model):
                with self.acc.autocast():
                    loss, _ = self.task.forward(self.model, batch)
                self.acc.backward(loss)
                if self.acc.sync_gradients and t.max_grad_norm:
                    self.acc.clip_grad_norm_(self.model.parameters(), t.max_grad_norm)
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
            running += float(loss.detach())
            micro += 1
            for key, value in self.task.count(batch).items():
                self.counts[key] = self.counts.get(key, 0) + value * self.rt.num_processes
            if not self.acc.sync_gradients:
                continue
            self.scheduler.step()
            self.state.global_step += 1
            seconds = time.perf_counter() - started
            self.train_seconds += seconds
            self.clock.step(seconds)
            tracker.update(self.state.global_step, eta_s=self._eta())
            started = time.perf_counter()
            step_loss, running, micro = running / micro, 0.0, 0
            in_epoch = self.state.global_step - epoch * self.steps_per_epoch
            frac_epoch = epoch + in_epoch / self.steps_per_epoch
            self.logger.log(self.state.global_step, frac_epoch, "train",
                            {"loss": step_loss, "lr": self.scheduler.get_last_lr()[0]})
            self._emit("train", epoch, {}, loss=step_loss)
            self._check_cancel()
            if self.state.global_step >= self.total_steps:
                return True
        return False

    def _ensure_run(self) -> None:
        """Before writing files: stop if the run was deleted (never re-create its folder).

        With several processes the others wait at the next barrier, so the main one stops
        writing instead and the next cancel check (heartbeat: run gone) stops them all."""
        if self.writer and not self.store.run_exists(self.run_id):
            if self.rt.num_processes == 1:
                raise RunDeleted()
            self.writer = False

    def _flush_or_stop(self) -> bool:
        """Before a checkpoint: the points it covers reach the store first (a resume after a
        kill -9 starts from the checkpoint and never replays them), in the same connection as
        the check that the run was not deleted (``_ensure_run``'s rule). False: write nothing."""
        if self.logger.flush_if_run():
            return True
        if self.rt.num_processes == 1:
            raise RunDeleted()
        self.writer = False
        return False

    def _ensure_final(self) -> None:
        """In ``_finish`` (the other processes are done): a deleted run stops here."""
        if not self.store.run_exists(self.run_id):
            raise RunDeleted()

    def _record_cache_entries(self) -> None:
        """List the cache entries the run's data used (``cache_entries`` in its meta: e.g. the
        decoded pixels of its photos) in ``cache.json``, so deleting the run deletes them too
        (``core.store.runs.forget_cache_entries``). A resume adds to the list."""
        entries = [e for e in self.data.meta.get("cache_entries", []) if e]
        if not (self.writer and entries):
            return
        listed = self.run_dir / "cache.json"
        before = json.loads(listed.read_text()) if listed.is_file() else []
        listed.write_text(json.dumps(list(dict.fromkeys([*before, *entries]))))

    def _check_cancel(self) -> None:
        local = bool(self.should_stop and self.should_stop())
        if self.store is not None and self.logger.due():
            self.logger.flush()
            local = self.store.heartbeat(self.run_id) or local
        if self.rt.num_processes > 1 and self.state.global_step % 20 == 0:
            flag = torch.tensor([1.0 if local else 0.0], device=self.rt.device)
            local = bool(self.acc.reduce(flag, reduction="sum").item() > 0)
        if local:
            raise Cancelled()

    def _evaluate_val(self, epoch: int) -> dict[str, float]:
        tracker = phase(f"Validating · epoch {epoch}", total=self.val_batches, unit="batches",
                        eta_s=self.eta_s)
        outputs, targets, loss = self._predict(self.val_loader, distributed=True, tracker=tracker)
        self.validations_done += 1
        one = self.rt.num_processes == 1 and not self.resumed
        self.last_val = (outputs, targets, self.plain_loss) if one else None
        metrics = {"loss": loss, **self.task.metrics(outputs, targets, self.data)}
        self.logger.log(self.state.global_step, epoch, "val", metrics)
        self._emit("eval", epoch, metrics)
        return metrics

    def _score_start(self) -> None:
        """Score the untrained model (e.g. a linear-probe head on the frozen encoder) as epoch 0
        and keep it as the best so far: training has to beat it to replace it."""
        metrics = self._evaluate_val(0)
        self._ensure_run()
        self.state.best, self.state.best_loss = float(metrics[self.task.monitor]), float(metrics["loss"])
        self.state.best_epoch, self.state.start_score = 0, self.state.best
        self._keep_best()
        self.acc.wait_for_everyone()

    def _start_notice(self) -> str:
        """In plain words: did training beat the start candidate, or was it kept?"""
        s, name, monitor = self.state, self.start_name, self.task.monitor
        if s.start_score is None:
            return ""
        if s.best_epoch == 0:
            trained = "" if s.best_trained is None else f"; best trained epoch {s.best_trained:.3f}"
            return (f"Fine-tuning did not beat the {name} on validation ({monitor} "
                    f"{s.start_score:.3f}{trained}): too few examples for fine-tuning to help, "
                    f"so Loupe kept the {name}.")
        return (f"Fine-tuning beat the {name} on validation: {monitor} {s.start_score:.3f} → "
                f"{s.best:.3f} (epoch {s.best_epoch} kept).")

    def _better(self, value: float, loss: float) -> bool:
        """A higher (or lower) monitor wins; on a tie, a lower validation loss does. Small
        validation sets saturate accuracy/F1 early (1.0 on 30 images), and without the tie-break
        the first perfect epoch would be kept and later, more confident epochs counted as bad."""
        best = self.state.best
        if best is None:
            return True
        if value != best:
            return value < best if self.task.monitor_mode == "min" else value > best
        return self.state.best_loss is not None and loss < self.state.best_loss

    def _ranks_above(self, value: float, other: float) -> bool:
        return value < other if self.task.monitor_mode == "min" else value > other

    def _after_epoch(self, epoch: int, metrics: dict[str, float], stop: bool) -> bool:
        """Keep the best, count bad epochs, save when a checkpoint is due; True when training
        ends here."""
        t = self.cfg.train
        value = metrics[self.task.monitor]
        better = self._better(float(value), float(metrics["loss"]))
        self.state.epoch = epoch + 1
        if self.state.best_trained is None or self._ranks_above(float(value), self.state.best_trained):
            self.state.best_trained = float(value)
        started = time.perf_counter()
        if better:
            self.state.best, self.state.best_loss = float(value), float(metrics["loss"])
            self.state.best_epoch = epoch + 1
            self.state.bad_epochs = 0
            self._keep_best()
        else:
            self.state.bad_epochs += 1
        # The epoch that ends training writes a complete checkpoint (state only, core.checkpoint)
        self.state.complete = (stop or epoch + 1 >= t.epochs
                               or bool(t.patience and self.state.bad_epochs >= t.patience))
        if self.writer and self.schedule.due(self.state.complete):
            phase("Saving the best model and a checkpoint" if self.best_unsaved
                  else "Saving a checkpoint", eta_s=self._eta())
            if self._flush_or_stop():
                self._save(replace(self.state))
        self.acc.wait_for_everyone()
        self.saves_done += 1
        self.clock.saved(time.perf_counter() - started)
        return self.state.complete

    def _keep_best(self) -> None:
        """A CPU snapshot of the best model so far (and its validation outputs), written with
        the next checkpoint (``core.checkpoint_writer``)."""
        if self.writer:
            self.best_copy, self.best_val = cpu_copy(self.acc.unwrap_model(self.model)), self.last_val
            self.best_unsaved = True

    def _save(self, state: LoopState) -> None:
        """Snapshot the model (and optimizer) to the CPU now; write them, and the best model when
        it changed since the last save, in the background while the next epoch trains."""
        model = states = None
        if not state.complete:  # this epoch's best snapshot already holds these weights
            fresh = self.best_unsaved and self.state.best_epoch == state.epoch
            model = self.best_copy if fresh else cpu_copy(self.acc.unwrap_model(self.model))
            optimizer = getattr(self.optimizer, "optimizer", self.optimizer)
            states = cpu_state({"optimizer": optimizer.state_dict(),
                                "scheduler": self.scheduler.state_dict()})
        artifact = None
        if self.best_unsaved:
            task, cfg, data = self.task, self.cfg, self.data
            artifact = lambda m, out: task.save_artifact(m, cfg, data, out)  # noqa: E731
        self.saver.submit(save_job(self.run_dir, artifact, self.best_copy, model, states, state))
        self.best_unsaved = False
        self.schedule.taken()

    # --- evaluation -----------------------------------------------------------------------
    def _predict(self, loader: Any, distributed: bool, tracker: Tracker | None = None
                 ) -> tuple[np.ndarray, np.ndarray, float]:
        self.model.eval()
        outs, tgts, loss_sum, count, plain = [], [], 0.0, 0, 0.0
        started = time.perf_counter()
        with torch.no_grad():
            for done, batch in enumerate(loader, start=1):
                if not distributed:
                    batch = self.rt.to_device(batch)
                with self.acc.autocast():
                    loss, out = self.task.forward(self.model, batch)
                n = batch["labels"].shape[0]
                labels = batch["labels"]
                plain += float(loss) * n
                if distributed:
                    out, labels = self.acc.gather_for_metrics((out.contiguous(), labels.contiguous()))
                    losses = self.acc.gather_for_metrics(loss.detach().reshape(1).repeat(n))
                    loss_sum += float(losses.float().sum())
                    count += int(losses.numel())
                else:
                    loss_sum += float(loss) * n
                    count += n
                outs.append(out.float().cpu().numpy())
                tgts.append(labels.cpu().numpy())
                if tracker is not None:
                    tracker.update(done, eta_s=self._eta(eval_done=done))
        self.clock.evaluated(len(outs), time.perf_counter() - started)
        self.model.train()
        self.plain_loss = plain / max(sum(len(t) for t in tgts), 1)
        return np.concatenate(outs), np.concatenate(tgts), loss_sum / max(count, 1)

    def _finish(self) -> TrainResult:
        self.saver.wait()  # the best model is on disk before it is loaded; a write error raises
        self.acc.wait_for_everyone()
        if not self.writer:  # non-main process: the main one evaluates and saves
            return TrainResult(self.run_id, "completed", {}, None, {})
        model = self.acc.unwrap_model(self.model)
        model_dir = self.run_dir / "model"
        self._ensure_final()
        self.task.load_weights(model, model_dir)
        reused = self._reusable_val(model)
        outputs, targets, final = {}, {}, {}
        self.final_left = self.final_batches
        for split in SPLITS:  # as evaluation reads them: the train split without augmentation
            dataset = self.task.evaluation_view(getattr(self.data, split))
            loader = self._loader(dataset, None, self.cfg.train.batch_size)
            tracker = phase(f"Final evaluation · {split} split", total=len(loader), unit="batches",
                            eta_s=self._eta())
            if split == "val" and reused is not None:  # the best epoch's validation, verified
                outputs[split], targets[split], loss = reused
            else:
                outputs[split], targets[split], loss = self._predict(loader, distributed=False,
                                                                     tracker=tracker)
            self.final_left -= len(loader)
            scores = {"loss": loss, **self.task.metrics(outputs[split], targets[split], self.data)}
            final.update({f"{split}_{k}": float(v) for k, v in scores.items()})
        phase("Writing the report", eta_s=0.0)
        report = self.task.report(model, self.data, outputs, targets)
        final.update({k: float(v) for k, v in report.pop("extra_metrics", {}).items()})
        report["notices"] = list(self.data.notices)
        if self.start_name and self.state.start_score is not None:
            report["start_outcome"] = self._start_notice()  # shown apart: it says what was kept
            report["notices"].append(report["start_outcome"])
            report["kept_epoch"] = self.state.best_epoch
            final[f"start_val_{self.task.monitor}"] = float(self.state.start_score)
        report["split_rows"] = {s: len(getattr(self.data, s)) for s in SPLITS}
        self._ensure_final()
        (self.run_dir / "report.json").write_text(json.dumps(report, default=_json_default))
        self.store.add_artifact(self.run_id, "model", model_dir)
        self.store.add_artifact(self.run_id, "report", self.run_dir / "report.json")
        self.store.log_system(self.run_id, self._system_figures())
        self.logger.flush()
        self.store.finish_run(self.run_id, final)
        return TrainResult(self.run_id, "completed", final, model_dir, report)

    def _reusable_val(self, model: torch.nn.Module) -> Evaluated | None:
        """The best epoch's validation outputs, targets and loss when the reloaded model is
        shown to give them: its weights equal, tensor for tensor, the ones the best epoch was
        evaluated with, and its outputs on the first validation batch are the same bits (that
        catches a reload that changes more than weights, e.g. the tabular auto choice of the
        trees). Otherwise None: the validation split is evaluated again."""
        if self.best_val is None or self.best_copy is None or not len(self.data.val):
            return None
        if not same_weights(model, self.best_copy):
            return None
        first = next(iter(DataLoader(self.data.val, batch_size=self.cfg.train.batch_size,
                                     collate_fn=self.data.collate_fn)))  # no workers for one batch
        probe, _, _ = self._predict([first], distributed=False)
        outputs = self.best_val[0]
        return self.best_val if np.array_equal(probe, outputs[: len(probe)]) else None

    def _finish_direct(self, fitted: Any) -> TrainResult:
        """A model the task fitted in one go (``Task.fit_directly``): log its fitting curves,
        save it like a best checkpoint, then evaluate and record it as ``_finish`` does."""
        self.model = fitted.model
        self.state.global_step = self.total_steps = fitted.steps
        self.train_seconds = fitted.seconds
        self.counts["samples"] = fitted.samples
        for split, points in fitted.curves.items():
            for step, metrics in enumerate(points, start=1):
                self.logger.log(step, float(step), split, metrics)
        self._ensure_run()
        if self.writer:
            tmp = atomic_dir(self.run_dir / "model")
            self.task.save_artifact(self.model, self.cfg, self.data, tmp)
            commit_dir(tmp, self.run_dir / "model")
        self.state.epoch = 1
        self._emit("done", 1, {})
        # _setup (skipped here: nothing is trained by the loop) counts the final evaluation's batches
        self.final_batches = sum(math.ceil(len(getattr(self.data, s)) / self.cfg.train.batch_size)
                                 for s in SPLITS)
        return self._finish()

    def _system_figures(self) -> dict[str, float]:
        seconds = max(self.train_seconds, 1e-9)
        figures = {
            "samples_per_s": self.counts["samples"] / seconds,
            "train_seconds": self.train_seconds,
            "peak_memory_mb": self.rt.peak_memory_mb(),
            "optimizer_steps": float(self.state.global_step),
            "processes": float(self.rt.num_processes),
        }
        if self.counts.get("tokens"):
            figures["tokens_per_s"] = self.counts["tokens"] / seconds
        return figures

    def _emit(self, phase: str, epoch: int, metrics: dict[str, float], loss: float | None = None) -> None:
        if not self.callbacks or not self.writer:
            return
        done = self.state.global_step
        rate = self.counts["samples"] / self.train_seconds if self.train_seconds else 0.0
        progress = Progress(self.run_id, phase, done, self.total_steps, epoch, self.cfg.train.epochs,
                            loss, rate, self.eta_s, metrics)
        for callback in self.callbacks:
            callback(progress)


def _warmup_linear(warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
