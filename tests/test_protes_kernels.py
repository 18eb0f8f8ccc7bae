"""Guard for the private protes kernels our PROTES driver reuses (protes_kernels is the only importer)."""
import numpy as np
import pytest

from mango_widgets.core.optimizers.protes_kernels import KNOWN_GOOD, SIGNATURES, kernels


def test_kernels_have_the_signatures_we_call():
    found = kernels()
    assert set(SIGNATURES) == {"_generate_initial", "_interface_matrices", "_sample", "_likelihood"}
    assert callable(found.sample) and callable(found.likelihood)
    assert KNOWN_GOOD.count(".") == 2


@pytest.mark.slow
def test_kernels_sample_and_score_a_concentrated_tensor():
    """A TT tensor that puts (almost) all its mass on one point: sampling returns that point and
    its log-likelihood is the largest of all points."""
    import jax
    import jax.numpy as jnp

    k = kernels()
    d, n, r = 5, 4, 2
    Pl, Pm, Pr = k.generate_initial(d, n, r, jax.random.PRNGKey(0))
    assert Pl.shape == (1, n, r) and Pm.shape == (d - 2, r, n, r) and Pr.shape == (r, n, 1)
    point = np.array([3, 0, 2, 1, 3])
    scale = jnp.full(n, 1e-4)
    Pl = jnp.ones((1, n, r)) * scale.at[point[0]].set(1.0)[None, :, None]
    Pm = jnp.stack([jnp.ones((r, n, r)) * scale.at[i].set(1.0)[None, :, None] for i in point[1:-1]])
    Pr = jnp.ones((r, n, 1)) * scale.at[point[-1]].set(1.0)[None, :, None]
    Zm = k.interface_matrices(Pm, Pr)
    keys = jax.random.split(jax.random.PRNGKey(1), 20)
    samples = np.array(jax.vmap(k.sample, (None, None, None, None, 0))(Pl, Pm, Pr, Zm, keys))
    assert samples.shape == (20, d) and (samples == point).all(axis=1).mean() > 0.9
    other = (point + 1) % n
    ll = jax.vmap(k.likelihood, (None, None, None, None, 0))(Pl, Pm, Pr, Zm, jnp.array(np.stack([point, other])))
    assert float(ll[0]) > float(ll[1]) and abs(float(ll[0])) < 0.01
