"""The mail relay of the integration suite: an aiosmtpd server in a thread of the test process.

A message counts as delivered only once the client has sent it whole, final dot included, and the
server has answered 250 (``handle_DATA``). Switches, set by the tests:

- ``mode = "greylist"``: every RCPT gets ``451`` (temporary: the sender must retry later);
- ``mode = "reject"``: the message gets ``554`` after DATA (permanent: no retry);
- ``stop()`` / ``start()``: nothing listens on the port (connection refused);
- ``hold_next_data()``: the next DATA command waits before its ``354`` answer until ``release()``:
  the client sits in the middle of DATA, the message not sent, the final dot never reached.
"""

import asyncio
import importlib
import importlib.util
import logging
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from importlib.metadata import distribution
from pathlib import Path


def _import_aiosmtpd():
    """aiosmtpd imports ``public`` (the atpublic package), a name the portal's own ``public`` app
    takes on sys.path: atpublic's module stands in for the time of aiosmtpd's import only."""
    init = Path(distribution("atpublic").locate_file("public/__init__.py"))
    before = {name: module for name, module in sys.modules.items() if name == "public" or name.startswith("public.")}
    spec = importlib.util.spec_from_file_location("public", init, submodule_search_locations=[str(init.parent)])
    atpublic = importlib.util.module_from_spec(spec)
    sys.modules["public"] = atpublic
    try:
        spec.loader.exec_module(atpublic)
        return importlib.import_module("aiosmtpd.controller"), importlib.import_module("aiosmtpd.smtp")
    finally:
        for name in [name for name in sys.modules if name == "public" or name.startswith("public.")]:
            if name not in before:
                del sys.modules[name]
        sys.modules.update(before)


_controller, _smtp = _import_aiosmtpd()
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
Controller, SMTP, syntax = _controller.Controller, _smtp.SMTP, _smtp.syntax
MESSAGE_ID_PID = re.compile(r"<\d+\.(\d+)\.\d+@")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: tuple

    @property
    def subject(self) -> str:
        # Decoded and unfolded (a long encoded subject starts on a continuation line).
        return " ".join(str(self.message["Subject"]).split())

    @property
    def sender_pid(self) -> int:
        """The process that built the message: Python's make_msgid() puts its pid in Message-ID."""
        return int(MESSAGE_ID_PID.match(self.message["Message-ID"]).group(1))

    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


class Handler:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.mode = "accept"
        self.messages: list[Received] = []
        self.rcpt_attempts: list[tuple[float, str]] = []  # (monotonic time, recipient) of every RCPT
        self.hold = False
        self.held = threading.Event()
        self.released = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts.append((time.monotonic(), address))
        if self.mode == "greylist":
            return "451 4.7.1 Greylisting : réessayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "reject":
            return "554 5.7.1 Message refusé"
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, session.peer))
        return "250 2.0.0 Message accepté"


class HoldingSMTP(SMTP):
    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        handler: Handler = self.event_handler
        if handler.hold:
            handler.hold = False
            handler.held.set()
            # A dead client cancels this coroutine (connection lost): nothing is stored.
            while not handler.released.is_set():
                await asyncio.sleep(0.05)
        await super().smtp_DATA(arg)


class Relay(Controller):
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        super().__init__(Handler(), hostname="127.0.0.1", port=port)
        self.running = False

    def factory(self) -> SMTP:
        return HoldingSMTP(self.handler, **self.SMTP_kwargs)

    def start(self) -> None:
        if self.loop.is_closed():  # stopped before: a new loop on the same port
            self.loop = asyncio.new_event_loop()
        super().start()
        self.running = True

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.running = False

    # --- what the tests read and switch -------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        return list(self.handler.messages)

    def to(self, address: str) -> list[Received]:
        return [message for message in self.handler.messages if address in message.rcpt_tos]

    def set_mode(self, mode: str) -> None:
        assert mode in {"accept", "greylist", "reject"}
        self.handler.mode = mode

    def hold_next_data(self) -> threading.Event:
        """Returns the event set once a client is held in DATA."""
        self.handler.hold = True
        return self.handler.held

    def release(self) -> None:
        self.handler.released.set()

    def reset(self) -> None:
        self.release()
        self.handler.reset()
        if not self.running:
            self.start()
