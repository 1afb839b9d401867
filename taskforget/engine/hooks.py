"""Runner hooks shared by every task and method."""
import math
import os
import random
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from taskforget.checkpoint import save_weights, write_digest
from taskforget.datasets import is_random_pipeline
from taskforget.datasets.transforms import pipeline_random_state, set_pipeline_random_state
from taskforget.errors import DivergedError
from taskforget.registry import HOOKS


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class UnlearningSetupHook(Hook):
    """Before the first epoch: cache the teacher's logits when the forget pipeline is
    deterministic, then let the method prepare (saliency masks, scrubbing, ...)."""

    priority = "VERY_HIGH"

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        if not hasattr(model, "before_unlearning"):
            return
        dataset = runner.train_dataloader.dataset
        random = getattr(dataset, "augment", is_random_pipeline(getattr(dataset, "pipeline", None)))
        model.cache_teacher_logits = not random
        runner.logger.info(
            f"forget set: {len(dataset)} samples; teacher logits "
            f"{'recomputed every step (random augmentation)' if random else 'cached per sample'}")
        model.before_unlearning(runner)


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop with a clear message as soon as the training loss is NaN or infinite."""

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        loss = None if outputs is None else outputs.get("loss")
        if torch.is_tensor(loss):
            loss = loss.detach()
        if loss is not None and not math.isfinite(float(loss)):
            raise DivergedError(
                f"loss became {float(loss)} at epoch {runner.epoch + 1}, iteration "
                f"{runner.iter + 1}: lower the learning rate (optim_wrapper.optimizer.lr) or "
                "use fp32 (no bf16 optim wrapper); nothing was saved from this run.")


@HOOKS.register_module()
class ExportWeightsHook(Hook):
    """After training, write the trained network's weights atomically to ``path``
    (a plain state dict that ``weights_only=True`` loads), with the digest sidecar that
    records which run (``run_hash``) wrote it."""

    priority = "LOWEST"

    def __init__(self, path: Optional[str] = None, run_hash: Optional[str] = None):
        self.path, self.run_hash = path, run_hash

    def after_train(self, runner) -> None:
        if self.path is None or runner.rank != 0:
            return
        save_weights(unwrap(runner.model).export_state_dict(), self.path)
        if self.run_hash is not None:
            write_digest(self.path, self.run_hash)
        runner.logger.info(f"weights written to {self.path}")


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Keep the random generators' states in every training checkpoint and put them back on
    ``--resume``: Python's, numpy's and torch's global generators and the training set's
    albumentations generators (each transform has its own, seeded once when the pipeline is
    built). Without them a resumed run would draw the first epochs' augmentations again and end
    in other weights than an uninterrupted run. Single process only: with several ranks, or with
    loader workers (whose generators mmengine seeds), a resume continues with fresh draws; and a
    forget stage's own preparation (masks, noise) is made again on resume."""

    priority = "LOWEST"  # its before_train restores last, after every other hook's draws

    def __init__(self):
        self._loaded: Optional[dict] = None  # the states a loaded checkpoint carried

    def _pipeline(self, runner):
        return getattr(runner.train_dataloader.dataset, "pipeline", None)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint["random_state"] = dict(
            python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state(),
            pipeline=pipeline_random_state(self._pipeline(runner)))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get("random_state")

    def before_train(self, runner) -> None:
        """Put the loaded states back when the run is resumed: its loop continues past
        iteration 0 (weights loaded by ``load_from`` start it at 0, with fresh draws). Last
        before the first batch, so nothing the runner seeds on resume draws over them."""
        state, self._loaded = self._loaded, None
        if (state is None or runner.iter == 0 or runner.world_size > 1
                or runner.train_dataloader.num_workers):
            return
        random.setstate(state["python"])
        np.random.set_state(state["numpy"])
        torch.set_rng_state(state["torch"])
        set_pipeline_random_state(self._pipeline(runner), state["pipeline"])


