#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd, as scripts/test pins it) that keeps nothing but one line per
mail it accepted, for tests/load/checkout-journey.sh to count:

    <unix time the DATA was accepted> <Message-ID> <Subject>

The file is written line by line (flushed after each mail), so `wc -l` reads the count while
the server runs. Stops on SIGTERM or SIGINT.

Usage: python3 tests/load/smtp-sink.py PORT LOGFILE
"""

import asyncio
import signal
import sys
import time
from email.parser import BytesHeaderParser
from email.policy import default

from aiosmtpd.controller import Controller


class Count:
    def __init__(self, log):
        self.log = log
        self.parser = BytesHeaderParser(policy=default)

    async def handle_DATA(self, server, session, envelope):
        accepted = time.time()
        headers = self.parser.parsebytes(envelope.original_content or envelope.content)
        message_id = (headers.get("Message-ID") or "-").strip()
        subject = " ".join(str(headers.get("Subject") or "").split())
        self.log.write(f"{accepted:.6f} {message_id} {subject}\n")
        self.log.flush()
        return "250 OK"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "a", encoding="utf-8") as log:
        controller = Controller(Count(log), hostname="127.0.0.1", port=port)
        controller.start()
        print(f"smtp sink listening on 127.0.0.1:{port}, logging to {path}", flush=True)
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.run_until_complete(stop.wait())
        controller.stop()


if __name__ == "__main__":
    main()
