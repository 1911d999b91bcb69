#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client for roster-presence.test.ts.

Logs in over STARTTLS (required, certificate verified against --cafile), fetches the roster,
sends initial presence, and then only does what it is told: automatic subscription handling is
off, so the test drives the handshake. Reports JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed", "from": ...}
  {"event": "available", "from": ..., "show": ..., "status": ...}
  {"event": "unavailable", "from": ...}
  {"event": "roster", "items": {jid: {"subscription": ..., "pending_out": bool}}}  (after each roster change)
  {"event": "stream_error" | "failed_auth" | "disconnected" | "timeout", ...}

Commands (JSON lines on stdin):
  {"cmd": "presence", "to": ..., "type": "subscribe" | "subscribed" | ...}
  {"cmd": "roster"}        report the client's roster now
  {"cmd": "quit"}          (also on EOF)

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


class RosterClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-256")
        # No SCRAM channel-binding data: the GS2 flag is 'n' (see slixmpp_client.py).
        mechanisms = self["feature_mechanisms"]
        default_credentials = mechanisms.sasl_callback

        def credentials(required, optional):
            values = default_credentials(required, optional)
            values.pop("channel_binding", None)
            return values

        mechanisms.sasl_callback = credentials
        # The test answers subscription requests itself.
        # None = leave requests to us (False would auto-deny them).
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.done = asyncio.Event()
        self.add_event_handler("session_start", self.on_session_start)
        for kind in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
            self.add_event_handler("presence_" + kind, self.reporter(kind))
        self.add_event_handler("presence_available", self.on_available)
        self.add_event_handler("presence_unavailable", lambda p: report("unavailable", **{"from": str(p["from"])}))
        self.add_event_handler("roster_update", lambda _iq: self.report_roster())
        self.add_event_handler("failed_auth", lambda f: report("failed_auth", condition=f["condition"]))
        self.add_event_handler("stream_error", lambda e: report("stream_error", condition=e["condition"], text=e["text"]))
        self.add_event_handler("ssl_invalid_chain", self.on_invalid_chain)
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("disconnected", self.on_disconnected)

    def reporter(self, kind):
        def handler(presence):
            report(kind, **{"from": str(presence["from"])})
        return handler

    def on_available(self, presence):
        report("available", **{"from": str(presence["from"]), "show": presence["show"], "status": presence["status"]})

    def report_roster(self):
        roster = self.client_roster
        items = {}
        for jid in roster:
            item = roster[jid]
            items[str(jid)] = {"subscription": item["subscription"], "pending_out": bool(item["pending_out"])}
        report("roster", items=items)

    async def on_session_start(self, _event):
        await self.get_roster()
        self.send_presence()
        report("session_start", jid=str(self.boundjid))
        self.report_roster()

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
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("cmd") == "presence":
            xmpp.send_presence(pto=cmd["to"], ptype=cmd["type"])
            report("sent", to=cmd["to"], type=cmd["type"])
        elif cmd.get("cmd") == "roster":
            xmpp.report_roster()
        elif cmd.get("cmd") == "quit":
            break
    xmpp.disconnect()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    loop = asyncio.get_running_loop()

    def hard_timeout():
        report("timeout")
        os._exit(3)

    loop.call_later(args.timeout, hard_timeout)

    xmpp = RosterClient(args.jid, args.password)
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
