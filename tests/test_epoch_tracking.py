"""Checkpoint series and sweep descriptions: clear errors for missing epochs and foreign checkpoints,
silent units reported as silent, stored descriptions used as they are. (Warm starts over epochs are
cells of a plan: tests/test_plan.py.)"""
import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Generator, LatentGrid, Network, WeightsError
from mango_widgets.studies.epoch_tracking import check_epochs, checkpoint_series
from tests import tiny_models as tm

GRID = LatentGrid(d=6, n=16)


def network_at(epoch: int) -> Network:
    """Epoch 1: the conv weights are zero, so nothing spikes; later epochs: the hand-built weights."""
    module = tm.snntorch_step_net()
    if epoch == 1:
        with torch.no_grad():
            module.conv.weight.zero_()
    return Network(module, input_shape=(1, 2, 2), T=20, name=f"tiny@{epoch}")


def generator() -> Generator:
    return Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match=r"epoch\(s\) \[7\].*saved epochs are \[1, 2, 3\]"):
        check_epochs([1, 7], [1, 2, 3])
    with pytest.raises(ConfigError, match="no epochs"):
        check_epochs([], [1, 2])


def test_checkpoint_series_refuses_another_architecture_before_searching(tmp_path):
    good, other = tmp_path / "e1.pt", tmp_path / "e2.pt"
    torch.save(tm.snntorch_step_net().state_dict(), good)
    torch.save(tm.cnn().state_dict(), other)
    with pytest.raises(WeightsError, match="epoch 2: .*different architecture"):
        checkpoint_series(tm.snntorch_step_net, {1: good, 2: other}, input_shape=(1, 2, 2), T=20)
    network_at = checkpoint_series(tm.snntorch_step_net, {1: good}, input_shape=(1, 2, 2), T=20)
    assert network_at(1).layer("lif").units == 2
    with pytest.raises(ConfigError, match="saved epochs are \\[1\\]"):
        network_at(5)


@pytest.mark.slow
def test_a_sweep_store_feeds_the_analysis_and_the_epoch_explorer(tmp_path):
    """Cells computed by a sweep (inline, no cluster) get entropy etc. and drive the analysis."""
    from mango_widgets.analysis import selectivity_table
    from mango_widgets.engine import Sweep, load_results
    from mango_widgets.models.bundled import demo_generator, demo_network
    from mango_widgets.studies.epoch_tracking import describe_sweep
    from mango_widgets.widgets.epoch_explorer import EpochExplorer

    Sweep(layers=["lif4"], units="0-1", epochs=[11, 12], methods=["tt", "tt-s", "tt-b"], budget=30,
          store=tmp_path / "sweep").run(client="inline", progress=None)
    frame = describe_sweep(load_results(tmp_path / "sweep"), lambda e: demo_network(epoch=e))
    assert len(frame) == 2 * 2 * 3
    fired = frame[frame["status"] == "done"]
    assert len(fired) > 0 and fired["entropy"].between(0, 1).all()
    assert (fired["top_class"] == [int(np.argmax(p)) for p in fired["probabilities"]]).all()
    verdicts = selectivity_table(frame)
    assert len(verdicts) == 2 * 2 and verdicts["complete"].all()
    explorer = EpochExplorer(frame, demo_generator())
    assert explorer.epochs == [11, 12] and explorer.layers == ["lif4"]
