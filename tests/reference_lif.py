"""Plain-Python LIF simulations, written from the libraries' documented equations, used as
hand-computed references for the probe (no torch, no library code)."""


def snntorch_spike_count(current: float, T: int, beta: float = 0.9, threshold: float = 1.0) -> int:
    """snnTorch Leaky, reset by subtraction: U[t] = beta U[t-1] + I - S[t-1] thr, S[t] = U[t] > thr."""
    u, s, count = 0.0, 0, 0
    for _ in range(T):
        u = beta * u + current - s * threshold
        s = 1 if u > threshold else 0
        count += s
    return count


def spikingjelly_spike_count(current: float, T: int, tau: float = 10.0, threshold: float = 1.0) -> int:
    """SpikingJelly LIFNode(decay_input=False, v_reset=None): H = V - V/tau + I, S = H >= thr, V = H - S thr."""
    v, count = 0.0, 0
    for _ in range(T):
        h = v - v / tau + current
        s = 1 if h >= threshold else 0
        v = h - s * threshold
        count += s
    return count
