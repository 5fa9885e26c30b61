"""Prediction quality of video prediction models: PSNR and SSIM per predicted frame against the
ground truth, as Mathieu, Couprie and LeCun 2016 (arXiv:1511.05440) report them.

Real clips ``(B, C, T, H, W)`` are cut into the model's ``context_frames`` past frames and the
following ``future_frames`` true frames; the model predicts the future from the context
(``module.predict(context, n_future, ema)``, as :class:`VideoPredictionGAN` provides), and
PSNR and SSIM (torchmetrics' functional versions, data range 2 for values in [-1, 1], SSIM with
an 11×11 Gaussian window of σ 1.5) are computed per clip and per predicted frame, then
averaged over clips.
"""

from __future__ import annotations

import torch
from torchmetrics.aggregation import MeanMetric
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from gan_lab.metrics.evaluation import EvalContext, Score

DATA_RANGE = 2.0  # values in [-1, 1]


def frame_psnr_ssim(pred: torch.Tensor, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """PSNR and SSIM of every clip and frame: ``(B, C, T, H, W)`` twice → two ``(B, T)``."""
    if pred.shape != truth.shape or pred.ndim != 5:
        raise ValueError(
            f"predicted {tuple(pred.shape)} and true {tuple(truth.shape)} frames must both be "
            "(B, C, T, H, W)"
        )
    b, c, t, h, w = pred.shape
    p = pred.float().clamp(-1, 1).permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    q = truth.float().permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    psnr = peak_signal_noise_ratio(p, q, data_range=DATA_RANGE, reduction="none", dim=(1, 2, 3))
    ssim = structural_similarity_index_measure(p, q, data_range=DATA_RANGE, reduction="none")
    return psnr.reshape(b, t), ssim.reshape(b, t)


class PredictionQuality:
    """``psnr_frame<i>`` and ``ssim_frame<i>`` for each predicted frame ``i`` (1-based), and
    their means over frames ``psnr`` and ``ssim``, over ``n_clips`` real clips.

    Args:
        future_frames: frames to predict after the model's context (recursively when the model
            predicts fewer at a time).
        n_clips: real clips (``null``: the whole data set).
    """

    def __init__(self, future_frames: int = 1, n_clips: int | None = 256) -> None:
        if future_frames < 1:
            raise ValueError(f"prediction: future_frames must be >= 1, got {future_frames}")
        self.future_frames = future_frames
        self.n_clips = n_clips

    def __call__(self, ctx: EvalContext) -> list[Score]:
        module = ctx.module
        if not hasattr(module, "predict") or not hasattr(module, "context_frames"):
            raise ValueError(
                f"metrics prediction needs a video prediction model (model=video_prediction), "
                f"not {type(module).__name__}"
            )
        k, n = module.context_frames, self.future_frames
        means = {f"{m}_frame{i + 1}": MeanMetric().to(ctx.device)
                 for m in ("psnr", "ssim") for i in range(n)}
        batches, used = ctx.real(self.n_clips)
        for clips in batches:
            if clips.ndim != 5 or clips.shape[2] < k + n:
                raise ValueError(
                    f"prediction needs clips of >= {k + n} frames ({k} context + {n} future), "
                    f"got {tuple(clips.shape)}"
                )
            clips = clips.to(ctx.device)
            pred = module.predict(clips[:, :, :k], n, ema=ctx.ema)
            psnr, ssim = frame_psnr_ssim(pred, clips[:, :, k : k + n])
            for i in range(n):
                means[f"psnr_frame{i + 1}"].update(psnr[:, i])
                means[f"ssim_frame{i + 1}"].update(ssim[:, i])
        values = {name: float(m.compute()) for name, m in means.items()}
        for m in ("psnr", "ssim"):
            values[m] = sum(values[f"{m}_frame{i + 1}"] for i in range(n)) / n
        fields = {"n_real": used, "context_frames": k, "frames": n}
        return [Score(name, value, ctx.card(name, **fields), True)
                for name, value in values.items()]
