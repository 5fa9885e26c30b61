"""Throughput of the video data modules: clips per second on this machine.

    .venv/bin/python benchmarks/video_data_speed.py [--threads 1] [--seconds 3]

Measures, single process (``num_workers=0``) and with torch limited to ``--threads`` threads:
* Moving MNIST: ``moving_mnist_clip`` alone and dataset items ((1, 20, 64, 64) float clips);
* bouncing shapes: dataset items ((3, 16, 64, 64));
* video_folder: 16-frame clips at 64x64 from UCF-101-like files written here (320x240, 25 fps,
  H.264 with a key frame every 25 frames and MPEG-4 Part 2 AVI, 300 frames = 12 s, on a
  random-noise background: a high bitrate, a hard case), from the first frame and from a random
  offset (seeking), and the same random clips decoded from the start without seeking; and from
  a folder of 320x240 PNG frames.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

from gan_lab.data import BouncingShapesDataModule, MovingMNISTDataModule, VideoFolderDataModule
from gan_lab.data import video_folder as vf
from gan_lab.data.moving_mnist import moving_mnist_clip


def rate(fn, seconds: float) -> float:
    """Calls of ``fn(i)`` per second over about ``seconds``."""
    fn(0)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(n)
        n += 1
    return n / (time.perf_counter() - start)


def write_ucf_like(path: Path, codec: str, n: int = 300) -> None:
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    options = {"g": "25", "crf": "23"} if codec == "libx264" else {"qscale": "4", "g": "25"}
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(n):
            frame = background.copy()
            frame[80:160, (3 * i) % 280 : (3 * i) % 280 + 40] = (255, 0, 0)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []

    mm = MovingMNISTDataModule()
    mm.setup()
    ds = mm.dataset
    rows.append(("moving_mnist_clip (2 digits, 20x64x64)",
                 rate(lambda i: moving_mnist_clip(ds.digits, ds.labels, rng=i), args.seconds)))
    rows.append(("MovingMNISTDataset item (1, 20, 64, 64)", rate(ds.__getitem__, args.seconds)))
    shapes = BouncingShapesDataModule()
    shapes.setup()
    rows.append(("BouncingShapesDataset item (3, 16, 64, 64)",
                 rate(shapes.dataset.__getitem__, args.seconds)))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_ucf_like(root / "clip.mp4", "libx264")
        write_ucf_like(root / "clip.avi", "mpeg4")
        frames = root / "frames"
        frames.mkdir()
        with av.open(str(root / "clip.mp4")) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i < 40:
                    f.to_image().save(frames / f"{i:04d}.png")
        dm = VideoFolderDataModule(str(root), frames=16, resolution=64, batch_size=1)
        start = time.perf_counter()
        dm.setup()
        probe_s = time.perf_counter() - start
        ds = dm.dataset
        names = [v.path for v in dm.videos]
        rng = np.random.default_rng(0)
        for name in ("clip.mp4", "clip.avi"):
            i = names.index(name)
            room = dm.videos[i].num_frames - ds.span
            rows.append((f"video_folder {name} 320x240 -> 16x64x64, first frame",
                         rate(lambda _, i=i: ds.read_clip(i, 0), args.seconds)))
            rows.append((f"video_folder {name}, random offset (seek)",
                         rate(lambda _, i=i, r=room: ds.read_clip(i, int(rng.integers(r + 1))),
                              args.seconds)))
            seek_min = vf.SEEK_MIN_FRAMES
            vf.SEEK_MIN_FRAMES = 10**9
            rows.append((f"video_folder {name}, random offset (decode from start)",
                         rate(lambda _, i=i, r=room: ds.read_clip(i, int(rng.integers(r + 1))),
                              args.seconds)))
            vf.SEEK_MIN_FRAMES = seek_min
        i = names.index("frames")
        rows.append(("video_folder PNG frame folder 320x240 -> 16x64x64",
                     rate(lambda _: ds.read_clip(i, 0), args.seconds)))
    print(f"torch threads: {args.threads}; probing 3 videos at setup: {probe_s * 1000:.0f} ms")
    print("| what | clips/s |\n|---|---|")
    for name, r in rows:
        print(f"| {name} | {r:,.0f} |")


if __name__ == "__main__":
    main()
