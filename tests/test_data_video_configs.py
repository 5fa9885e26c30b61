from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gan_lab.data import DataSpec
from gan_lab.train import CONF_DIR

SPECS = {
    "moving_mnist": DataSpec(shape=(1, 20, 64, 64), num_classes=10),
    "bouncing_shapes": DataSpec(shape=(3, 16, 64, 64), num_classes=3),
    "video_folder": DataSpec(shape=(3, 16, 64, 64), num_classes=0),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_video_data_configs_instantiate_with_their_defaults(name, tmp_path):
    cfg = OmegaConf.load(Path(CONF_DIR) / "data" / f"{name}.yaml")
    cfg.seed = 7
    if name == "video_folder":
        cfg.root = str(tmp_path)
    dm = instantiate(cfg, _convert_="all")
    assert dm.spec == SPECS[name] and dm.seed == 7
    if name != "video_folder":
        dm.batch_size = 2
        x, y = next(iter(dm.train_dataloader()))
        assert x.shape == (2, *SPECS[name].shape) and x.dtype == torch.float32
    cfg.misspelt_option = 1
    with pytest.raises(Exception, match="misspelt_option"):
        instantiate(cfg, _convert_="all")
