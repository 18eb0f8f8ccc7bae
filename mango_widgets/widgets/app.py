"""Start the Voila app: ``python -m mango_widgets.widgets.app [--port 8866] [--no-browser] [--fast]``.

Voila renders ``mango_widgets/widgets/app_notebook/mango_app.ipynb`` (a few lines that build the explorer
and layer overview on the demo models) as a web page, with code hidden, on localhost.
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path
from typing import List, Optional

#: the app notebook, shipped inside the package
NOTEBOOK = "mango_app.ipynb"


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
    return parser


def voila_argv(args: argparse.Namespace) -> List[str]:
    argv = [str(notebook_path()), f"--port={args.port}", f"--Voila.ip={args.ip}", "--theme=light"]
    if args.no_browser:
        argv.append("--no-browser")
    return argv


def main(argv: Optional[List[str]] = None) -> int:
    """Parse options and run Voila until interrupted (Ctrl-C)."""
    args = _parser().parse_args(argv)
    if args.fast:
        os.environ["MANGO_FAST"] = "1"  # inherited by the kernel that runs the app notebook
    try:
        from voila.app import Voila
    except ImportError:
        print("error: Voila is not installed; install the app extra: pip install 'mango_widgets[app]'", file=sys.stderr)
        return 2
    print(f"MANGO app: http://{args.ip}:{args.port}/  (Ctrl-C to stop)", flush=True)
    Voila.launch_instance(argv=voila_argv(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
