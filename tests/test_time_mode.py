"""Time handling learned from behaviour: each style of spiking network is detected from one dry
forward pass, runs T steps (never T x T), and gives hand-computed spike rates."""
import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Network
from mango_widgets.core.network import OUTPUT
from tests import tiny_models as tm
from tests.reference_lif import snntorch_spike_count, spikingjelly_spike_count

T = 12

STYLES = [
    (tm.snntorch_step_net, "step", snntorch_spike_count),
    (lambda: tm.SnntorchSelfLoopingNet(T), "internal", snntorch_spike_count),
    (lambda: tm.SnntorchLoopNet(T), "internal", snntorch_spike_count),
    (lambda: tm.spikingjelly_net("s"), "step", spikingjelly_spike_count),
    (lambda: tm.spikingjelly_net("m"), "sequence", spikingjelly_spike_count),
    (lambda: tm.SpikingjellySelfLoopingNet(T), "internal", spikingjelly_spike_count),
]
IDS = ["snntorch-stepped", "snntorch-self-looping", "snntorch-own-mem-loop", "spikingjelly-single-step",
       "spikingjelly-multi-step", "spikingjelly-self-looping"]


def expected_rates(count_fn):
    """Per channel: mean over the 4 positions of spike count / T (plain-Python LIF reference)."""
    return np.array([[np.mean([count_fn(w * p, T) for p in tm.PIXELS]) / T for w in tm.CHANNEL_WEIGHTS]])


def neuron_calls(network: Network, layer: str, images: torch.Tensor) -> int:
    """How many times ``layer`` ran while the network exposed ``images`` once."""
    network.run(images, [layer])  # a network's first run also makes its one-off checks (static prefix)
    calls = []
    handle = dict(network.module.named_modules())[layer].register_forward_hook(lambda *_: calls.append(1))
    try:
        network.run(images, [layer])
    finally:
        handle.remove()
    return len(calls)


@pytest.mark.parametrize("make, mode, count_fn", STYLES, ids=IDS)
def test_mode_is_detected_and_rates_equal_the_hand_computed_ones(make, mode, count_fn):
    network = Network(make(), input_shape=(1, 2, 2), T=T)
    assert network.time_mode == mode
    assert network.time_mode_reason.startswith(f"{mode}:") and network.time_mode_reason in repr(network)
    result = network.run(tm.test_image(batch=3), ["lif"])
    np.testing.assert_allclose(result["lif"].numpy(), np.repeat(expected_rates(count_fn), 3, axis=0), rtol=0, atol=1e-6)
    assert result[OUTPUT].shape == (3, 2) and network.output_shape == (2,)
    # the exposure is T steps: each neuron layer runs T times per batch (multi-step: once over all T)
    assert neuron_calls(network, "lif", tm.test_image(batch=3)) == (1 if mode == "sequence" else T)


def test_self_looping_snntorch_net_says_why_it_is_internal():
    network = Network(tm.SnntorchSelfLoopingNet(25), input_shape=(1, 2, 2), T=25)
    assert network.time_mode == "internal"
    assert "called lif 25 times in one call" in network.time_mode_reason
    assert "returned [25, 3, 2]" in network.time_mode_reason


def test_plain_cnn_is_static_with_a_reference_activation():
    network = Network(tm.cnn(), input_shape=(1, 2, 2), T=50)
    assert network.time_mode == "static" and network.T == 1 and "no snnTorch or SpikingJelly" in network.time_mode_reason
    expected = [w * np.mean(tm.PIXELS) for w in tm.CHANNEL_WEIGHTS]
    np.testing.assert_allclose(network.run(tm.test_image(), ["relu"])["relu"].numpy()[0], expected, rtol=1e-5)


def test_time_mode_stays_overridable():
    """Forcing step mode on a self-looping net runs its loop T times (T x T steps): the user's call, as given."""
    network = Network(tm.SnntorchSelfLoopingNet(4), input_shape=(1, 2, 2), T=3, time_mode="step")
    assert network.time_mode == "step" and "given as time_mode='step'" in network.time_mode_reason
    assert neuron_calls(network, "lif", tm.test_image()) == 3 * 4


def test_an_input_shape_that_does_not_fit_names_the_shape_and_the_fix():
    with pytest.raises(ConfigError, match=r"input_shape=\(3, 32, 32\).*fed a tensor of shape \(3, 3, 32, 32\).*input_shape=\(1, 28, 28\)"):
        Network(tm.cnn(), input_shape=(3, 32, 32))
    with pytest.raises(ConfigError, match=r"input_shape=\(1, 5, 5\).*RuntimeError"):
        Network(tm.snntorch_step_net(), input_shape=(1, 5, 5))
