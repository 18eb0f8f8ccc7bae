"""Static prefix: stateless layers that read the repeated image run once per exposure, with the same
activations as running them every step, and are refused where reuse would change anything (a net
that edits a layer's output in place, layers behind a stateful one, train-mode layers)."""
import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from mango_widgets.core.network import OUTPUT, Network
from mango_widgets.core.static_prefix import StaticPrefix, is_stateless
from tests import tiny_models as tm


def computations_of(conv: nn.Conv2d) -> list:
    """A list that grows by one entry each time ``conv`` really convolves (a forward hook would also
    fire on a reused output)."""
    done, convolve = [], conv._conv_forward

    def counting(*args):
        done.append(1)
        return convolve(*args)

    conv._conv_forward = counting
    return done


def random_images(batch: int, shape=(1, 2, 2), seed: int = 0) -> torch.Tensor:
    return torch.rand((batch, *shape), generator=torch.Generator().manual_seed(seed)) * 2


def pooled_snntorch_net() -> nn.Sequential:
    """conv -> pool -> LIF -> flatten -> linear -> LIF: the demo SNN's shape, on 1x4x4 images."""
    import snntorch

    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.MaxPool2d(2), snntorch.Leaky(beta=0.9, init_hidden=True),
                         nn.Flatten(), nn.Linear(12, 2), snntorch.Leaky(beta=0.9, init_hidden=True))


def every_activation(network: Network, images: torch.Tensor) -> dict:
    return network.run(images, list(network.layers()))


def reusing_beside_plain(make, mode: str, shape=(1, 2, 2), seeds: int = 3, **settings) -> Network:
    """A network built by ``make`` with the static prefix on, after checking that on ``seeds``
    batches every layer and the output match the same network's without it."""
    reusing, plain = Network(make(), input_shape=shape, **settings), Network(make(), input_shape=shape, static_prefix=False, **settings)
    assert reusing.time_mode == mode
    for seed in range(seeds):  # the first call checks, the later ones reuse
        images = random_images(4, shape, seed)
        ours, theirs = every_activation(reusing, images), every_activation(plain, images)
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    return reusing


@pytest.mark.parametrize("make, shape", [(pooled_snntorch_net, (1, 4, 4)), (tm.snntorch_step_net, (1, 2, 2)),
                                         (lambda: tm.spikingjelly_net("s"), (1, 2, 2))])
def test_the_layers_before_the_first_neuron_run_once_per_exposure_with_the_same_activations(make, shape):
    reusing = reusing_beside_plain(make, "step", shape, T=5)
    first = next(m for m in reusing.module.modules() if isinstance(m, nn.Conv2d))
    assert reusing.static_prefix_layers and reusing.static_prefix_layers[0] == \
        next(name for name, m in reusing.module.named_modules() if m is first)
    convolutions = computations_of(first)
    reusing.run(random_images(4, shape, 9), [reusing.static_prefix_layers[0]])
    assert len(convolutions) == 1  # not T = 5


def test_only_the_prefix_is_reused_nothing_behind_a_neuron_layer():
    network = Network(pooled_snntorch_net(), input_shape=(1, 4, 4), T=5)
    network.run(random_images(2, (1, 4, 4)), ["2"])
    assert network.static_prefix_layers == ("0", "1")  # conv, pool; not the flatten / linear after the LIF


class EditsInPlace(nn.Module):
    """A user net that scales its convolution's output in place before the neuron layer."""

    def __init__(self):
        super().__init__()
        import snntorch

        self.conv = tm._conv()
        self.lif = snntorch.Leaky(beta=0.9, init_hidden=True)
        self.flat, self.fc = nn.Flatten(), tm._readout()

    def forward(self, x):
        current = self.conv(x)
        current.mul_(0.5)  # reusing `current` at the next step would halve it again
        return self.fc(self.flat(self.lif(current)))


