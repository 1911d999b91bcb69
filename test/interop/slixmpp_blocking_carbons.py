#!/usr/bin/python3
"""A slixmpp (Debian python3-slixmpp) client for blocking-carbons-slixmpp.test.ts, using
slixmpp's own XEP-0191 and XEP-0280 plugins. Logs in over STARTTLS (certificate verified
against --cafile) and reports as JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "carbons_enabled"} / {"event": "blocklist", "jids": [...]} / {"event": "block_done"} / {"event": "unblock_done"}
  {"event": "blocked_push", "jids": [...]}   (XEP-0191 push)
  {"event": "message", "from": ..., "type": ..., "id": ..., "body": ...}          (plain messages with a body)
  {"event": "carbon_received" | "carbon_sent", "from": ..., "to": ..., "body": ...} (the forwarded message)
  {"event": "message_error", "id": ..., "condition": ..., "blocked": bool}
  {"event": "iq_error", "cmd": ..., "condition": ...}
  {"event": "disconnected", "reason": ...} / {"event": "timeout"} / {"event": "exit"}

Commands on stdin (JSON lines): {"cmd": "enable_carbons"}, {"cmd": "get_blocklist"},
{"cmd": "block", "jids": [...]}, {"cmd": "unblock", "jids": [...]},
{"cmd": "send", "to": ..., "body": ..., "id": ...}, {"cmd": "quit"} (also on EOF).
Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import slixmpp
from slixmpp.exceptions import IqError

BLOCKING_ERRORS = "{urn:xmpp:blocking:errors}blocked"


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-256")
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0191")
        self.register_plugin("xep_0280")
        self.done = asyncio.Event()
        self.add_event_handler("session_start", lambda _e: report("session_start", jid=str(self.boundjid)))
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message_error)
        self.add_event_handler("carbon_received", lambda m: self.on_carbon("carbon_received", m["carbon_received"]))
        self.add_event_handler("carbon_sent", lambda m: self.on_carbon("carbon_sent", m["carbon_sent"]))
        self.add_event_handler("blocked", lambda iq: report("blocked_push", jids=sorted(str(j) for j in iq["block"]["items"])))
        self.add_event_handler("failed_all_auth", lambda _: report("failed_all_auth"))
        self.add_event_handler("ssl_invalid_chain", self.on_invalid_chain)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_connection_failed)

    def on_message(self, msg):
        if msg["type"] != "error" and msg["body"]:
            report("message", **{"from": str(msg["from"]), "type": msg["type"], "id": msg["id"], "body": msg["body"]})

    def on_message_error(self, msg):
        blocked = msg.xml.find("{jabber:client}error/" + BLOCKING_ERRORS) is not None
        report("message_error", id=msg["id"], condition=msg["error"]["condition"], blocked=blocked)

    def on_carbon(self, event, inner):
        report(event, **{"from": str(inner["from"]), "to": str(inner["to"]), "body": inner["body"]})

    async def run_command(self, cmd):
        name = cmd.get("cmd")
        try:
            if name == "enable_carbons":
                await self.plugin["xep_0280"].enable()
                report("carbons_enabled")
            elif name == "get_blocklist":
                iq = await self.plugin["xep_0191"].get_blocked()
                report("blocklist", jids=sorted(str(j) for j in iq["blocklist"]["items"]))
            elif name == "block":
                await self.plugin["xep_0191"].block(cmd["jids"])
                report("block_done")
            elif name == "unblock":
                await self.plugin["xep_0191"].unblock(cmd["jids"])
                report("unblock_done")
        except IqError as e:
            report("iq_error", cmd=name, condition=e.iq["error"]["condition"])

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
        if cmd.get("cmd") == "quit":
            break
        if cmd.get("cmd") == "send":
            msg = xmpp.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
            msg["id"] = cmd.get("id", "")
            msg.send()
            continue
        await xmpp.run_command(cmd)
    xmpp.disconnect()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()

    loop = asyncio.get_running_loop()

    def hard_timeout():
        report("timeout")
        os._exit(3)

    loop.call_later(args.timeout, hard_timeout)

    xmpp = Client(args.jid, args.password)
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
