"""A send from the desk pauses and goes on: Pause stops it after the messages in hand, what is
left stays pending, and Send again sends the rest, each message exactly once."""

from __future__ import annotations

import asyncio

from civic_contacts.config import load_settings
from civic_contacts.db import make_engine, session_factory
from civic_contacts.deliver.smtp import transport_from
from civic_contacts.deliver.status import batch_status
from civic_contacts.desk.sends import Sends
from tests.conftest import Sink


class Pausing(Sink):
    """A server that presses Pause when the fifth message arrives, then answers slowly."""

    def __init__(self, sends: list[Sends]) -> None:
        super().__init__()
        self.sends = sends

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == 5:
            self.sends[0].pause("sahel-civilians")
        if len(self.received) >= 5:
            await asyncio.sleep(0.05)
        return answer


def test_pause_then_send_again_sends_each_message_once(demo, db_url: str) -> None:
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    holder: list[Sends] = []
    sink = Pausing(holder)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    engine = make_engine(db_url)
    try:
        settings = load_settings(db=db_url)
        sends = Sends(
            engine, settings, lambda: transport_from(settings, "127.0.0.1", port, "none"), True
        )
        holder.append(sends)
        sends.start("sahel-civilians", "ana")
        sends.runs["sahel-civilians"].thread.join(60)
        assert sends.outcome("sahel-civilians") == "paused"
        first = len(sink.received)
        with session_factory(engine)() as session:
            status = batch_status(session, "sahel-civilians")
        assert 5 <= first < 41 and status.counts["pending"] == 41 - first
        sink.sends = [Sends(engine, settings, lambda: None, True)]  # no second pause
        sends.start("sahel-civilians", "ana")
        sends.runs["sahel-civilians"].thread.join(60)
        assert sends.outcome("sahel-civilians") == "finished"
        ids = sink.ids()
        assert len(ids) == 41 and len(set(ids)) == 41
    finally:
        controller.stop()
        engine.dispose()
