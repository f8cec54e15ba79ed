"""Train a run of any kind: validate, create the run, fit (``core.train_loop``), record or fail
cleanly (see docs/architecture.md for the flow).

It validates data before anything reaches the store, so a run that fails validation leaves no
trace; a run that fails later is marked failed with the message. Only the main process writes to
the store and the artifact folder; metrics are gathered across processes.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.checkpoint import remove_partial_dirs
from core.config import RunConfig
from core.errors import LoupeError
from core.phases import PhaseFile, Sink, phase, reporting
from core.runtime import Runtime, build_runtime
from core.store import RunStore
from core.store.guards import check_reuse
from core.store.ids import check_run_id
from core.tasks import get_task
from core.train_loop import (  # noqa: F401  (re-exported: the public training API)
    SPLITS,
    Callback,
    Cancelled,
    Progress,
    RunDeleted,
    TrainingLoop,
    TrainResult,
    epoch_batches,
)


def train(
    cfg: RunConfig,
    store: RunStore | None = None,
    callbacks: Sequence[Callback] = (),
    run_id: str | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] | None = None,
    on_phase: Sink | None = None,
) -> TrainResult:
    """Validate, create (or reuse) the run, fit, evaluate and save. Raises LoupeError on bad input.

    ``run_id`` names an existing run to train into: a queued one (the job runner) or, with
    ``resume``, one that stopped early (``check_reuse``). Every phase (reading data, decoding N
    of M, building the model, training, validating, final evaluation, saving) goes to
    ``on_phase`` and, once the run has a folder, to its ``phase.json`` (``core.phases``)."""
    if run_id is not None:
        check_run_id(run_id)  # before anything: no path, no '..', nothing outside LOUPE_HOME
    task = get_task(cfg.task)
    sinks: list[Sink] = [on_phase] if on_phase else []
    if run_id is not None and store is not None:  # a queued run: the page watches it already
        sinks.append(PhaseFile(store.run_dir(run_id, create=False)))
    with contextlib.ExitStack() as stack:
        stack.enter_context(reporting(*sinks))
        phase("Reading data")
        data = task.load_data(cfg)  # validation first: a bad input never creates a run
        asked, cfg = cfg, task.plan(cfg, data)  # e.g. text: epochs and warm-up from the data size
        runtime = build_runtime(cfg.train.device, cfg.train.precision, cfg.train.seed,
                                grad_accum=cfg.train.grad_accum, cpu_bf16=task.cpu_bf16)
        main = runtime.is_main_process
        store = store if store is not None else (RunStore() if main else None)
        run_dir = None
        if main:
            if run_id is not None:
                check_reuse(store, run_id, resume)
                if cfg.train != asked.train:  # a queued run: record the settings it really uses
                    store.set_train_settings(run_id, cfg.to_dict()["train"])
            else:
                named = cfg if cfg.name else cfg.replace(name=store.unique_name(task.run_name(cfg)))
                run_id = store.create_run(named, data.fingerprint)
                stack.enter_context(reporting(PhaseFile(store.run_dir(run_id))))
            if not store.start_run(run_id, runtime.describe(), runtime.precision, data.fingerprint):
                raise LoupeError(f"Run {run_id} was deleted before it started.",
                                 "nothing to do; start a new training if you still want one.")
            run_dir = str(store.run_dir(run_id))
        run_id, run_dir = _broadcast(runtime, [run_id, run_dir])
        loop = TrainingLoop(cfg, task, data, runtime, store if main else None, run_id,
                            Path(run_dir), callbacks, should_stop)
        return _fit(loop, resume)


def _fit(loop: TrainingLoop, resume: bool) -> TrainResult:
    """Run the loop; record a cancel, a deletion, a Ctrl-C or a failure in the store."""
    main, store, run_id, run_dir = loop.rt.is_main_process, loop.store, loop.run_id, loop.run_dir
    try:
        result = loop.run(resume)
        if main and not store.run_exists(run_id):
            raise RunDeleted()  # deleted while the final files were written
    except Cancelled as stop:
        gone = main and (isinstance(stop, RunDeleted) or not store.run_exists(run_id))
        if not gone:
            if main:
                store.set_status(run_id, "cancelled")
            return TrainResult(run_id, "cancelled", {}, None, {})
        loop.logger.discard()  # deleted under us: record nothing more, take back the folder
        shutil.rmtree(run_dir, ignore_errors=True)
        return TrainResult(run_id, "deleted", {}, None, {})
    except KeyboardInterrupt:
        if main:
            store.set_status(run_id, "interrupted", error="Stopped by the user (Ctrl-C).")
        raise
    except Exception as exc:
        clear = _storage_error(exc, run_id)  # a full or read-only disk: say so, not a traceback
        if main:
            remove_partial_dirs(Path(run_dir))
            message = str(clear or exc) if clear or isinstance(exc, LoupeError) else _describe_crash(exc)
            with contextlib.suppress(Exception):  # the history may sit on the same full disk
                store.fail_run(run_id, message)
        if clear is not None:
            raise clear from exc
        raise
    finally:
        loop.logger.flush() if main else None
    return result


def resume(run_id: str, store: RunStore | None = None, callbacks: Sequence[Callback] = (),
           on_phase: Sink | None = None) -> TrainResult:
    """Continue an interrupted or cancelled run from its last epoch checkpoint."""
    store = store or RunStore()
    store.recover_interrupted()  # a run whose process died is resumable, a live one is not
    run_id = store.resolve_id(run_id)
    check_reuse(store, run_id, resume=True)  # before loading data: refuse early
    return train(store.config(run_id), store, callbacks, run_id=run_id, resume=True,
                 on_phase=on_phase)


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def _storage_error(exc: BaseException, run_id: str | None) -> LoupeError | None:
    """A LoupeError for an OSError of a full, read-only or forbidden disk; None for anything else."""
    if not isinstance(exc, OSError) or exc.errno not in _DISK_ERRNOS:
        return None
    where = exc.filename or "the Loupe state folder"
    return LoupeError(
        f"Training run {run_id} stopped: cannot write {where} ({exc.strerror or exc}).",
        f"free disk space (or fix the folder's permissions), then continue with `loupe resume "
        f"{run_id}`; or set LOUPE_HOME to a writable folder with room.",
    )


def _describe_crash(exc: BaseException) -> str:
    tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
    return f"{type(exc).__name__}: {exc}\n{tail}"


def _broadcast(runtime: Runtime, values: list[Any]) -> list[Any]:
    """Share the main process's values (run id, run folder) with the other processes."""
    if runtime.num_processes == 1:
        return values
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list(values)


