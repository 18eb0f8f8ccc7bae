"""A search whose objective fails after its first batch: what every "nothing is lost" test starts from."""
import pytest

from mango_widgets import Objective, Search


def search_that_fails_after_one_batch(generator, network, target: str, budget: int = 100) -> Search:
    """A random search on ``target`` whose second batch raises (like a rig that loses the neuron); already run."""
    objective = Objective(generator, network, target)
    evaluate, calls = objective.evaluate, []

    def failing(indices):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the rig lost the neuron")
        return evaluate(indices)

    objective.evaluate = failing
    search = Search(objective, "random", budget=budget, seed=0, threads=1)
    with pytest.raises(RuntimeError):
        search.run()
    return search
