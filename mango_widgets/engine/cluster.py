"""The local Dask cluster a sweep starts: scheduler, workers and dashboard on this machine only.

Dask's dashboard and scheduler accept connections from anyone who can reach their port, and the
dashboard shows (and the scheduler runs) whatever it is sent. A sweep therefore binds all of
them to 127.0.0.1; exposing the dashboard to other machines is an explicit choice
(``dashboard_address="0.0.0.0:8787"``, ``mango sweep --dashboard-address``).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

#: where the scheduler and workers listen
LOOPBACK = "127.0.0.1"
#: the dashboard's default address: this machine only, on a free port
DEFAULT_DASHBOARD = f"{LOOPBACK}:0"


def start_local_cluster(workers: int, dashboard_address: Optional[str] = DEFAULT_DASHBOARD):
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes on 127.0.0.1
    (``dashboard_address=None``: no dashboard)."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host=LOOPBACK,
        dashboard_address=dashboard_address, worker_dashboard_address=None,
    )


def listening_addresses(pids) -> List[Tuple[str, int]]:
    """(address, port) of every TCP socket the processes ``pids`` listen on (read from the OS, no traffic)."""
    import psutil

    found = []
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="inet")
        except psutil.Error:  # the process ended meanwhile
            continue
        found += [(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN]
    return found


__all__ = ["DEFAULT_DASHBOARD", "LOOPBACK", "listening_addresses", "start_local_cluster"]
