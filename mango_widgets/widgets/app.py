"""Start the Voila app: ``python -m mango_widgets.widgets.app [--port 8866] [--no-browser] [--fast]``.

Voila renders ``mango_widgets/widgets/app_notebook/mango_app.ipynb`` (a few lines that build the app
on the demo models) as a web page, with code hidden, on localhost. By default one kernel is kept
preheated (the notebook already executed, so a page is interactive in seconds) and kernels no page
is connected to are shut down after ``--cull-after`` idle seconds. Exports go under the folder the
app was started from (``$MANGO_APP_DIR``), not next to the notebook inside the package. The server
also serves plotly's widget bundle at one address, so a page loads it once for all its figures
(:mod:`mango_widgets.widgets.plotly_loader`).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from importlib import resources
from pathlib import Path
from typing import List, Optional

from mango_widgets.widgets.export_panel import START_DIR_ENV
from mango_widgets.widgets.plotly_loader import PLOTLY_PATH, PLOTLY_PATH_ENV

#: the app notebook, shipped inside the package
NOTEBOOK = "mango_app.ipynb"
#: lab extensions a Voila page does not need (they only add load time and console errors there)
UNNEEDED_EXTENSIONS = ("jupyterlab-jupytext", "@voila-dashboards/jupyterlab-preview")


def notebook_path() -> Path:
    """Where the app notebook is (inside the installed package, or the source tree)."""
    path = Path(str(resources.files("mango_widgets.widgets") / "app_notebook" / NOTEBOOK))
    if not path.is_file():
        raise FileNotFoundError(
            f"the app notebook {path} is missing; reinstall mango_widgets "
            "(package_data must include app_notebook/*.ipynb)"
        )
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mango app", description="Serve the MEI explorer as a Voila web app on localhost.")
    parser.add_argument("--port", type=int, default=8866, help="port to serve on (default: 8866)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--fast", action="store_true", help="small default budgets (sets MANGO_FAST=1)")
    parser.add_argument("--preheat", type=int, default=1, metavar="N",
                        help="kernels kept ready with the app already built (default: 1; 0: start one per page load)")
    parser.add_argument("--cull-after", type=int, default=300, metavar="SECONDS",
                        help="shut down kernels idle this long with no page connected (default: 300; 0: never)")
    return parser


def voila_argv(args: argparse.Namespace) -> List[str]:
    """Voila's command line for the parsed options."""
    if args.preheat < 0:
        raise SystemExit("--preheat must be 0 or a positive number of kernels")
    if args.cull_after < 0:
        raise SystemExit("--cull-after must be 0 (never) or a positive number of seconds")
    argv = [str(notebook_path()), f"--port={args.port}", f"--Voila.ip={args.ip}", "--theme=light",
            "--VoilaConfiguration.extension_denylist=" + repr(list(UNNEEDED_EXTENSIONS))]
    if args.preheat > 0:
        argv += ["--preheat_kernel=True", f"--pool_size={args.preheat}"]
    if args.cull_after > 0:
        argv += [f"--MappingKernelManager.cull_idle_timeout={args.cull_after}",
                 f"--MappingKernelManager.cull_interval={max(10, min(60, args.cull_after // 4))}",
                 "--MappingKernelManager.cull_connected=False"]
    if args.no_browser:
        argv.append("--no-browser")
    return argv


def plotly_bundle() -> Path:
    """plotly's widget bundle (the JavaScript every FigureWidget otherwise carries itself)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    if not path.is_file():
        raise FileNotFoundError(f"plotly's widget bundle {path} is missing; reinstall plotly (the app needs plotly >= 6)")
    return path


def voila_app_class():
    """Voila, plus one route: plotly's widget bundle at ``<base URL>/`` + :data:`PLOTLY_PATH`."""
    from jupyter_server.utils import url_path_join
    from tornado.web import StaticFileHandler
    from voila.app import Voila

    bundle = plotly_bundle()
    if PLOTLY_PATH.rpartition("/")[2] != bundle.name:
        raise FileNotFoundError(f"{PLOTLY_PATH} must end with the bundle's file name {bundle.name}")

    class MangoVoila(Voila):
        def init_handlers(self):
            folder, _, name = PLOTLY_PATH.rpartition("/")
            route = url_path_join(self.server_url, folder, "(" + re.escape(name) + ")")
            # first: Voila's last route serves the notebook for every other path
            return [(route, StaticFileHandler, {"path": str(bundle.parent)})] + super().init_handlers()

    return MangoVoila


def main(argv: Optional[List[str]] = None) -> int:
    """Parse options and run Voila until interrupted (Ctrl-C)."""
    args = _parser().parse_args(argv)
    if args.fast:
        os.environ["MANGO_FAST"] = "1"  # inherited by the kernels that run the app notebook
    os.environ.setdefault(START_DIR_ENV, str(Path.cwd().resolve()))  # exports land where the app was started
    os.environ[PLOTLY_PATH_ENV] = PLOTLY_PATH  # the kernels' figures use the bundle this server serves
    try:
        voila = voila_app_class()
    except ImportError:
        print("error: Voila is not installed; install the app extra: pip install 'mango_widgets[app]'", file=sys.stderr)
        return 2
    argv = voila_argv(args)
    print(f"MANGO app: http://{args.ip}:{args.port}/  (exports under {os.environ[START_DIR_ENV]}; Ctrl-C to stop)", flush=True)
    voila.launch_instance(argv=argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
