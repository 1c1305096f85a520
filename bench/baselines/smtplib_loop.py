"""A plain smtplib loop: every `.eml` file under a folder (sorted by path) sent with the
standard library's `smtplib.SMTP.sendmail`, one message and one reply at a time, over a number
of connections that share the files between them, each in a thread of this process or, with
`--processes`, in a process of its own.

    python bench/baselines/smtplib_loop.py HOST PORT FOLDER CONNECTIONS [--limit N] [--processes]

The recipient is the file's name without `.eml`. Each file is read when its turn comes. This
is what a careful script would write; it is not the floor of a send (smtplib waits for each
reply before the next command: see `pipelined_smtp.py`). Prints: messages, seconds, messages
per second. Shares no code with civic-contacts.
"""

import argparse
import multiprocessing
import os
import smtplib
import threading
import time


def send_share(host: str, port: int, paths: list[str]) -> None:
    with smtplib.SMTP(host, port) as smtp:
        for path in paths:
            with open(path, "rb") as handle:
                data = handle.read()
            smtp.sendmail("press@example.org", [os.path.basename(path)[:-4]], data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("folder")
    parser.add_argument("connections", type=int)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--processes", action="store_true")
    args = parser.parse_args()
    paths = sorted(
        os.path.join(root, name)
        for root, _dirs, names in os.walk(args.folder)
        for name in names
        if name.endswith(".eml")
    )
    if args.limit:
        paths = paths[: args.limit]
    shares = [paths[i :: args.connections] for i in range(args.connections)]
    start = time.perf_counter()
    if args.processes:
        context = multiprocessing.get_context("fork")
        workers: list = [
            context.Process(target=send_share, args=(args.host, args.port, share))
            for share in shares
        ]
    else:
        workers = [
            threading.Thread(target=send_share, args=(args.host, args.port, share))
            for share in shares
        ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if args.processes and any(worker.exitcode for worker in workers):
        raise SystemExit("a connection failed")
    seconds = time.perf_counter() - start
    print(f"{len(paths)} {seconds:.3f} {len(paths) / seconds:.0f}")


if __name__ == "__main__":
    main()
