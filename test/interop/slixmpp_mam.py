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
import os
import sys

import slixmpp
from slixmpp.exceptions import IqError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp_common import InteropClient, arguments, report, run  # noqa: E402


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


class MamClient(InteropClient):
    def __init__(self, args):
        super().__init__(args.jid, args.password, "SCRAM-SHA-1", (args.host, args.port),
                         plugins=["xep_0030", "xep_0059", "xep_0297", "xep_0313", "xep_0359"])
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)

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

    async def on_command(self, cmd):
        c = cmd.get("cmd")
        if c == "send":
            self.send_chat(cmd)
        elif c == "retrieve":
            await retrieve(self, cmd)
        elif c == "iterate":
            await iterate(self, cmd)


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


if __name__ == "__main__":
    args = arguments(cafile=False).parse_args()
    run(args, lambda: MamClient(args))
