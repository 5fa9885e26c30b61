"""Adversarial video prediction (Mathieu, Couprie & LeCun 2016, "Deep Multi-Scale Video Prediction
Beyond Mean Square Error", arXiv:1511.05440).

A predictor ``G`` maps ``k`` past frames ``X`` to the next ``n`` frames ``Ŷ`` at every scale of a
pyramid; a discriminator judges, at every scale, the past frames followed by real or predicted
future frames (only the last ``n`` frames differ, the context is always real). The generator
minimises

    ``λ_adv · L_adv + λ_lp · mean|Y - Ŷ|^p + λ_gdl · L_gdl(Y, Ŷ)``

(defaults ``0.05, 1, 1``, ``p = 2``, GDL exponent ``α = 1``: the paper's §3-4), each term
averaged over the scales; ``L_adv`` is the configured adversarial loss of D on the predicted
clips (the paper's binary cross-entropy: ``loss=non_saturating``). As in the paper, training uses
random ``crop_size`` patches (32x32) of the clips, the same crop for context and future; the
predictor is fully convolutional and predicts whole frames when sampling.

Sampling needs context frames: :meth:`VideoPredictionGAN.predict` continues given clips
recursively (each prediction becomes context for the next), and :meth:`VideoPredictionGAN.sample`
returns clips of the data's shape whose first ``k`` frames are the given context and whose other
frames are predicted. ``gan-lab sample`` and the sample callback take those contexts from the
validation split of the run's data set (:meth:`VideoPredictionGAN.sampling_inputs`).

Deviations: the averaging over scales (the authors' code sums; a common factor on all three
terms); class labels are not used.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gan_lab.data.base import DataSpec, first_samples
from gan_lab.losses import gradient_difference_loss, lp_loss
from gan_lab.modules.base import GANModule
from gan_lab.nets.video.mathieu import pool_clip

__all__ = ["VideoPredictionGAN"]


class VideoPredictionGAN(GANModule):
    """Next-frame prediction with an adversarial, an ``L_p`` and a gradient difference loss.

    Args:
        generator: factory ``f(data_shape=..., num_classes=0, context_frames=k,
            future_frames=n, scales=S)`` of the predictor (``conf/net/mathieu.yaml``).
        discriminator: factory ``f(data_shape=(C, k + n, crop, crop), num_classes=0, scales=S)``.
        spec: the data's spec; clips need ``T >= k + n`` frames.
        context_frames: ``k`` past frames (4 in the paper).
        future_frames: ``n`` frames predicted at once (1 in the paper); more are predicted
            recursively.
        scales: pyramid levels ``S`` of both nets (4 in the paper).
        crop_size: side of the random training patches (32 in the paper); ``None`` trains on
            whole frames.
        adversarial_weight, lp_weight, gdl_weight: ``λ_adv, λ_lp, λ_gdl`` (0.05, 1, 1).
        p: exponent of the ``L_p`` loss (2).
        alpha: exponent of the gradient difference loss (1).
        **kwargs: the loop's settings, see :class:`GANModule`. Regularizers whose penalty
            (gradient penalty, R1) are refused: the discriminator takes a pyramid, not one
            tensor.
    """

    def __init__(
        self,
        generator: Callable[..., nn.Module],
        discriminator: Callable[..., nn.Module],
        spec: DataSpec,
        context_frames: int = 4,
        future_frames: int = 1,
        scales: int = 4,
        crop_size: int | None = 32,
        adversarial_weight: float = 0.05,
        lp_weight: float = 1.0,
        gdl_weight: float = 1.0,
        p: float = 2.0,
        alpha: float = 1.0,
        **kwargs,
    ) -> None:
        if spec.modality != "video":
            raise ValueError(
                f"VideoPredictionGAN predicts video frames; the data gives samples of shape "
                f"{spec.shape}. Use a video data set (data=moving_mnist, bouncing_shapes, "
                "video_folder)."
            )
        if kwargs.get("conditional"):
            raise ValueError("VideoPredictionGAN is conditioned on frames, not on labels: "
                             "set model.conditional=false")
        channels, frames, height, width = spec.shape
        if context_frames < 1 or future_frames < 1:
            raise ValueError("model.context_frames and model.future_frames must be >= 1")
        if frames < context_frames + future_frames:
            raise ValueError(
                f"clips of {frames} frames are too short for model.context_frames="
                f"{context_frames} + model.future_frames={future_frames}"
            )
        crop = min(height, width) if crop_size is None else int(crop_size)
        if not 1 <= crop <= min(height, width):
            raise ValueError(f"model.crop_size={crop_size} must fit frames of {height}x{width}")
        if kwargs.get("augment") is not None:
            raise ValueError("VideoPredictionGAN's discriminator takes a pyramid of clips, which "
                             "DiffAugment does not transform: set augment=none")
        regularizer = kwargs.get("regularizer")
        if regularizer is not None and regularizer.input_gradients:
            raise ValueError(
                f"VideoPredictionGAN cannot add {type(regularizer).__name__}'s penalty: its "
                "discriminator takes a pyramid of clips; use regularizer=none, spectral_norm, "
                "weight_clipping or lecam"
            )
        window = context_frames + future_frames
        super().__init__(
            generator=generator(
                data_shape=spec.shape,
                num_classes=0,
                context_frames=context_frames,
                future_frames=future_frames,
                scales=scales,
            ),
            discriminators={
                "d": discriminator(
                    data_shape=(channels, window, crop, crop), num_classes=0, scales=scales
                )
            },
            spec=spec,
            **kwargs,
        )
        self.context_frames = context_frames
        self.future_frames = future_frames
        self.scales = scales
        self.crop_size = crop if crop_size is not None else None
        self.adversarial_weight = float(adversarial_weight)
        self.lp_weight = float(lp_weight)
        self.gdl_weight = float(gdl_weight)
        self.p = float(p)
        self.alpha = float(alpha)

    # ------------------------------------------------------------------------------ pieces
    def training_window(self, clips: Tensor) -> Tensor:
        """The first ``k + n`` frames of ``clips``, cropped to a random ``crop_size`` patch
        (one patch position for the batch): ``(B, C, k + n, crop, crop)``."""
        x = clips[:, :, : self.context_frames + self.future_frames]
        if self.crop_size is None:
            return x
        h, w = x.shape[-2:]
        top = int(torch.randint(0, h - self.crop_size + 1, ()))
        left = int(torch.randint(0, w - self.crop_size + 1, ()))
        return x[..., top : top + self.crop_size, left : left + self.crop_size]

    def pyramid(self, clips: Tensor) -> list[Tensor]:
        """``clips`` average-pooled to every scale, coarse to fine."""
        return [pool_clip(clips, 2 ** (self.scales - 1 - s)) for s in range(self.scales)]

    def _predicted_pyramid(self, context: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Predictions per scale and the clips D judges: context followed by prediction."""
        predictions = self.generator.pyramid(context)
        clips = [
            torch.cat([ctx, pred], dim=2)
            for ctx, pred in zip(self.pyramid(context), predictions, strict=True)
        ]
        return predictions, clips

    # ------------------------------------------------------------------- the loop's hooks
    def fake_for(self, real: Tensor, y: Tensor) -> list[Tensor]:
        """The pyramid of clips D judges: the context of a random training window of ``real``
        followed by the predicted frames, at every scale."""
        context = self.training_window(real)[:, :, : self.context_frames]
        return self._predicted_pyramid(context)[1]

    def discriminator_inputs(self, name, x, y, real):
        """A real window ``(B, C, k + n, crop, crop)`` as its pyramid; a generated pyramid as
        it is. Labels are not used."""
        return (self.pyramid(x) if real else x), None

    def discriminator_loss(self, name, real, fake, y):
        return self.adversarial_d_loss(name, self.training_window(real), fake, y)

    def generator_loss(self, real, y):
        window = self.training_window(real)
        context, future = window[:, :, : self.context_frames], window[:, :, self.context_frames :]
        predictions, clips = self._predicted_pyramid(context)
        targets = self.pyramid(future)
        lp = torch.stack(
            [lp_loss(p, t, self.p) for p, t in zip(predictions, targets, strict=True)]
        ).mean()
        gdl = torch.stack(
            [
                gradient_difference_loss(p, t, self.alpha)
                for p, t in zip(predictions, targets, strict=True)
            ]
        ).mean()
        adversarial = self.adversarial_g_loss("d", window, clips, y)
        total = (
            self.adversarial_weight * adversarial + self.lp_weight * lp + self.gdl_weight * gdl
        )
        stats = {"adversarial": adversarial.detach(), "lp": lp.detach(), "gdl": gdl.detach()}
        return total, stats

    # ------------------------------------------------------------------------- prediction
    def predict(self, context: Tensor, n_future: int, ema: bool = True) -> Tensor:
        """``n_future`` frames after ``context (B, C, T_c, H, W)`` (its last ``k`` frames are
        used), predicted ``n`` at a time, each prediction fed back as context:
        ``(B, C, n_future, H, W)``."""
        if context.ndim != 5 or context.shape[2] < self.context_frames:
            raise ValueError(
                f"predict needs context clips (B, C, >= {self.context_frames}, H, W), got "
                f"{tuple(context.shape)}"
            )
        if n_future < 1:
            raise ValueError(f"predict: n_future must be >= 1, got {n_future}")
        net = self.sampler(ema)
        window = context[:, :, -self.context_frames :]
        predicted: list[Tensor] = []
        total = 0
        while total < n_future:
            step = net(window)
            predicted.append(step)
            total += step.shape[2]
            window = torch.cat([window, step], dim=2)[:, :, -self.context_frames :]
        return torch.cat(predicted, dim=2)[:, :, :n_future]

    def sampling_inputs(self, n: int) -> dict[str, Tensor]:
        """The context clips of :meth:`sample`: the first ``n`` clips of the validation split
        of the run's data set (:func:`~gan_lab.data.base.first_samples`; digits the model never
        trained on)."""
        if not self.run_config or "data" not in self.run_config:
            raise ValueError(
                "this prediction model has no stored data config to take context clips from: "
                "pass context=(n, C, T, H, W)"
            )
        return {"context": first_samples(self.run_config["data"], n, split="val")}

    @torch.no_grad()
    def sample(
        self, n: int, ema: bool = True, seed: int | None = None, y: Tensor | None = None,
        batch_size: int = 256, context: Tensor | None = None,
    ) -> Tensor:
        """Clips ``(n, *spec.shape)``: the first ``k`` frames of ``context`` (real clips
        ``(N >= n, C, T' >= k, H, W)``; by default those of :meth:`sampling_inputs`), then
        ``T - k`` predicted frames. The predictor is deterministic, so ``seed`` and ``y`` are
        unused."""
        if context is None:
            context = self.sampling_inputs(n)["context"]
        if len(context) < n:
            raise ValueError(f"sample: {n} samples asked, {len(context)} context clips given")
        frames = self.spec.shape[1]
        net = self.sampler(ema)
        was_training = net.training
        net.eval()
        try:
            chunks = []
            for start in range(0, n, batch_size):
                ctx = context[start : min(n, start + batch_size), :, : self.context_frames]
                ctx = ctx.to(self.device, torch.float32)
                future = self.predict(ctx, frames - self.context_frames, ema=ema)
                chunks.append(torch.cat([ctx, future], dim=2))
        finally:
            net.train(was_training)
        return torch.cat(chunks)
