"""The floor of a send: a plain asyncio SMTP client that sends every `.eml` file under a
folder (sorted by path), each envelope pipelined with its DATA command (RFC 2920), over a
number of connections that share the files between them.

    python bench/baselines/pipelined_smtp.py HOST PORT FOLDER CONNECTIONS [--limit N]

The recipient is the file's name without `.eml`. Each file is read when its turn comes, as a
sender reads its outbox. Prints: messages, seconds, messages per second. Shares no code with
civic-contacts.
"""

import argparse
import asyncio
import os
import time


async def reply(reader: asyncio.StreamReader) -> bytes:
    """One whole reply (its last line); fails on anything but 2xx or 3xx."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line[3:4] != b"-":
            if line[:1] not in (b"2", b"3"):
                raise RuntimeError(line.decode(errors="replace").strip())
            return line


def stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF lines, leading dots doubled, the end marker."""
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


async def connection(host: str, port: int, queue: list[str]) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    await reply(reader)
    writer.write(b"EHLO baseline.example.org\r\n")
    await reply(reader)
    sent = 0
    while queue:
        path = queue.pop()
        recipient = os.path.basename(path)[: -len(".eml")]
        with open(path, "rb") as handle:
            data = handle.read()
        writer.write(
            b"MAIL FROM:<press@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % recipient.encode()
        )
        await reply(reader)
        await reply(reader)
        await reply(reader)
        writer.write(stuffed(data))
        await reply(reader)
        sent += 1
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()
    return sent


async def send_all(host: str, port: int, files: list[str], connections: int) -> int:
    queue = list(reversed(files))
    counts = await asyncio.gather(*(connection(host, port, queue) for _ in range(connections)))
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("folder")
    parser.add_argument("connections", type=int)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    files = sorted(
        os.path.join(root, name)
        for root, _dirs, names in os.walk(args.folder)
        for name in names
        if name.endswith(".eml")
    )
    if args.limit:
        files = files[: args.limit]
    start = time.perf_counter()
    count = asyncio.run(send_all(args.host, args.port, files, args.connections))
    seconds = time.perf_counter() - start
    print(f"{count} {seconds:.3f} {count / seconds:.0f}")


if __name__ == "__main__":
    main()
