"""Loading foreign weights reports missing, unexpected and mis-shaped keys."""
import pytest
import torch
from torch import nn

from mango_widgets import WeightsError
from mango_widgets.models.checkpoints import load_state_dict


def test_mismatched_checkpoint_names_the_keys(tmp_path):
    path = tmp_path / "other.pt"
    torch.save(nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2), nn.Linear(2, 2)).state_dict(), path)
    with pytest.raises(WeightsError) as info:
        load_state_dict(nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), path)
    message = str(info.value)
    assert "unexpected keys: 2.bias, 2.weight" in message
    assert "mis-shaped keys: 0.bias: file (5,) vs model (4,)" in message
    assert "different architecture" in message


def test_matching_checkpoint_loads(tmp_path):
    source = nn.Linear(3, 4)
    path = tmp_path / "ok.pt"
    torch.save(source.state_dict(), path)
    target = load_state_dict(nn.Linear(3, 4), path)
    assert torch.equal(target.weight, source.weight)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"weight": torch.zeros(1), "evil": object()}, path)
    with pytest.raises(WeightsError, match="cannot read"):
        load_state_dict(nn.Linear(1, 1), path)
