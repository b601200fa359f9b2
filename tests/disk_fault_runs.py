"""Runs that tests/test_disk_faults.py starts in a subprocess, to be interrupted for real.

Usage:
    python disk_fault_runs.py search DIRECTORY OUTPUT.json [--interrupt in-trial:N]
        resume_search.py's tiny evolution search; --interrupt sends this process SIGINT (Ctrl-C)
        after the first batch of trial N.
    python disk_fault_runs.py export PATH VERSION [--kill WHERE] [--no-exchange]
        exports a tiny model to PATH with metadata {"version": VERSION}; --kill SIGKILLs this
        process at WHERE: "export" (the SavedModel half-written in its staging directory),
        "swapped" (the new model just put in place, the old one not yet deleted) or "aside"
        (with --no-exchange: the old model moved aside, the new one not yet in place);
        --no-exchange makes the export swap without renameat2(RENAME_EXCHANGE).
    python disk_fault_runs.py hold-lock DIRECTORY
        holds DIRECTORY's search lock, prints "held" and sleeps until killed.
"""
import argparse
import os
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def search(args):
    import resume_search

    if args.interrupt:
        # resume_search kills at its hook points through `die`; here the hook sends Ctrl-C.
        # A job started in the background (`cmd &`, as CI may run the tests) inherits SIGINT
        # ignored, and Python then leaves it so: restore the handler a terminal's Ctrl-C meets.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        resume_search.die = lambda: os.kill(os.getpid(), signal.SIGINT)
    return resume_search.main([args.directory, "evolution", args.output]
                              + (["--kill", args.interrupt] if args.interrupt else []))


def export(args):
    import keras
    import numpy as np

    from autonas import export as export_module

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    original_export, original_replace, original_exchange = model.export, os.replace, export_module._exchange

    def export_then_die(path, **kwargs):
        original_export(path, **kwargs)
        if args.kill == "export":
            os.remove(os.path.join(path, "saved_model.pb"))  # as if killed before it was written
            die()

    def exchange(first, second):
        if args.no_exchange:
            return False
        swapped = original_exchange(first, second)
        if args.kill == "swapped":
            die()
        return swapped

    def replace(source, destination):
        original_replace(source, destination)
        aside = os.path.basename(destination).endswith(".previous")
        if (args.kill == "aside" and aside) or (args.kill == "swapped" and not aside and args.no_exchange):
            die()

    model.export = export_then_die
    export_module._exchange = exchange
    os.replace = replace
    export_module.export_saved_model(model, args.path, metadata={"version": args.version},
                                     probe_inputs=np.ones((2, 3), np.float32), overwrite=True)
    return 0


def hold_lock(args):
    from autonas.engine.search_lock import search_lock

    with search_lock(args.directory):
        print("held", flush=True)
        time.sleep(600)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    searching = commands.add_parser("search")
    searching.add_argument("directory")
    searching.add_argument("output")
    searching.add_argument("--interrupt", default=None)
    exporting = commands.add_parser("export")
    exporting.add_argument("path")
    exporting.add_argument("version", type=int)
    exporting.add_argument("--kill", default=None, choices=["export", "swapped", "aside"])
    exporting.add_argument("--no-exchange", action="store_true")
    holding = commands.add_parser("hold-lock")
    holding.add_argument("directory")
    args = parser.parse_args()
    return {"search": search, "export": export, "hold-lock": hold_lock}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