def test_a_net_that_edits_a_layer_output_in_place_fails_the_check_and_runs_every_step():
    reusing, plain = Network(EditsInPlace(), input_shape=(1, 2, 2), T=6), Network(EditsInPlace(), input_shape=(1, 2, 2), T=6,
                                                                                  static_prefix=False)
    images = random_images(3)
    first = every_activation(reusing, images)
    assert reusing.static_prefix_layers == ()  # checked, refused
    assert all(torch.equal(first[k], v) for k, v in every_activation(plain, images).items())
    convolutions = computations_of(reusing.module.conv)
    again = every_activation(reusing, images)
    assert len(convolutions) == reusing.T and all(torch.equal(first[k], again[k]) for k in first)


class SameTensorEveryStep(nn.Module):
    """A stateful layer that returns one buffer, updated in place, at every step (and starts
    afresh every ``steps`` calls: one exposure)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps, self.calls, self.total = steps, 0, None

    def forward(self, x):
        if self.total is None or self.total.shape != x.shape:
            self.calls = 0  # a new batch size: the dry run is over
        if self.calls % self.steps == 0:
            self.total = torch.zeros_like(x)
        self.calls += 1
        return self.total.add_(x)


class AccumulatorNet(nn.Module):
    def __init__(self, steps: int):
        super().__init__()
        self.conv, self.accumulate, self.flat, self.fc = tm._conv(), SameTensorEveryStep(steps), nn.Flatten(), tm._readout()

    def forward(self, x):
        return self.fc(self.flat(self.accumulate(self.conv(x))))


def test_a_layer_behind_a_stateful_one_is_never_reused_even_when_it_sees_the_same_tensor_object():
    reusing = Network(AccumulatorNet(4), input_shape=(1, 2, 2), T=4, time_mode="step")
    plain = Network(AccumulatorNet(4), input_shape=(1, 2, 2), T=4, time_mode="step", static_prefix=False)
    for seed in range(3):
        images = random_images(2, seed=seed)
        assert torch.equal(reusing.run(images)[OUTPUT], plain.run(images)[OUTPUT])
    assert reusing.static_prefix_layers == ("conv",)  # the linear readout reads the buffer: never reused


def test_the_paper_style_self_looping_net_reuses_its_convolution_inside_its_own_loop():
    reusing = reusing_beside_plain(lambda: tm.SnntorchSelfLoopingNet(num_steps=6), "internal", seeds=2)
    assert reusing.static_prefix_layers == ("conv",)
    convolutions = computations_of(reusing.module.conv)
    reusing.run(random_images(3, seed=5), ["lif"])
    assert len(convolutions) == 1


def test_which_layers_count_as_stateless():
    from spikingjelly.activation_based import layer

    class CustomConv(nn.Conv2d):
        def forward(self, x):
            return super().forward(x) + torch.rand(1)

    assert is_stateless(nn.Conv2d(1, 1, 1)) and is_stateless(nn.BatchNorm2d(1).eval())
    assert not is_stateless(nn.BatchNorm2d(1).train())  # updates its running statistics
    assert not is_stateless(nn.Dropout().train())
    assert not is_stateless(nn.ReLU(inplace=True)) and is_stateless(nn.ReLU())
    assert not is_stateless(CustomConv(1, 1, 1))  # a subclass may keep state in its own forward
    assert is_stateless(layer.Conv2d(1, 1, 1, step_mode="s")) and is_stateless(layer.Conv2d(1, 1, 1, step_mode="m"))
    assert is_stateless(layer.BatchNorm2d(1, step_mode="m").eval())
    assert not is_stateless(layer.BatchNormThroughTime2d(4, 1, step_mode="m").eval())  # a norm per time step


def test_feeding_restores_the_layers_own_forward_even_after_an_error():
    net = pooled_snntorch_net()
    prefix = StaticPrefix(net)
    assert set(prefix.candidates) == {"0", "1", "3", "4"}
    with pytest.raises(RuntimeError), prefix.feeding(torch.zeros(1, 1, 4, 4)):
        raise RuntimeError("a model error mid-exposure")
    assert all("forward" not in m.__dict__ for m in net.modules())


def test_switched_off_it_never_reuses_and_a_deep_copy_keeps_the_verdict():
    network = Network(pooled_snntorch_net(), input_shape=(1, 4, 4), T=5, static_prefix=False)
    conv = network.module[0]
    convolutions = computations_of(conv)
    network.run(random_images(2, (1, 4, 4)), ["2"])
    assert len(convolutions) == network.T and network.static_prefix_layers == ()
    checked = Network(pooled_snntorch_net(), input_shape=(1, 4, 4), T=5)
    checked.run(random_images(2, (1, 4, 4)), ["2"])
    twin = copy.deepcopy(checked)
    assert twin.static_prefix_layers == ("0", "1")
    convolutions = computations_of(twin.module[0])
    assert torch.equal(twin.run(random_images(2, (1, 4, 4), 3), ["2"])["2"],
                       checked.run(random_images(2, (1, 4, 4), 3), ["2"])["2"])
    assert len(convolutions) == 1  # the copy reuses without checking again


def test_a_pickled_network_keeps_the_verdict():
    checked = Network(tm.spikingjelly_net("s"), input_shape=(1, 2, 2), T=5)
    checked.run(random_images(2), ["lif"])
    twin = pickle.loads(pickle.dumps(checked))
    assert twin.static_prefix_layers == checked.static_prefix_layers == ("conv",)
    assert torch.equal(twin.run(random_images(2, seed=3), ["lif"])["lif"], checked.run(random_images(2, seed=3), ["lif"])["lif"])


def test_gradients_through_the_network_are_the_same_as_without_reuse():
    reusing = Network(pooled_snntorch_net(), input_shape=(1, 4, 4), T=4)
    plain = Network(pooled_snntorch_net(), input_shape=(1, 4, 4), T=4, static_prefix=False)
    reusing.run(random_images(2, (1, 4, 4)), ["2"])
    grads = []
    for network in (reusing, plain):
        images = random_images(2, (1, 4, 4), 1).requires_grad_(True)
        network.run_with_grad(images, ["2"])["2"].sum().backward()
        grads.append(images.grad)
    assert torch.equal(grads[0], grads[1])


def test_a_multi_step_net_runs_its_prefix_on_one_step_of_the_repeated_sequence():
    reusing = reusing_beside_plain(lambda: tm.spikingjelly_net("m"), "sequence", T=6)
    assert reusing.static_prefix_layers == ("conv",)
    batches, convolve = [], reusing.module.conv._conv_forward
    reusing.module.conv._conv_forward = lambda x, *rest: batches.append(x.shape[0]) or convolve(x, *rest)
    reusing.run(random_images(4, seed=7), ["lif"])
    assert batches == [4]  # one step's images, not T x 4


def test_an_in_place_op_on_a_repeated_sequence_fails_the_check_instead_of_the_run():
    def make():
        net = tm.spikingjelly_net("m")
        return nn.Sequential(*[net.conv, nn.ReLU(inplace=True), *list(net.children())[1:]])

    reusing = reusing_beside_plain(make, "sequence", T=5, seeds=1)
    assert reusing.static_prefix_layers == ()  # checked, refused: the run itself did not fail
    assert all("forward" not in m.__dict__ for m in reusing.module.modules())


@pytest.mark.parametrize("which, reused", [("demo", ("conv1", "pool1")), ("resnet", ("conv1", "bn1"))])
def test_the_bundled_networks_reuse_their_stem_with_identical_activations(which, reused):
    from mango_widgets.models.bundled import demo_generator, demo_network
    from mango_widgets.models.trained import bundled_network

    def make():
        return demo_network(T=6) if which == "demo" else bundled_network("spiking-resnet18-mnist", T=6)

    reusing, plain = make(), make()
    plain.static_prefix = False
    generator = demo_generator()
    rng = np.random.default_rng(0)
    for _ in range(2):
        images = generator(generator.grid.random(6, rng))
        ours, theirs = every_activation(reusing, images), every_activation(plain, images)
        assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert reusing.static_prefix_layers == reused
