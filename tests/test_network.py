"""The probe: activations equal hand-computed spike counts, for every kind of network."""
import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Network
from mango_widgets.core.network import OUTPUT
from tests import tiny_models as tm
from tests.reference_lif import snntorch_spike_count, spikingjelly_spike_count

T = 20


def expected_rates(count_fn, T=T):
    """Per channel: mean over the 4 positions of spike count / T."""
    return np.array([[np.mean([count_fn(w * p, T) for p in tm.PIXELS]) / T for w in tm.CHANNEL_WEIGHTS]])


@pytest.mark.parametrize(
    "make, mode, count_fn",
    [
        (tm.snntorch_step_net, "step", snntorch_spike_count),
        (lambda: tm.SnntorchLoopNet(T), "internal", snntorch_spike_count),
        (lambda: tm.spikingjelly_net("s"), "step", spikingjelly_spike_count),
        (lambda: tm.spikingjelly_net("m"), "sequence", spikingjelly_spike_count),
    ],
    ids=["snntorch-init-hidden", "snntorch-own-loop", "spikingjelly-single-step", "spikingjelly-multi-step"],
)
def test_spike_rate_equals_hand_computed_count(make, mode, count_fn):
    network = Network(make(), input_shape=(1, 2, 2), T=T)
    assert network.time_mode == mode
    result = network.run(tm.test_image(batch=3), ["lif", "conv"])
    expected = expected_rates(count_fn)
    np.testing.assert_allclose(result["lif"].numpy(), np.repeat(expected, 3, axis=0), rtol=0, atol=1e-6)
    # an analog layer reports its mean value: the mean current over the positions
    currents = np.array([[w * np.mean(tm.PIXELS) for w in tm.CHANNEL_WEIGHTS]])
    np.testing.assert_allclose(result["conv"].numpy(), np.repeat(currents, 3, axis=0), rtol=1e-5)
    assert 0 <= result[OUTPUT].min() and result[OUTPUT].max() <= 1  # output spike rates


def test_layers_list_dotted_names_units_and_kind():
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    layers = network.layers()
    assert list(layers) == ["conv", "lif", "flat", "fc", "out"]
    assert layers["lif"].units == 2 and layers["lif"].spiking and layers["lif"].unit_shape == (2, 2)
    assert layers["fc"].units == 2 and not layers["fc"].spiking
    multi = Network(tm.spikingjelly_net("m"), input_shape=(1, 2, 2), T=4)
    assert multi.layers()["lif"].units == 2 and multi.layers()["lif"].spiking


def test_static_cnn_mean_activation_and_T_is_one():
    network = Network(tm.cnn(), input_shape=(1, 2, 2), T=50)
    assert network.time_mode == "static" and network.T == 1
    result = network.run(tm.test_image(), ["relu"])
    expected = [w * np.mean(tm.PIXELS) for w in tm.CHANNEL_WEIGHTS]
    np.testing.assert_allclose(result["relu"].numpy()[0], expected, rtol=1e-5)
    probabilities = network.class_probabilities(tm.test_image())
    assert torch.allclose(probabilities.sum(1), torch.ones(1))


def test_all_units_of_a_layer_in_one_pass_match_single_images():
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=T)
    images = torch.rand(7, 1, 2, 2) * 2
    together = network.run(images, ["lif"])["lif"]
    alone = torch.cat([network.run(images[i : i + 1], ["lif"])["lif"] for i in range(7)])
    assert torch.equal(together, alone)  # also proves the state is reset between batches


def test_state_reset_is_per_network_not_process_wide():
    a = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=T)
    b_module = tm.snntorch_step_net()
    sentinel = torch.full((1, 2, 2, 2), 0.123)
    b_module.lif.mem = sentinel.clone()
    a.run(tm.test_image(), ["lif"])
    assert torch.equal(b_module.lif.mem, sentinel)  # snntorch.utils.reset would have zeroed it


def test_unknown_layer_lists_valid_names_and_unit_range_is_given():
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    with pytest.raises(ConfigError, match=r"unknown layer 'lif9'.*conv.*lif.*fc"):
        network.run(tm.test_image(), ["lif9"])
    with pytest.raises(ConfigError, match=r"unit 2 is out of range.*0\.\.1"):
        network.check_unit("lif", 2)


def test_wrong_image_shape_is_a_clear_error():
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    with pytest.raises(ConfigError, match=r"expects images \[batch, 1, 2, 2\].*got \(1, 1, 3, 3\)"):
        network.run(torch.zeros(1, 1, 3, 3), ["lif"])


def test_nan_activations_are_reported():
    module = tm.cnn()
    with torch.no_grad():
        module.conv.weight.fill_(float("nan"))
    network = Network(module, input_shape=(1, 2, 2))
    with pytest.raises(Exception, match="NaN or infinite"):
        network.run(tm.test_image(), ["relu"])


def test_a_network_that_has_run_can_still_be_copied():
    import copy

    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5)
    first = network.run(tm.test_image(), ["lif"])["lif"]
    twin = copy.deepcopy(network)
    assert torch.equal(twin.run(tm.test_image(), ["lif"])["lif"], first)
