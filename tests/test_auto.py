"""``method="auto"``: its choice follows the budget and the noise, and is visible."""
import numpy as np
import pytest

from mango_widgets import ConfigError, LatentGrid, make_optimizer
from mango_widgets.core.optimizers.auto import CHOICES, NOISY_CHOICE, choose

GRID = LatentGrid(d=12, n=16)


@pytest.mark.parametrize("budget", [200, 2000, 10_000, 100_000])
@pytest.mark.slow
def test_auto_runs_what_the_table_says_for_the_budget(budget):
    expected = next(m for largest, m, _, _ in CHOICES if largest is None or budget <= largest)
    optimizer = make_optimizer("auto", GRID, seed=0, budget=budget)
    assert optimizer.chosen == expected == choose(budget)[0]
    assert optimizer.params()["chosen"]["method"] == expected
    assert repr(optimizer).startswith(f"Auto(chosen={expected!r}")
    assert optimizer.inner.name == expected
    indices = optimizer.ask()
    optimizer.tell(indices, np.zeros(len(indices)))
    assert optimizer.told == optimizer.inner.told == len(indices)
    optimizer.close()


def test_auto_under_noise_re_measures():
    optimizer = make_optimizer("auto", GRID, seed=0, budget=2000, repeats=3)
    assert optimizer.chosen == NOISY_CHOICE[0]
    assert not optimizer.avoids_repeats
    assert make_optimizer("auto", GRID, seed=0, budget=2000, noisy=True).chosen == NOISY_CHOICE[0]
    with pytest.raises(ConfigError, match="repeats"):
        make_optimizer("auto", GRID, repeats=0)


def test_auto_borrows_the_chosen_methods_flags():
    optimizer = make_optimizer("auto", GRID, seed=0, budget=2000)
    for flag in ("learns_from_observed", "warm_startable", "exports_state", "avoids_repeats"):
        assert getattr(optimizer, flag) == getattr(optimizer.inner, flag)
