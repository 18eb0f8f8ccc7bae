"""Early exit: reading hidden layers only stops each forward call once they have run, with the same
activations as a full pass, and is refused where it would change them (feedback from a later layer,
modules that loop over time themselves)."""
import numpy as np
import pytest
import torch
from torch import nn

from mango_widgets.core.network import OUTPUT, Network
from mango_widgets.core.objective import Objective
from tests import tiny_models as tm


def calls_of(module: nn.Module) -> list:
    """A list that grows by one entry each time ``module`` runs."""
    seen = []
    module.register_forward_hook(lambda *_: seen.append(1))
    return seen


def random_images(batch: int, shape=(1, 2, 2), seed: int = 0) -> torch.Tensor:
    return torch.rand((batch, *shape), generator=torch.Generator().manual_seed(seed)) * 2


@pytest.mark.parametrize("make, mode", [(tm.snntorch_step_net, "step"), (lambda: tm.spikingjelly_net("s"), "step"),
                                        (lambda: tm.spikingjelly_net("m"), "sequence"), (tm.cnn, "static")])
def test_a_hidden_layer_read_alone_skips_the_later_layers_with_the_same_activations(make, mode):
    network = Network(make(), input_shape=(1, 2, 2), T=6)
    assert network.time_mode == mode
    hidden = "relu" if mode == "static" else "lif"
    readout = calls_of(network.module.fc)
    images = random_images(5)
    full = network.run(images, [hidden])
    cut = network.run(images, [hidden], output=False)  # the first cut pass is checked against a full one
    assert network.early_exits == {(hidden,): True}
    assert OUTPUT not in cut and torch.equal(cut[hidden], full[hidden])
    before = len(readout)
    again = network.run(images, [hidden], output=False)
    assert len(readout) == before, "the read-out layer ran although only a hidden layer was read"
    assert torch.equal(again[hidden], full[hidden])


def test_the_deepest_of_several_layers_decides_where_the_pass_stops():
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    readout_neuron = calls_of(network.module.out)
    images = random_images(3, seed=1)
    full = network.run(images, ["lif", "fc"])
    cut = network.run(images, ["fc", "lif"], output=False)
    assert network.early_exits == {("fc", "lif"): True}
    assert all(torch.equal(cut[name], full[name]) for name in ("lif", "fc"))
    before = len(readout_neuron)
    network.run(images, ["lif", "fc"], output=False)
    assert len(readout_neuron) == before


def test_a_first_hidden_only_call_checks_both_shortcuts_in_three_passes_with_the_same_activations():
    """The static-prefix check's plain pass is a full pass: the early-exit check adds only its cut pass."""
    T = 4
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=T)
    reference = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=T, static_prefix=False, early_exit=False)
    reference.module.load_state_dict(network.module.state_dict())
    steps = calls_of(network.module.lif)
    images = random_images(4, seed=2)
    cut = network.run(images, ["lif"], output=False)
    assert network.static_prefix_layers == ("conv",) and network.early_exits == {("lif",): True}
    assert len(steps) == 3 * T, f"{len(steps) // T} passes over the first chunk, expected 3"
    assert torch.equal(cut["lif"], reference.run(images, ["lif"])["lif"])


class TopDownNet(nn.Module):
    """A later layer's membrane feeds back into the first layer's input at the next step."""

    def __init__(self):
        super().__init__()
        import snntorch

        torch.manual_seed(0)
        self.fc1 = nn.Linear(4, 6)
        self.lif1 = snntorch.Leaky(beta=0.9, init_hidden=True)
        self.fc2 = nn.Linear(6, 4)
        self.lif2 = snntorch.Leaky(beta=0.9, init_hidden=True)
        self.back = nn.Linear(4, 4, bias=False)
        with torch.no_grad():
            self.fc2.bias.fill_(1.0)  # lif2's membrane grows every step, whatever lif1 does
            self.back.weight.fill_(2.0)

    def forward(self, x):
        x = x.flatten(1)
        if self.lif2.mem.numel():
            x = x + self.back(self.lif2.mem)
        return self.lif2(self.fc2(self.lif1(self.fc1(x))))


def test_feedback_from_a_later_layer_fails_the_check_and_every_pass_runs_in_full():
    network = Network(TopDownNet(), input_shape=(1, 2, 2), T=8, time_mode="step")
    later = calls_of(network.module.lif2)
    images = random_images(6, seed=2)
    full = network.run(images, ["lif1"])
    cut = network.run(images, ["lif1"], output=False)
    assert network.early_exits == {("lif1",): False}
    assert torch.equal(cut["lif1"], full["lif1"])
    before = len(later)
    network.run(images, ["lif1"], output=False)
    assert len(later) == before + network.T, "a pass that failed the check must run every layer"


@pytest.mark.parametrize("make", [tm.SnntorchSelfLoopingNet, tm.SpikingjellySelfLoopingNet])
def test_modules_that_loop_over_time_themselves_never_stop_early(make):
    network = Network(make(5), input_shape=(1, 2, 2), T=5)
    assert network.time_mode == "internal"
    images = random_images(2, seed=3)
    full = network.run(images, ["lif"])
    cut = network.run(images, ["lif"], output=False)
    assert network.early_exits == {}
    assert torch.equal(cut["lif"], full["lif"])


def test_early_exit_can_be_switched_off():
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=4, early_exit=False)
    network.run(random_images(2), ["lif"], output=False)  # the first run also checks the static prefix
    readout = calls_of(network.module.fc)
    network.run(random_images(2), ["lif"], output=False)
    assert network.early_exits == {} and len(readout) == network.T


def test_an_objective_on_a_unit_stops_early_and_one_on_a_class_reads_the_output():
    generator = tm.tiny_generator()
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    indices = np.random.default_rng(0).integers(0, 16, size=(7, 6))
    unit = Objective(generator, network, "lif:1")
    assert np.array_equal(unit(indices), network.run(generator(indices), ["lif"])["lif"][:, 1].double().numpy())
    assert network.early_exits == {("lif",): True}
    klass = Objective(generator, network, "class:1")
    assert np.array_equal(klass(indices), network.run(generator(indices))[OUTPUT][:, 1].double().numpy())


def test_a_baseline_reads_layers_and_class_probabilities_from_one_pass_with_the_separate_passes_values():
    from mango_widgets.studies.reproduction.baseline import compute_baseline

    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    generator = tm.tiny_generator()
    network.run(tm.test_image(), ["lif"])  # the first run also checks the static prefix
    readout = calls_of(network.module.out)
    arrays = compute_baseline(network, generator, ["lif"], images=12, seed=4, batch=5)
    assert len(readout) == 3 * network.T, "one pass per chunk of 5 (12 images: 3 chunks)"
    images = generator(arrays["indices"].astype(np.int64))
    assert np.array_equal(arrays["probabilities"], network.class_probabilities(images).double().numpy())
    assert np.array_equal(arrays["activation:lif"], network.run(images, ["lif"])["lif"].double().numpy())
