"""Search digits with a chief and workers, by keras-tuner's chief/worker convention.

Every process runs this same script; the environment says which part it plays:
KERASTUNER_TUNER_ID ("chief", or "tuner0", "tuner1", ... for workers), KERASTUNER_ORACLE_IP and
KERASTUNER_ORACLE_PORT (where the chief listens). By hand, on machines sharing a disk:

    export KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000
    KERASTUNER_TUNER_ID=chief  python examples/distributed_search.py --directory /shared/runs   # on 10.0.0.1
    KERASTUNER_TUNER_ID=tuner0 python examples/distributed_search.py --directory /shared/runs
    KERASTUNER_TUNER_ID=tuner1 python examples/distributed_search.py --directory /shared/runs

Without KERASTUNER_TUNER_ID it starts a chief and `--workers` workers of itself on this machine
(loopback, a free port, a temporary directory) and relays their output, each line prefixed by
its process:

    python examples/distributed_search.py --workers 2

The workers run the trials; the chief hands them out, then retrains the best architecture and
scores it on held-out digits. The chief's last line (and, when this script starts the cluster,
this script's) is one JSON object: completed_trials, best_score, best_architecture,
test_accuracy, trials_per_worker, reissued_trials, seconds. A worker's last line is its own
JSON object (role, trials it ran). Tiny settings: a few minutes on 2 CPU cores.
"""
import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("AUTONAS_QUIET_START", "1")  # no TensorFlow start-up notices (autonas.quiet_start)

OPERATIONS = ["conv_3x3", "sep_conv_3x3", "max_pool_3x3", "identity"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="workers to start when no KERASTUNER_TUNER_ID is set")
    parser.add_argument("--oracle", default="evolution", help="random, evolution or reinforce")
    parser.add_argument("--max-trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per search trial")
    parser.add_argument("--final-epochs", type=int, default=8, help="epochs of the chief's retraining")
    parser.add_argument("--time-limit", default=None, help="e.g. 5m; each process counts from its own start")
    parser.add_argument("--directory", default=None,
                        help="shared project directory (required with KERASTUNER_TUNER_ID set)")
    return parser.parse_args()


def search(args):
    """This process's part: fit the classifier; print the chief's or the worker's summary."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import autonas

    start = time.monotonic()
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    clf = autonas.ImageSearchClassifier(
        max_trials=args.max_trials, epochs=args.epochs, final_epochs=args.final_epochs, time_limit=args.time_limit,
        oracle=args.oracle,
        num_blocks=2, search_filters=8, final_filters=16, operations=OPERATIONS, batch_size=32, seed=0,
        directory=args.directory, overwrite=True)
    clf.fit(x_train, y_train)
    if clf.search_role_ == "worker":
        print(json.dumps({"role": "worker", "tuner_id": os.environ["KERASTUNER_TUNER_ID"],
                          "trials_run": clf.worker_trials_, "seconds": round(time.monotonic() - start, 1)}))
        return
    completed = clf.leaderboard().query("status == 'COMPLETED'")["trial"]
    workers = clf.trial_workers_ or {}
    print(json.dumps({
        "completed_trials": int(len(completed)),
        "best_score": round(float(clf.best_score_), 4),
        "best_architecture": str(clf.best_genotype_),
        "test_accuracy": round(float(clf.score(x_test, y_test)), 4),
        "trials_per_worker": dict(collections.Counter(workers[trial][-1] for trial in completed if trial in workers)),
        "reissued_trials": sorted(trial for trial, tuners in workers.items() if len(tuners) > 1),
        "seconds": round(time.monotonic() - start, 1),
    }))


def launch(args):
    """Start a chief and `args.workers` workers of this script on loopback; relay their output."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = args.directory or tempfile.mkdtemp(prefix="autonas-distributed-")
    command = [sys.executable, os.path.abspath(__file__), "--oracle", args.oracle, "--max-trials",
               str(args.max_trials), "--epochs", str(args.epochs), "--final-epochs", str(args.final_epochs),
               "--directory", directory]
    if args.time_limit:
        command += ["--time-limit", args.time_limit]
    roles = ["chief"] + [f"tuner{index}" for index in range(args.workers)]
    processes, relays, last_lines = {}, [], {}
    for role in roles:
        env = dict(os.environ, KERASTUNER_TUNER_ID=role, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=str(port))
        processes[role] = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
        relay = threading.Thread(target=_relay, args=(role, processes[role].stdout, last_lines))
        relay.start()
        relays.append(relay)
    codes = {role: process.wait() for role, process in processes.items()}
    for relay in relays:
        relay.join()
    failed = {role: code for role, code in codes.items() if code != 0}
    if failed:
        sys.exit(f"processes failed (exit codes): {failed}")
    print(last_lines["chief"], flush=True)


def _relay(role, stream, last_lines):
    for line in stream:
        line = line.rstrip("\n")
        print(f"[{role}] {line}", flush=True)
        last_lines[role] = line


def main():
    args = parse_args()
    if "KERASTUNER_TUNER_ID" in os.environ:
        if args.directory is None:
            sys.exit("--directory is required in a multi-worker search: one path every process reaches.")
        search(args)
    else:
        launch(args)


if __name__ == "__main__":
    main()
