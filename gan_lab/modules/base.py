"""The alternating discriminator/generator loop that every gan_lab training scheme shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import lightning as L
import torch
from torch import nn

from gan_lab.checkpoints import restore_rng_state, rng_state
from gan_lab.data.base import DataSpec
from gan_lab.losses import (
    AdversarialLoss,
    DiffAugment,
    DiscriminatorInputs,
    NoRegularizer,
    Regularizer,
)
from gan_lab.modules.ema import ema_update_, make_ema_copy
from gan_lab.nets.base import Generator

OptimizerFactory = Callable[..., torch.optim.Optimizer]
#: A batch as a scheme hands it to :meth:`GANModule.discriminator_inputs`: a tensor of samples,
#: or a pyramid of them (:class:`~gan_lab.modules.prediction.VideoPredictionGAN`).
Batch = torch.Tensor | list[torch.Tensor]
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; training stops so the last good checkpoint survives."""


class GANModule(L.LightningModule):
    """Base LightningModule for GANs, with manual optimization.

    **The loop.** Each Lightning training step makes *one* update of every discriminator on a
    fresh real batch (fakes from ``G(z).detach()``). After every ``n_critic`` such steps one
    generator update follows and completes an *iteration*. Every D update therefore sees its own
    real batch, as in Algorithm 1 of WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al.
    2017). Discriminators are updated in the order of ``discriminators`` (MoCoGAN: image, then
    video), each with its own optimizer; each phase runs inside ``toggle_optimizer`` and uses
    ``manual_backward`` so that Lightning's mixed precision applies.

    **Counters.** ``iteration`` (G updates) and ``images_seen`` (real samples fed to D, summed
    over processes) drive stopping (``max_iterations``), LR schedules (stepped once per
    iteration), EMA and the callbacks; Lightning's ``global_step`` counts every optimizer step.

    **EMA.** ``generator_ema`` is a frozen copy of G (buffers included), updated after every G
    step with the decay of :meth:`current_ema_decay` (a plain copy until ``ema_start``), saved
    in checkpoints and used by :meth:`sample` by default.

    **Checkpoints** hold everything the next D update depends on: the nets, the EMA, the
    optimizers and schedulers (Lightning's part), the counters and every process's random state
    (torch CPU and CUDA, numpy, Python), restored when training starts again; the data stream's
    position is ``d_steps`` (one real batch per D update). Under data parallelism, every
    buffer (BatchNorm statistics, spectral-norm vectors, LeCam anchors) is averaged across
    processes after every iteration, so all processes hold the same model.

    **Logging and divergence.** Every ``trainer.log_every_n_steps`` D updates, the losses,
    gradient norms (before clipping), learning rates and the schemes' statistics are logged;
    gradient norms and learning rates are computed on those steps only. The losses of every
    step are kept until :meth:`check_finite` reads them, with one host-device synchronization
    for all of them: on the logged steps, before any of gan_lab's callbacks acts on the model
    (checkpoints, samples, evaluations), before every checkpoint and at the end of training. A
    NaN or infinite loss raises :class:`DivergenceError` naming the first step that had one,
    so a diverged model is never saved.

    **Discriminator inputs.** Every discriminator sees real and generated batches through
    :meth:`discriminator_inputs` (a scheme's packing, view or pyramid, and the DiffAugment of
    ``augment``); :meth:`adversarial_d_loss` and :meth:`adversarial_g_loss` are the one place
    where D's logits, the adversarial loss and the regularizer's penalty meet. The generator's
    loss receives D's logits on the real batch too when the loss asks for them
    (``loss.uses_real_logits``, e.g. the relativistic loss).

    Subclasses implement :meth:`fake_for` and :meth:`generator_loss`, and
    :meth:`discriminator_inputs` where D sees something else than the batch itself.
    """

    def __init__(
        self,
        generator: Generator,
        discriminators: Mapping[str, nn.Module],
        loss: AdversarialLoss,
        spec: DataSpec,
        g_optimizer: OptimizerFactory,
        d_optimizer: OptimizerFactory,
        regularizer: Regularizer | None = None,
        n_critic: int = 1,
        g_scheduler: SchedulerFactory | None = None,
        d_scheduler: SchedulerFactory | None = None,
        ema_decay: float | None = 0.999,
        ema_start: int = 0,
        max_iterations: int | None = None,
        grad_clip_norm: float | None = None,
        conditional: bool = False,
        augment: DiffAugment | None = None,
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise ValueError(f"model.n_critic must be >= 1, got {n_critic}")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"model.ema_decay must be in [0, 1) or null, got {ema_decay}")
        if conditional and spec.num_classes < 1:
            raise ValueError(
                "model.conditional=true needs a data set with class labels; this one has none"
            )
        if augment is not None:
            augment.check(spec.shape)
        self.automatic_optimization = False
        self.spec = spec
        self.augment = augment
        self.conditional = conditional
        self.loss = loss
        self.regularizer = regularizer or NoRegularizer()
        self.generator = generator
        self.discriminators = nn.ModuleDict(
            {name: self.regularizer.prepare(d) for name, d in discriminators.items()}
        )
        self.generator_ema = make_ema_copy(generator) if ema_decay is not None else None
        self.ema_decay = ema_decay
        self.ema_start = ema_start
        self.n_critic = n_critic
        self.max_iterations = max_iterations
        self.grad_clip_norm = grad_clip_norm
        self._g_optimizer = g_optimizer
        self._d_optimizer = d_optimizer
        self._g_scheduler = g_scheduler
        self._d_scheduler = d_scheduler
        self.iteration = 0
        self.images_seen = 0
        self.d_steps = 0
        #: ``(iteration, d_steps, losses)`` of the steps since the last :meth:`check_finite`.
        self._unchecked: list[tuple[int, int, dict[str, torch.Tensor]]] = []
        #: The resolved run configuration, stored in every checkpoint (set by ``gan_lab.train``).
        self.run_config: dict | None = None
        #: The signal (SIGTERM, SIGINT) that stopped training early, if one did.
        self.stopped_by: int | None = None
        self._resumed_rng: list | None = None

    # ----------------------------------------------------------------- what subclasses define
    def fake_for(self, real: torch.Tensor, y: torch.Tensor) -> Batch:
        """Generated samples to set against the real batch ``real``, in the form
        :meth:`discriminator_inputs` takes (a batch shaped like ``real`` unless a scheme says
        otherwise)."""
        raise NotImplementedError

    def generator_loss(
        self, real: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of the generator for a batch shaped like ``real`` and statistics to log."""
        raise NotImplementedError

    def discriminator_inputs(
        self, name: str, x: Batch, y: torch.Tensor, real: bool
    ) -> tuple[Batch, torch.Tensor | None]:
        """What discriminator ``name`` sees of a real (``real=True``) or generated batch ``x``
        with labels ``y``: the batch, augmented when ``augment`` is set, and the labels the
        nets see (:meth:`labels`)."""
        return self.augmented(x), self.labels(y)

    # ------------------------------------------------------------------------- shared pieces
    def labels(self, y: torch.Tensor) -> torch.Tensor | None:
        """The labels the nets see: ``y`` for a conditional model, else ``None``."""
        return y if self.conditional else None

    def augmented(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` through the model's DiffAugment (unchanged without one)."""
        return x if self.augment is None else self.augment(x)

    def discriminator_loss(
        self, name: str, real: torch.Tensor, fake: Batch, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of discriminator ``name`` (fakes detached) and statistics to log."""
        return self.adversarial_d_loss(name, real, fake, y)

    def adversarial_d_loss(
        self, name: str, real: Batch, fake: Batch, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Adversarial loss of discriminator ``name`` on (real, fake) plus the regularizer's
        penalty, and the mean logits (and penalty) to log."""
        d = self.discriminators[name]
        real_in, labels = self.discriminator_inputs(name, real, y, real=True)
        fake_in, _ = self.discriminator_inputs(name, fake, y, real=False)
        real_logits = d(real_in, labels)
        fake_logits = d(fake_in, labels)
        loss = self.loss.discriminator(real_logits, fake_logits)
        stats = {"d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
        inputs = DiscriminatorInputs(real_in, fake_in, labels, real_logits, fake_logits,
                                     self.d_steps)
        penalty = self.regularizer.penalty(d, inputs)
        if penalty is not None:
            loss = loss + penalty
            stats["penalty"] = penalty.detach()
        return loss, stats

    def adversarial_g_loss(
        self, name: str, real: Batch, fake: Batch, y: torch.Tensor
    ) -> torch.Tensor:
        """The generator's adversarial loss against discriminator ``name`` for its samples
        ``fake`` (with gradients); D's logits on ``real`` (without gradients) are computed only
        when the loss uses them."""
        d = self.discriminators[name]
        fake_in, labels = self.discriminator_inputs(name, fake, y, real=False)
        real_logits = None
        if self.loss.uses_real_logits:
            with torch.no_grad():
                real_in, _ = self.discriminator_inputs(name, real, y, real=True)
                real_logits = d(real_in, labels)
        return self.loss.generator(d(fake_in, labels), real_logits)

    def generate(
        self, n: int, y: torch.Tensor | None = None, *, ema: bool = False,
        rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``n`` samples in model space from G (or its EMA copy), with gradients if enabled."""
        net = self.sampler(ema)
        z = net.sample_latent(n, generator=rng)
        return net(z, y)

    # ------------------------------------------------------------------------------ sampling
    def sampler(self, ema: bool = True) -> nn.Module:
        """The generator that samples: the EMA copy when ``ema`` and the model keeps one, else
        G itself."""
        return self.generator_ema if ema and self.generator_ema is not None else self.generator

    def sampling_inputs(self, n: int) -> dict[str, torch.Tensor]:
        """What :meth:`sample` needs besides latents to draw ``n`` samples (nothing here; a
        video prediction model's context clips), to reuse across calls."""
        return {}

    @torch.no_grad()
    def sample(
        self, n: int, ema: bool = True, seed: int | None = None, y: torch.Tensor | None = None,
        batch_size: int = 256,
    ) -> torch.Tensor:
        """``n`` samples ``(n, *spec.shape)`` in model space [-1, 1], nets in eval mode.

        Args:
            ema: use the EMA generator (when the model keeps one).
            seed: makes the latents, and so the samples, reproducible.
            y: labels for a conditional model; by default ``arange(n) % num_classes``.
        """
        net = self.sampler(ema)
        rng = None if seed is None else torch.Generator(self.device).manual_seed(seed)
        if self.conditional and y is None:
            y = torch.arange(n, device=self.device) % self.spec.num_classes
        was_training = net.training
        net.eval()
        try:
            chunks = []
            for start in range(0, n, batch_size):
                labels = None if y is None else y[start : start + batch_size].to(self.device)
                m = min(batch_size, n - start)
                chunks.append(self.generate(m, labels, ema=ema, rng=rng))
        finally:
            net.train(was_training)
        return torch.cat(chunks)

    # ------------------------------------------------------------------------- optimization
    def configure_optimizers(self):
        g_opt = self._g_optimizer(self.generator.parameters())
        d_opts = [self.discriminator_optimizer(name) for name in self.discriminators]
        optimizers = [g_opt, *d_opts]
        schedulers = []
        factories = [self._g_scheduler] + [self._d_scheduler] * len(d_opts)
        for opt, factory in zip(optimizers, factories, strict=True):
            if factory is not None:
                schedulers.append({"scheduler": factory(opt), "interval": "step"})
        return optimizers, schedulers

    def discriminator_optimizer(self, name: str) -> torch.optim.Optimizer:
        """The optimizer of discriminator ``name``; subclasses may give each D its own."""
        return self._d_optimizer(self.discriminators[name].parameters())

    def _update(self, opt, loss: torch.Tensor, params, logged: bool) -> dict[str, torch.Tensor]:
        """One optimizer step inside its toggle; on a logged step, returns the gradient norm
        before clipping (``grad_norm``) and the learning rate (``lr``), else nothing."""
        opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        logs = {}
        if logged:
            grads = [p.grad for p in params if p.grad is not None]
            norm = torch.nn.utils.get_total_norm(grads) if grads else loss.new_zeros(())
            logs = {"grad_norm": norm.detach(), "lr": torch.tensor(opt.param_groups[0]["lr"])}
        if self.grad_clip_norm:
            self.clip_gradients(opt, self.grad_clip_norm, "norm")
        opt.step()
        return logs

    def training_step(self, batch, batch_idx: int) -> None:
        real, y = batch
        g_opt, *d_opts = self.optimizers()
        logged = (self.d_steps + 1) % self.trainer.log_every_n_steps == 0
        losses: dict[str, torch.Tensor] = {}
        logs: dict[str, torch.Tensor] = {}

        with torch.no_grad():
            fake = self.fake_for(real, y)
        for (name, d), opt in zip(self.discriminators.items(), d_opts, strict=True):
            with self.toggled_optimizer(opt):
                loss, stats = self.discriminator_loss(name, real, fake, y)
                update = self._update(opt, loss, d.parameters(), logged)
            self.regularizer.after_step(d, self.d_steps + 1)
            key = "d" if len(self.discriminators) == 1 else f"d_{name}"
            losses[f"loss/{key}"] = loss.detach()
            logs.update({f"{stat}/{key}": value for stat, value in (update | stats).items()})
        self.d_steps += 1
        self.images_seen += len(real) * self.trainer.world_size

        if self.d_steps % self.n_critic == 0:
            with self.toggled_optimizer(g_opt):
                g_loss, stats = self.generator_loss(real, y)
                update = self._update(g_opt, g_loss, self.generator.parameters(), logged)
            losses["loss/g"] = g_loss.detach()
            logs.update({f"{stat}/g": value for stat, value in (update | stats).items()})
            self.iteration += 1
            self._end_iteration()

        self._unchecked.append((self.iteration, self.d_steps, losses))
        if not logged:
            return
        self.check_finite()
        logs.update(losses)
        logs["iteration"] = torch.tensor(float(self.iteration))
        logs["images_seen"] = torch.tensor(float(self.images_seen))
        shown = {k: logs.pop(k) for k in ("loss/d", "loss/g", "iteration") if k in logs}
        self.log_dict(shown, prog_bar=True, on_step=True, on_epoch=False, batch_size=len(real))
        self.log_dict(logs, on_step=True, on_epoch=False, batch_size=len(real))

    def _end_iteration(self) -> None:
        if self.trainer.world_size > 1:
            self._average_buffers()
        if self.generator_ema is not None:
            ema_update_(self.generator_ema, self.generator, self.current_ema_decay())
        schedulers = self.lr_schedulers()
        if schedulers is not None:
            for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
                scheduler.step()
        if self.max_iterations is not None and self.iteration >= self.max_iterations:
            self.trainer.should_stop = True

    @torch.no_grad()
    def _average_buffers(self) -> None:
        """Every floating-point buffer of G and the Ds averaged across processes (one
        all-reduce), so that BatchNorm statistics and the like agree everywhere (SyncBatchNorm,
        ``trainer.sync_batchnorm``, is the GPU alternative for BatchNorm)."""
        buffers = [b for net in (self.generator, *self.discriminators.values())
                   for b in net.buffers() if b.is_floating_point()]
        if not buffers:
            return
        flat = torch.cat([b.reshape(-1).float() for b in buffers])
        torch.distributed.all_reduce(flat)
        flat /= self.trainer.world_size
        for b, value in zip(buffers, flat.split([b.numel() for b in buffers]), strict=True):
            b.copy_(value.view_as(b))

    def current_ema_decay(self) -> float:
        """EMA decay after the current iteration: 0 (a copy) until ``ema_start``, then
        ``min(ema_decay, (1 + t) / (10 + t))`` with ``t`` iterations since ``ema_start``: the
        warm-up of TensorFlow's ``ExponentialMovingAverage(num_updates=t)``, so that a short run's
        average is not dominated by its first, untrained weights."""
        t = self.iteration - self.ema_start
        if self.ema_decay is None or t <= 0:
            return 0.0
        return min(self.ema_decay, (1 + t) / (10 + t))

    def check_finite(self) -> None:
        """Raises :class:`DivergenceError` if a loss of a step since the last check is NaN or
        infinite, naming the first such step; one host-device synchronization for all the
        steps (see "Logging and divergence" in the class docstring for when it runs)."""
        unchecked, self._unchecked = self._unchecked, []
        values = [v for _, _, losses in unchecked for v in losses.values()]
        if not values or bool(torch.isfinite(torch.stack(values)).all()):
            return
        for iteration, d_steps, losses in unchecked:
            if not all(bool(torch.isfinite(v)) for v in losses.values()):
                bad = ", ".join(f"{k}={v.item():.4g}" for k, v in losses.items())
                raise DivergenceError(
                    f"non-finite loss at iteration {iteration} (D step {d_steps}): {bad}. "
                    "Training stopped; the last checkpoint written before this point is kept."
                )

    # --------------------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Called on every process (the file is written by the first), after
        :meth:`check_finite`: a diverged model is never saved."""
        self.check_finite()
        states = [rng_state()]
        if self.trainer is not None and self.trainer.world_size > 1:
            states = [None] * self.trainer.world_size
            torch.distributed.all_gather_object(states, rng_state())
        checkpoint["gan_lab"] = {
            "iteration": self.iteration,
            "images_seen": self.images_seen,
            "d_steps": self.d_steps,
            "spec": self.spec.to_dict(),
            "config": self.run_config,
            "rng": states,
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Counters now; the random states when training starts (:meth:`on_train_start`). The
        run config stays the one the module was built with (a resumed run records its own)."""
        state = checkpoint["gan_lab"]
        self.iteration = state["iteration"]
        self.images_seen = state["images_seen"]
        self.d_steps = state["d_steps"]
        self._resumed_rng = state.get("rng")

    def on_train_start(self) -> None:
        if self._resumed_rng:
            states, rank = self._resumed_rng, self.global_rank
            if len(states) != self.trainer.world_size:
                raise ValueError(
                    f"the checkpoint holds the random states of {len(states)} process(es); "
                    f"this run has {self.trainer.world_size}: resume with as many"
                )
            restore_rng_state(states[rank])
            self._resumed_rng = None

    def on_train_end(self) -> None:
        self.check_finite()  # the steps after the last check (a run without callbacks)
        # under ddp_spawn the main process reads its results from here, not from the module
        self.trainer.callback_metrics["iteration"] = torch.tensor(float(self.iteration))