@HOOKS.register_module()
class CheckpointDigestHook(Hook):
    """Right after mmengine's CheckpointHook saves, record the new checkpoint's SHA-256 and
    the run's ``run_hash`` beside it, so that ``--resume`` loads only files this run wrote."""

    priority = "LOWEST"  # after CheckpointHook (VERY_LOW)

    def __init__(self, run_hash: str):
        self.run_hash = run_hash
        self._seen: Optional[str] = None

    def _record(self, runner) -> None:
        pointer = Path(runner.work_dir) / "last_checkpoint"
        if runner.rank != 0 or not pointer.is_file():
            return
        latest = pointer.read_text().strip()
        stamp = f"{latest}:{os.path.getmtime(latest) if os.path.exists(latest) else 0}"
        if stamp != self._seen and os.path.exists(latest):
            write_digest(latest, self.run_hash)
            self._seen = stamp

    def after_train_epoch(self, runner) -> None:
        self._record(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not runner.train_loop.__class__.__name__.startswith("EpochBased"):
            self._record(runner)

    def after_train(self, runner) -> None:
        self._record(runner)


@HOOKS.register_module()
class TrustedResumeHook(Hook):
    """Lets mmengine's resume read its own (pickled) training checkpoint ``path``, which the
    caller verified against its digest, and nothing else: the relaxed ``torch.load`` is on
    only between ``before_run`` and the resume's ``after_load_checkpoint``."""

    priority = "LOWEST"

    def __init__(self, path: str):
        self.path = path
        self._saved: Optional[str] = None
        self._state = "waiting"  # -> "open" (before the resume) -> "closed" (once, for good)

    def before_run(self, runner) -> None:
        if self._state != "waiting":  # runner.test() calls before_run again
            return
        self._state = "open"
        self._saved = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
        os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"

    def _restore(self) -> None:
        if self._state != "open":
            return
        self._state = "closed"
        if self._saved is None:
            os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = self._saved

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        self._restore()

    def before_train(self, runner) -> None:
        self._restore()


@HOOKS.register_module()
class EvalProgressHook(Hook):
    """A progress bar over the evaluation batches (mmengine logs them only every ``interval``
    iterations, which a short evaluation never reaches)."""

    def _start(self, runner, loader) -> None:
        from tqdm import tqdm
        self._bar = tqdm(total=len(loader), desc="evaluating", unit="batch", mininterval=2.0,
                         leave=False, disable=runner.rank != 0)

    def _step(self) -> None:
        if getattr(self, "_bar", None) is not None:
            self._bar.update(1)

    def _stop(self) -> None:
        if getattr(self, "_bar", None) is not None:
            self._bar.close()
            self._bar = None

    def before_val_epoch(self, runner) -> None:
        self._start(runner, runner.val_dataloader)

    def before_test_epoch(self, runner) -> None:
        self._start(runner, runner.test_dataloader)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step()

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._stop()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._stop()


@HOOKS.register_module()
class TrainTimeHook(Hook):
    """Wall time of training alone (validation excluded), in ``message_hub`` info
    ``'train_time_s'``: what the benchmarks report as unlearning or training time. A resumed
    run adds the time its checkpoint had recorded (``'train_time_done_s'``, saved with every
    epoch's checkpoint), so an interrupted run reports what an uninterrupted one would.

    Runs first (``HIGHEST``) so that a method's preparation in ``before_unlearning`` (weight
    scrubbing, saliency masks, noise) counts as unlearning time."""

    priority = "HIGHEST"

    def before_run(self, runner) -> None:
        # resuming (after this hook) loads the checkpoint's value, if it recorded one
        runner.message_hub.update_info("train_time_done_s", None)

    def before_train(self, runner) -> None:
        self._done = runner.message_hub.get_info("train_time_done_s")
        if self._done is None and runner.epoch == 0:
            self._done = 0.0
        elif self._done is None:
            runner.logger.warning("resumed from a checkpoint that recorded no training time: "
                                  "this run's training time is unknown (reported as None)")
        self._start, self._val = time.perf_counter(), 0.0

    def before_val_epoch(self, runner) -> None:
        self._val_start = time.perf_counter()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if hasattr(self, "_start"):
            self._val += time.perf_counter() - self._val_start

    def _elapsed(self) -> Optional[float]:
        if self._done is None:
            return None
        return self._done + time.perf_counter() - self._start - self._val

    def after_train_epoch(self, runner) -> None:
        # before the checkpoint hook (priority VERY_LOW) saves the message hub
        runner.message_hub.update_info("train_time_done_s", self._elapsed())

    def after_train(self, runner) -> None:
        runner.message_hub.update_info("train_time_s", self._elapsed())
