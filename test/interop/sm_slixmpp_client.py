#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client with XEP-0198 for sm-slixmpp.test.ts.

Plain TCP on loopback (no TLS: the test is about stream management), SCRAM-SHA-1, the
xep_0198 plugin enabling stream management with resumption. Reports JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "sm_enabled", "id": ..., "resume": ...}
  {"event": "session_resumed", "h": ...}
  {"event": "sm_failed"}
  {"event": "message", "from": ..., "id": ..., "body": ...}
  {"event": "stanza_acked", "id": ...}
  {"event": "handled", "h": ...}               (answer to {"cmd": "handled"})
  {"event": "disconnected", "reason": ...}
  {"event": "timeout"}

Commands (JSON lines on stdin):
  {"cmd": "send", "to": ..., "body": ..., "id": ...}
  {"cmd": "request_ack"}                       (send <r/>)
  {"cmd": "handled"}                           (report the inbound counter)
  {"cmd": "drop"}                              (abort the TCP connection, then reconnect and resume)
  {"cmd": "quit"}                              (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import argparse
import asyncio
import json
import os
import sys

import slixmpp


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class SmClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password, address):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-1")
        self.address = address
        self.dropping = False
        self.done = asyncio.Event()
        self.register_plugin("xep_0198")
        self.add_event_handler("session_start", lambda _e: report("session_start", jid=str(self.boundjid)))
        self.add_event_handler("sm_enabled", lambda s: report("sm_enabled", id=s["id"], resume=bool(s["resume"])))
        self.add_event_handler("session_resumed", lambda s: report("session_resumed", h=s["h"]))
        self.add_event_handler("sm_failed", lambda _s: report("sm_failed"))
        self.add_event_handler("stanza_acked", lambda s: report("stanza_acked", id=s["id"]))
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_connection_failed)

    def on_message(self, msg):
        report("message", **{"from": str(msg["from"]), "id": msg["id"], "body": msg["body"]})

    def on_connection_failed(self, exc):
        report("connection_failed", error=str(exc))
        self.done.set()

    def on_disconnected(self, reason):
        report("disconnected", reason=str(reason))
        if self.dropping:
            self.dropping = False
            self.open()
        else:
            self.done.set()

    def open(self):
        self.connect(self.address, use_ssl=False, force_starttls=False, disable_starttls=True)


async def read_commands(xmpp):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        c = cmd.get("cmd")
        if c == "send":
            msg = xmpp.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
            if cmd.get("id"):
                msg["id"] = cmd["id"]
            msg.send()
        elif c == "request_ack":
            xmpp["xep_0198"].request_ack()
        elif c == "handled":
            report("handled", h=xmpp["xep_0198"].handled)
        elif c == "drop":
            xmpp.dropping = True
            xmpp.transport.abort()
        elif c == "quit":
            break
    xmpp.disconnect()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()

    loop = asyncio.get_running_loop()

    def hard_timeout():
        report("timeout")
        os._exit(3)

    loop.call_later(args.timeout, hard_timeout)

    xmpp = SmClient(args.jid, args.password, (args.host, args.port))
    xmpp.open()
    commands = asyncio.ensure_future(read_commands(xmpp))
    await xmpp.done.wait()
    commands.cancel()
    report("exit")


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
