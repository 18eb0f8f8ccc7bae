"""One model source: a user's own architecture and checkpoints run through the sweep engine like the
demo models, and anything else is refused with what it lacks."""
import pickle

import pytest
import torch

from mango_widgets import ConfigError, WeightsError
from mango_widgets.engine import Sweep
from mango_widgets.engine.spec import model_source
from mango_widgets.models.source import CheckpointSource, DemoModels, ModelSource, check_source
from mango_widgets.models.trained import TrainedRunSource
from tests import tiny_models as tm


@pytest.fixture
def checkpoints(tmp_path):
    """Two epochs of the tiny snnTorch net: at epoch 1 nothing spikes (zero conv weights)."""
    return tm.save_two_epochs(tmp_path)


def test_every_source_kind_implements_the_interface(checkpoints):
    source = CheckpointSource.from_files(tm.snntorch_step_net, checkpoints, tm.tiny_generator, name="tiny", input_shape=(1, 2, 2))
    for candidate in (DemoModels(), source, TrainedRunSource("spiking-resnet18-mnist")):
        assert isinstance(candidate, ModelSource)
        assert model_source(candidate) is candidate
    assert source.epochs() == [1, 2]
    assert source.layer_units() == {"conv": 2, "lif": 2, "flat": 8, "fc": 2, "out": 2}  # channels; flat: features
    assert pickle.loads(pickle.dumps(source)) == source  # small and picklable: Dask ships it to workers
    assert source.network(2, 7).T == 7 and source.network(1).name == "tiny@epoch1"


def test_a_user_checkpoint_series_is_swept_like_the_demo(checkpoints, tmp_path):
    source = CheckpointSource.from_files(tm.snntorch_step_net, checkpoints, tm.tiny_generator, name="tiny", input_shape=(1, 2, 2))
    sweep = Sweep(layers=["lif"], units=[0, 1], epochs="all", methods=["random"], budget=20, network=source, store=tmp_path / "s")
    sweep.run(client="inline", progress=None)
    frame = sweep.results()
    assert len(frame) == 4 and set(frame["status"]) == {"done"}
    best = frame.groupby("epoch")["best"].max()
    assert best[1] == 0 and best[2] > 0  # the silent epoch is silent, the trained one is not
    # the analysis table: the source judges each MEI with its network at the cell's epoch and T
    from mango_widgets.studies.epoch_tracking import describe_sweep

    frame = frame.drop(columns=["description"])  # as if the store had not described the MEIs as they ran
    by_source = describe_sweep(frame, source)
    by_callable = describe_sweep(frame, lambda epoch: source.network(epoch, int(frame["T"].iloc[0])))
    assert list(by_source["status"]) == list(by_callable["status"]) and (by_source["status"] == "silent").sum() == 2
    fired = by_source["status"] == "done"
    assert fired.sum() == 2 and (by_source.loc[fired, "entropy"] == by_callable.loc[fired, "entropy"]).all()


def test_bad_sources_say_what_is_wrong(checkpoints, tmp_path):
    with pytest.raises(ConfigError, match="lacks epochs, default_T, layer_units, network, generator"):
        check_source(type("Named", (), {"name": "x"})())
    with pytest.raises(ConfigError, match="no checkpoints given"):
        CheckpointSource.from_files(tm.snntorch_step_net, {})
    foreign = tmp_path / "cnn.pt"
    torch.save(tm.cnn().state_dict(), foreign)
    with pytest.raises(WeightsError, match="epoch 3: "):
        CheckpointSource.from_files(tm.snntorch_step_net, {**checkpoints, 3: foreign}, input_shape=(1, 2, 2))
    source = CheckpointSource.from_files(tm.snntorch_step_net, checkpoints, input_shape=(1, 2, 2))
    with pytest.raises(ConfigError, match=r"saved epochs are \[1, 2\]"):
        source.network(5)
    with pytest.raises(ConfigError, match="has no generator: pass make_generator="):
        source.generator()
    assert source.network(2).layers()["lif"].units == 2
