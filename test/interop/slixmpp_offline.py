#!/usr/bin/python3
"""A slixmpp (Debian python3-slixmpp) client for offline.test.ts: logs in over STARTTLS
(certificate verified against --cafile), sends its initial presence, and reports every message
with its XEP-0203 delay as JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "message", "from": ..., "type": ..., "id": ..., "body": ..., "delay_from": ..., "delay_stamp": ...}
  {"event": "disconnected", "reason": ...}
  {"event": "timeout"}                      (the hard timeout fired)

Commands on stdin (JSON lines): {"cmd": "quit"} (also on EOF).
Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import slixmpp


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class OfflineClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mechanism):
        super().__init__(jid, password, sasl_mech=mechanism)
        self.register_plugin("xep_0203")  # delayed delivery
        self.done = asyncio.Event()
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_all_auth", lambda _: report("failed_all_auth"))
        self.add_event_handler("stream_error", lambda err: report("stream_error", condition=err["condition"]))
        self.add_event_handler("ssl_invalid_chain", self.on_invalid_chain)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_connection_failed)

    async def on_session_start(self, _event):
        report("session_start", jid=str(self.boundjid))
        # Initial presence (priority 0): the server delivers stored messages now (XEP-0160).
        self.send_presence()

    def on_message(self, msg):
        delay = msg["delay"]
        stamp = delay["stamp"]
        report(
            "message",
            **{
                "from": str(msg["from"]),
                "type": msg["type"],
                "id": msg["id"],
                "body": msg["body"],
                "delay_from": str(delay["from"]) if delay["from"] else None,
                "delay_stamp": stamp.isoformat() if stamp else None,
            },
        )

    def on_invalid_chain(self, exc):
        report("ssl_invalid_chain", error=str(exc))
        self.abort()

    def on_connection_failed(self, exc):
        report("connection_failed", error=str(exc))
        self.done.set()

    def on_disconnected(self, reason):
        report("disconnected", reason=str(reason))
        self.done.set()


async def read_commands(xmpp):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.strip()
        if line and json.loads(line).get("cmd") == "quit":
            break
    xmpp.disconnect()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--mechanism", default="SCRAM-SHA-256")
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()

    loop = asyncio.get_running_loop()

    def hard_timeout():
        report("timeout")
        os._exit(3)

    loop.call_later(args.timeout, hard_timeout)

    xmpp = OfflineClient(args.jid, args.password, args.mechanism)
    xmpp.ca_certs = Path(args.cafile)
    xmpp.connect((args.host, args.port), use_ssl=False, force_starttls=True, disable_starttls=False)
    commands = asyncio.ensure_future(read_commands(xmpp))
    await xmpp.done.wait()
    commands.cancel()
    report("exit")


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
