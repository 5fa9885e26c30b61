"""PSNR/SSIM per predicted frame on predictors with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_lab.data import MovingMNISTDataModule
from gan_lab.metrics import EvalContext, PredictionQuality, frame_psnr_ssim
from tests.helpers import FixedSamples


class Predictor(FixedSamples):
    """A stand-in prediction model: repeats the last context frame, or (``oracle``) returns the
    true future of the clips it was given."""

    def __init__(self, clips=None, context_frames: int = 4) -> None:
        super().__init__(clips)
        self.context_frames = context_frames

    def predict(self, context, n_future, ema=True):
        if self.samples is not None:  # oracle: look each clip up by its context
            index = [next(i for i, c in enumerate(self.samples)
                          if torch.equal(c[:, : self.context_frames], x)) for x in context]
            return self.samples[index][:, :, self.context_frames : self.context_frames + n_future]
        return context[:, :, -1:].expand(-1, -1, n_future, -1, -1)


def _ctx(module):
    dm = MovingMNISTDataModule(frames=8, length=24, batch_size=8)
    return EvalContext(module=module, datamodule=dm, data_config={}, batch_size=8), dm


def test_copying_the_last_frame_scores_what_an_independent_psnr_says():
    ctx, dm = _ctx(Predictor())
    scores = {s.name: s for s in PredictionQuality(future_frames=3, n_clips=24)(ctx)}
    assert set(scores) == {"psnr", "ssim", *(f"{m}_frame{i}" for m in ("psnr", "ssim")
                                             for i in (1, 2, 3))}
    clips = torch.stack([dm.train_dataloader().dataset[i][0] for i in range(24)]).numpy()
    for i in range(3):
        err = ((clips[:, :, 3] - clips[:, :, 4 + i]) ** 2).mean(axis=(1, 2, 3))
        expected = np.mean(10 * np.log10(4.0 / err))  # peak-to-peak range 2 → 2² = 4
        assert scores[f"psnr_frame{i + 1}"].value == pytest.approx(expected, rel=1e-5)
    # further frames drift away from the last context frame
    assert scores["psnr_frame1"].value > scores["psnr_frame3"].value
    assert scores["ssim_frame1"].value > scores["ssim_frame3"].value
    card = scores["psnr_frame2"].card
    assert (card["n_real"], card["context_frames"], card["frames"]) == (24, 4, 3)


def test_a_perfect_prediction_has_ssim_one():
    dm = MovingMNISTDataModule(frames=8, length=24, batch_size=8)
    clips = torch.stack([dm.train_dataloader().dataset[i][0] for i in range(24)])
    ctx, _ = _ctx(Predictor(clips))
    scores = {s.name: s.value for s in PredictionQuality(future_frames=2, n_clips=24)(ctx)}
    assert scores["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert scores["psnr_frame1"] > 60  # zero error


def test_frame_psnr_ssim_shapes_and_errors():
    a = torch.rand(2, 1, 3, 16, 16) * 2 - 1
    psnr, ssim = frame_psnr_ssim(a, a)
    assert psnr.shape == (2, 3) and torch.allclose(ssim, torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        frame_psnr_ssim(a, a[:, :, :2])
    with pytest.raises(ValueError, match="video prediction model"):
        PredictionQuality()(_ctx(FixedSamples(a))[0])
