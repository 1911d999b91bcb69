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
import os
import sys

from slixmpp.exceptions import IqError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp_common import InteropClient, arguments, report, run  # noqa: E402

BLOCKING_ERRORS = "{urn:xmpp:blocking:errors}blocked"


class Client(InteropClient):
    def __init__(self, args):
        super().__init__(args.jid, args.password, "SCRAM-SHA-256", (args.host, args.port), args.cafile,
                         plugins=["xep_0030", "xep_0191", "xep_0280"])
        self.add_event_handler("session_start", lambda _e: report("session_start", jid=str(self.boundjid)))
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message_error)
        self.add_event_handler("carbon_received", lambda m: self.on_carbon("carbon_received", m["carbon_received"]))
        self.add_event_handler("carbon_sent", lambda m: self.on_carbon("carbon_sent", m["carbon_sent"]))
        self.add_event_handler("blocked", lambda iq: report("blocked_push", jids=sorted(str(j) for j in iq["block"]["items"])))
        self.add_event_handler("failed_all_auth", lambda _: report("failed_all_auth"))

    def on_message(self, msg):
        if msg["type"] != "error" and msg["body"]:
            report("message", **{"from": str(msg["from"]), "type": msg["type"], "id": msg["id"], "body": msg["body"]})

    def on_message_error(self, msg):
        blocked = msg.xml.find("{jabber:client}error/" + BLOCKING_ERRORS) is not None
        report("message_error", id=msg["id"], condition=msg["error"]["condition"], blocked=blocked)

    def on_carbon(self, event, inner):
        report(event, **{"from": str(inner["from"]), "to": str(inner["to"]), "body": inner["body"]})

    async def on_command(self, cmd):
        name = cmd.get("cmd")
        try:
            if name == "send":
                msg = self.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
                msg["id"] = cmd.get("id", "")  # no id unless given ('' drops the one slixmpp made up)
                msg.send()
            elif name == "enable_carbons":
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


if __name__ == "__main__":
    args = arguments().parse_args()
    run(args, lambda: Client(args))
