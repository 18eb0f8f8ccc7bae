"""Test tiers and shared fixtures for tests/, tutorials/ and notebooks/.

``pytest -m "not slow"`` is the quick developer loop (unit tests); the README's test command runs
everything: the slow tier holds the real-browser tests, Dask clusters, subprocess CLI runs, training
runs, every notebook executed by nbval, and the single tests marked ``@pytest.mark.slow`` in their
files (those that took about a second or more on an idle 2-core machine: full demo searches,
subprocesses, model-quality checks).
"""
import pytest

#: test modules whose tests start servers, clusters, subprocesses or trainings (all of them slow)
SLOW_MODULES = {"test_browser", "test_sweep", "test_reproduce", "test_plan", "test_train", "test_jax_runtime", "test_trained_runs"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: seconds to minutes each (servers, clusters, subprocesses, notebooks); "
                                       "deselect with -m 'not slow' for the quick loop")
    config.addinivalue_line("markers", "notebook: a notebook cell executed by nbval")


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = getattr(item, "module", None)
        if type(item).__module__.startswith("nbval"):
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)
        elif module is not None and module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def demo_generator():
    """The bundled demo generator (DCGAN, 128 axes x 64 points on [-4, 4]), built once per session."""
    from mango_widgets.models.bundled import demo_generator as build

    return build()


@pytest.fixture(scope="session")
def demo_network_at():
    """``demo_network_at(epoch=None)``: the bundled demo SNN at a checkpoint, built once per epoch and session.
    Tests must not change the network they get (it is shared)."""
    from mango_widgets.models.bundled import demo_network

    built = {}

    def at(epoch=None):
        if epoch not in built:
            built[epoch] = demo_network(epoch=epoch)
        return built[epoch]

    return at
