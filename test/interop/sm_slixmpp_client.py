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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp_common import InteropClient, arguments, report, run  # noqa: E402


class SmClient(InteropClient):
    def __init__(self, args):
        super().__init__(args.jid, args.password, "SCRAM-SHA-1", (args.host, args.port), plugins=["xep_0198"])
        self.dropping = False
        self.add_event_handler("session_start", lambda _e: report("session_start", jid=str(self.boundjid)))
        self.add_event_handler("sm_enabled", lambda s: report("sm_enabled", id=s["id"], resume=bool(s["resume"])))
        self.add_event_handler("session_resumed", lambda s: report("session_resumed", h=s["h"]))
        self.add_event_handler("sm_failed", lambda _s: report("sm_failed"))
        self.add_event_handler("stanza_acked", lambda s: report("stanza_acked", id=s["id"]))
        self.add_event_handler("message", self.on_message)

    def on_message(self, msg):
        report("message", **{"from": str(msg["from"]), "id": msg["id"], "body": msg["body"]})

    def on_disconnected(self, reason):
        if not self.dropping:
            super().on_disconnected(reason)
            return
        report("disconnected", reason=str(reason))
        self.dropping = False
        self.open()

    async def on_command(self, cmd):
        c = cmd.get("cmd")
        if c == "send":
            self.send_chat(cmd)
        elif c == "request_ack":
            self["xep_0198"].request_ack()
        elif c == "handled":
            report("handled", h=self["xep_0198"].handled)
        elif c == "drop":
            self.dropping = True
            self.transport.abort()


if __name__ == "__main__":
    args = arguments(cafile=False).parse_args()
    run(args, lambda: SmClient(args))
