"""A lean SMTP sink on loopback for benchmarks: accepts every message, counts Message-IDs.

aiosmtpd (used by the tests, which need its fault injection) spends about a millisecond of
Python per message; a sender faster than that would be measuring the sink. This one speaks
just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) with asyncio streams.
"""

from __future__ import annotations

import asyncio
import threading
import time


class LeanSink:
    """Runs in a background thread; `count`, `ids`, `first` and `last` say what arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.ids: set[str] = set()
        self.times: list[float] = []  # when each message was accepted (perf_counter)
        self.first = 0.0
        self.last = 0.0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> int:
        self._thread.start()
        self._ready.wait(10)
        return self.port

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    data = await reader.readuntil(b"\r\n.\r\n")
                    start = data.find(b"\r\nMessage-ID: ") + 14
                    message_id = data[start : data.find(b"\r\n", start)].decode()
                    now = time.perf_counter()
                    self.first = self.first or now
                    self.last = now
                    self.count += 1
                    self.ids.add(message_id)
                    self.times.append(now)
                    writer.write(b"250 2.0.0 queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        finally:
            writer.close()
