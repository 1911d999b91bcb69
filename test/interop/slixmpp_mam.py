#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client with XEP-0313 for mam.test.ts.

Plain TCP on loopback (the test is about the archive), SCRAM-SHA-1, the xep_0313 plugin.
Reports JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "message", "from": ..., "id": ..., "body": ..., "stanza_id": ..., "stanza_id_by": ...}
  {"event": "mam_page", "results": [{"id", "from", "to", "body", "stamp", "queryid"}...],
                        "first": ..., "last": ..., "count": ..., "complete": ...}
  {"event": "mam_iterated", "results": [...]}   (answer to "iterate": every page through RSM)
  {"event": "mam_error", "condition": ...}
  {"event": "disconnected", "reason": ...}
  {"event": "timeout"}

Commands (JSON lines on stdin):
  {"cmd": "send", "to": ..., "body": ..., "id": ...}
  {"cmd": "retrieve", "with": ..., "max": ...}   (one query: xep_0313.retrieve)
  {"cmd": "iterate", "with": ..., "page": ...}   (xep_0313.iterate: RSM <after/> paging)
  {"cmd": "quit"}                                (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import argparse
import asyncio
import json
import os
import sys

import slixmpp
from slixmpp.exceptions import IqError


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def describe(result_msg):
    """One MAM <result/> message as a dict."""
    res = result_msg["mam_result"]
    fwd = res["forwarded"]
    inner = fwd["stanza"]
    return {
        "id": res["id"],
        "queryid": res["queryid"],
        "from": str(inner["from"]),
        "to": str(inner["to"]),
        "body": inner["body"],
        "stamp": fwd["delay"]["stamp"].isoformat() if fwd["delay"]["stamp"] else None,
    }


class MamClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password, address):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-1")
        self.address = address
        self.done = asyncio.Event()
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0059")
        self.register_plugin("xep_0297")
        self.register_plugin("xep_0313")
        self.register_plugin("xep_0359")
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", lambda exc: (report("connection_failed", error=str(exc)), self.done.set()))

    def on_session_start(self, _event):
        self.send_presence()
        report("session_start", jid=str(self.boundjid))

    def on_message(self, msg):
        if msg["mam_result"]["queryid"]:
            return  # archive results are collected by the plugin
        sid = msg.xml.find("{urn:xmpp:sid:0}stanza-id")
        report(
            "message",
            **{
                "from": str(msg["from"]),
                "id": msg["id"],
                "body": msg["body"],
                "stanza_id": sid.get("id") if sid is not None else None,
                "stanza_id_by": sid.get("by") if sid is not None else None,
            },
        )

    def on_disconnected(self, reason):
        report("disconnected", reason=str(reason))
        self.done.set()

    def open(self):
        self.connect(self.address, use_ssl=False, force_starttls=False, disable_starttls=True)


async def retrieve(xmpp, cmd):
    with_jid = slixmpp.JID(cmd["with"]) if cmd.get("with") else None
    try:
        iq = await xmpp["xep_0313"].retrieve(with_jid=with_jid, rsm={"max": cmd.get("max", 10)}, timeout=10)
    except IqError as e:
        report("mam_error", condition=e.condition)
        return
    fin = iq["mam_fin"]
    rsm = fin["rsm"]
    report(
        "mam_page",
        results=[describe(m) for m in iq["mam"]["results"]],
        first=rsm["first"],
        first_index=rsm["first_index"],
        last=rsm["last"],
        count=rsm["count"],
        complete=fin.xml.get("complete"),
    )


async def iterate(xmpp, cmd):
    with_jid = slixmpp.JID(cmd["with"]) if cmd.get("with") else None
    results = []
    try:
        async for msg in xmpp["xep_0313"].iterate(with_jid=with_jid, rsm={"max": cmd.get("page", 2)}):
            results.append(describe(msg))
    except IqError as e:
        report("mam_error", condition=e.condition)
        return
    report("mam_iterated", results=results)


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
        elif c == "retrieve":
            await retrieve(xmpp, cmd)
        elif c == "iterate":
            await iterate(xmpp, cmd)
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

    xmpp = MamClient(args.jid, args.password, (args.host, args.port))
    xmpp.open()
    commands = asyncio.ensure_future(read_commands(xmpp))
    await xmpp.done.wait()
    commands.cancel()
    report("exit")


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
